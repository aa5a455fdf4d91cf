"""Instant previews: the semantic patch swap, the decoders, their weights file and their training."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from doodlepaint.engine import decoder as decoder_module
from doodlepaint.engine.cache import StyleCache, fingerprint, style_cache
from doodlepaint.engine.decoder import Decoder, decoder_from_bytes, save_weights
from doodlepaint.engine.errors import DoodleError, LabelMapError
from doodlepaint.engine.params import PRESETS, TransferParams, TransferRequest
from doodlepaint.engine.patch import PatchStyle, principal_directions
from doodlepaint.engine.transfer import run_transfer
from doubles import TinyEncoder


@pytest.mark.parametrize("layer, channels, factor", [("relu3_1", 256, 4), ("relu4_1", 512, 8)])
@pytest.mark.parametrize("width", [1.0, 0.25])
def test_decoder_maps_features_to_an_image_of_the_layer_scale(layer, channels, factor, width):
    decoder = Decoder(layer, width)
    out = decoder(torch.rand(2, channels, 6, 5))
    assert out.shape == (2, 3, 6 * factor, 5 * factor) and decoder.factor == factor


def test_decoder_for_an_unknown_layer_is_a_clear_error():
    with pytest.raises(DoodleError, match="no decoder for layer"):
        Decoder("relu2_2")


def test_saved_weights_round_trip_in_half_precision():
    decoder = Decoder("relu3_1", 0.25)
    decoder.input_scale.fill_(3.5)
    data = save_weights(decoder, {"steps": 7})
    loaded = decoder_from_bytes(data, "test")
    assert loaded.layer == "relu3_1" and loaded.width == 0.25 and float(loaded.input_scale) == 3.5
    features = torch.rand(1, 256, 4, 4)
    expected = decoder.eval()(features)
    assert torch.allclose(loaded(features), expected, rtol=0.02, atol=1.0)   # fp16 rounding only
    assert not any(p.requires_grad for p in loaded.parameters())


@pytest.mark.parametrize("damage", [b"", b"not a weights file", "truncated", "huge header"])
def test_damaged_weights_are_a_clear_error(damage):
    data = save_weights(Decoder("relu3_1", 0.25), {})
    data = {"truncated": data[: len(data) // 2], "huge header": (2 ** 62).to_bytes(8, "little") + data[8:]}.get(
        damage, damage)
    with pytest.raises(DoodleError, match="damaged or not a weights file"):
        decoder_from_bytes(data, "in the test")


def test_weights_of_another_kind_shape_or_with_nan_are_refused():
    from doodlepaint.engine.sanet import SANet, save_weights as save_sanet

    with pytest.raises(DoodleError, match="are sanet weights, not decoder"):
        decoder_from_bytes(save_sanet(SANet(width=0.25), {}), "in the test")
    narrow = save_weights(Decoder("relu3_1", 0.25), {})
    with pytest.raises(DoodleError, match="another version"):    # the same name, another width: shapes differ
        decoder_from_bytes(narrow.replace(b'\\"width\\": 0.25', b'\\"width\\": 0.50'), "in the test")
    poisoned = Decoder("relu3_1", 0.25)
    with torch.no_grad():
        poisoned.net[1].weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(DoodleError, match="NaN"):
        decoder_from_bytes(save_weights(poisoned, {}), "in the test")


def test_missing_shipped_weights_are_a_clear_error(monkeypatch):
    monkeypatch.setattr(decoder_module, "weights_file", lambda layer: "no_such_decoder.safetensors")
    decoder_module._cached_decoder.cache_clear()
    try:
        with pytest.raises(DoodleError, match="not installed"):
            decoder_module.get_decoder("relu3_1")
    finally:
        decoder_module._cached_decoder.cache_clear()


def test_shipped_decoder_loads_offline_and_says_how_it_was_trained():
    decoder = decoder_module.get_decoder("relu3_1")
    assert decoder.layer == "relu3_1"
    record = decoder_module.shipped_record("relu3_1")
    assert record["steps"] > 0 and "python -m doodlepaint.train.decoder" in record["command"]
    assert record["final_losses"]["loss"] > 0


def test_swap_replaces_every_patch_by_a_style_patch_of_its_own_label():
    # Style: left half label 0 with features (1, 0), right half label 1 with features (0, 1).
    style = torch.zeros(1, 2, 8, 8)
    style[:, 0, :, :4] = 1.0
    style[:, 1, :, 4:] = 1.0
    style_labels = torch.zeros(1, 2, 8, 8)
    style_labels[:, 0, :, :4] = 1.0
    style_labels[:, 1, :, 4:] = 1.0
    # Output: features that look like label 0 everywhere, but the bottom half is labelled 1.
    out = torch.zeros(1, 2, 8, 8)
    out[:, 0] = 1.0
    out_labels = torch.zeros(1, 2, 8, 8)
    out_labels[:, 0, :4] = 1.0
    out_labels[:, 1, 4:] = 1.0
    swapped = PatchStyle(style, style_labels, 3, gamma=250.0).swap(out, out_labels)
    assert swapped.shape == out.shape
    # Rows whose every covering patch lies in the bottom half took label 1's features.
    assert torch.allclose(swapped[0, :, 6:], torch.tensor([0.0, 1.0])[:, None, None].expand(2, 2, 8))
    assert torch.allclose(swapped[0, :, :2], torch.tensor([1.0, 0.0])[:, None, None].expand(2, 2, 8))
    # With gamma 0 the labels are ignored and label 0's look wins everywhere.
    unlabelled = PatchStyle(style, style_labels, 3, gamma=0.0).swap(out, out_labels)
    assert torch.allclose(unlabelled[0, 0], torch.ones(8, 8))


def test_principal_directions_keep_the_matches_of_low_rank_features():
    generator = torch.Generator().manual_seed(0)
    basis = torch.randn(4, 32, generator=generator)
    style = torch.einsum("kc,bkhw->bchw", basis, torch.rand(1, 4, 9, 9, generator=generator))
    out = torch.einsum("kc,bkhw->bchw", basis, torch.rand(1, 4, 7, 7, generator=generator))
    labels_s, labels_o = torch.ones(1, 1, 9, 9), torch.ones(1, 1, 7, 7)
    assert principal_directions(style, 4).shape == (4, 32)
    full = PatchStyle(style, labels_s, 3, 0.0).match(out, labels_o)
    reduced = PatchStyle(style, labels_s, 3, 0.0, key_channels=4).match(out, labels_o)
    assert torch.equal(full, reduced)


def test_fingerprint_changes_with_any_input_and_the_cache_builds_once():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 1
    assert fingerprint(a) == fingerprint(a.copy()) != fingerprint(b)
    assert fingerprint(a) != fingerprint(a.reshape(8, 2, 3))
    cache = StyleCache(capacity=2)
    built = []
    for key in ("x", "x", "y", "z", "x"):
        cache.get(key, lambda key=key: built.append(key) or key)
    assert built == ["x", "y", "z", "x"]      # "x" fell out when "z" came in


def _tiny_request(scene, **params) -> TransferRequest:
    style, style_ids, target_ids, palette = scene
    return TransferRequest(style, style_ids, target_ids, palette, TransferParams(method="swap", **params))


@pytest.fixture
def scene():
    style = np.zeros((48, 48, 3), np.uint8)
    style[:24] = (200, 80, 40)
    style[24:] = (30, 90, 200)
    style_ids = np.zeros((48, 48), np.int64)
    style_ids[24:] = 1
    target_ids = np.zeros((48, 48), np.int64)
    target_ids[:, 24:] = 1
    return style, style_ids, target_ids, np.array([[255, 0, 0], [0, 0, 255]], np.uint8)


def test_instant_preset_renders_one_done_frame(scene, tiny_decoder):
    request = TransferRequest(*scene, PRESETS["Instant"])
    frames = list(run_transfer(request, device="cpu", encoder=TinyEncoder()))
    assert len(frames) == 1 and frames[0].done and frames[0].fraction == 1.0
    assert frames[0].frame.shape == (48, 48, 3) and frames[0].frame.dtype == np.uint8


def test_the_painting_bank_is_built_once_across_strokes(scene, tiny_decoder):
    encoder = TinyEncoder()
    style_cache.clear()
    first = _tiny_request(scene)
    list(run_transfer(first, device="cpu", encoder=encoder))
    builds = style_cache.builds
    stroke = first.target_labels.copy()
    stroke[:10, :10] = 1
    list(run_transfer(_tiny_request(scene[:2] + (stroke, scene[3])), device="cpu", encoder=encoder))
    assert style_cache.builds == builds       # same painting: nothing set up again
    repainted = scene[1].copy()
    repainted[:4] = 1
    list(run_transfer(_tiny_request((scene[0], repainted) + scene[2:]), device="cpu", encoder=encoder))
    assert style_cache.builds == builds + 1   # the painting's map changed: its bank is rebuilt


def test_instant_render_of_a_label_missing_from_the_painting_is_the_usual_error(scene, tiny_decoder):
    style, style_ids, target_ids, palette = scene
    palette3 = np.vstack([palette, [[0, 255, 0]]]).astype(np.uint8)
    target = target_ids.copy()
    target[:8, :8] = 2
    with pytest.raises(LabelMapError):
        list(run_transfer(TransferRequest(style, style_ids, target, palette3, PRESETS["Instant"]), device="cpu"))


@pytest.mark.slow
def test_instant_render_with_the_shipped_decoder_follows_the_doodle(scene):
    """Real VGG and the shipped decoder: each half of the result takes its own label's colour."""
    request = _tiny_request(scene, size=64)
    frame = list(run_transfer(request, device="cpu"))[-1].frame.astype(float)
    left, right = frame[:, :24].mean((0, 1)), frame[:, 40:].mean((0, 1))
    assert left[0] > left[2] + 40 and right[2] > right[0] + 40     # warm red-brown left, blue right


@pytest.mark.slow
def test_training_a_few_steps_lowers_the_loss(tmp_path):
    from doodlepaint.train.data import ImageBank
    from doodlepaint.train.decoder import DecoderTraining, Trainer

    generator = np.random.default_rng(0)
    for index in range(3):
        y, x = np.mgrid[0:64, 0:64]
        rgb = np.stack([(x * (index + 1) * 3) % 256, (y * 4) % 256, ((x + y) * 2) % 256], -1).astype(np.uint8)
        rgb = np.clip(rgb + generator.integers(0, 30, rgb.shape), 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(tmp_path / f"{index}.png")
    bank = ImageBank(sorted(tmp_path.glob("*.png")))
    config = DecoderTraining(layer="relu3_1", width=0.125, crop=32, batch=2, steps=30, lr=2e-3, short_side=None)
    checkpoints = tmp_path / "checkpoints"
    trainer = Trainer(config, bank, checkpoints)
    log = trainer.run(steps=30, log_every=10, save_every=15, out=io.StringIO())
    assert log[-1]["loss"] < log[0]["loss"]
    # Resumable: a new trainer on the same folder goes on from the saved step with the same weights.
    again = Trainer(config.__class__(**{**config.__dict__, "steps": 32}), bank, checkpoints)
    assert again.step == 30 and len(again.log) == 3
    for name, tensor in trainer.decoder.state_dict().items():
        assert torch.equal(tensor, again.decoder.state_dict()[name])
    again.run(out=io.StringIO())
    assert again.step == 32


def test_swapped_training_features_come_from_another_image():
    from doodlepaint.train.decoder import swapped_features

    features = torch.zeros(2, 2, 5, 5)
    features[0, 0] = 1.0
    features[1, 1] = 1.0
    swapped = swapped_features(features, torch.Generator().manual_seed(0))
    assert torch.allclose(swapped[0], features[1]) and torch.allclose(swapped[1], features[0])


@pytest.mark.parametrize("method", ["patch", "gram"])
def test_a_second_render_of_the_same_painting_encodes_nothing_of_it_again(scene, method):
    style_cache.clear()
    encoder = TinyEncoder()
    params = TransferParams(method=method, phases=1, iterations=2)
    before = style_cache.builds
    list(run_transfer(TransferRequest(*scene, params), device="cpu", encoder=encoder))
    builds = style_cache.builds
    assert builds == before + 1                          # one per phase
    stroke = scene[2].copy()
    stroke[30:, :10] = 0
    list(run_transfer(TransferRequest(*scene[:2], stroke, scene[3], params), device="cpu", encoder=encoder))
    assert style_cache.builds == builds                  # the painting's features came from the cache
    list(run_transfer(TransferRequest(*scene, params.replace(gamma=80.0)), device="cpu", encoder=encoder))
    assert style_cache.builds == builds + 1              # a new gamma changes the patch bank: built again


def test_the_painting_cache_keeps_within_its_memory_budget():
    cache = StyleCache(capacity=10, budget=3000)
    for key in "abc":
        cache.get(key, lambda: {"bank": torch.zeros(250, dtype=torch.float32)})      # 1000 bytes each
    assert cache.builds == 3
    cache.get("d", lambda: (torch.zeros(250), torch.zeros(250)))                     # 2000 bytes: a and b go
    cache.get("c", lambda: pytest.fail("c should still be cached"))
    rebuilt = []
    cache.get("a", lambda: rebuilt.append("a") or torch.zeros(1))
    assert rebuilt == ["a"]
    huge = StyleCache(budget=10)
    value = huge.get("x", lambda: torch.zeros(100))
    assert huge.get("x", lambda: pytest.fail("the newest entry stays even over the budget")) is value
