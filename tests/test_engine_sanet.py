"""SANet (engine/sanet.py): module shapes, the label masks on the attention, training steps, the shipped
weights, and `--method sanet` through the render path."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from doodlepaint.engine.errors import DoodleError, LabelMapError
from doodlepaint.engine.label_colours import COLOUR_SCALE_LIMIT, LabelColours, match_label_colours_and_detail
from doodlepaint.engine.params import TransferParams, TransferRequest
from doodlepaint.engine.sanet import (SANet, StyleAttention, STRICT_GAMMA, content_share, foreign_weight,
                                      interpolate_styles, label_bias, label_colour_strength, mean_variance_norm,
                                      run_sanet,
                                      sanet_from_bytes, save_weights, shipped_record, get_sanet)
from doodlepaint.engine.transfer import render
from doodlepaint.engine.vgg import get_encoder
from doodlepaint.train.data import ImageBank
from doodlepaint.train.sanet import SANetTraining, Trainer

PALETTE = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)


def _halves(height: int, width: int) -> np.ndarray:
    ids = np.zeros((height, width), dtype=np.int64)
    ids[:, width // 2:] = 1
    return ids


def _noise(seed: int, side: int) -> torch.Tensor:
    """A (3, side, side) uint8 image of uniform noise."""
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (3, side, side), dtype=np.uint8))


def _bank(*images: torch.Tensor) -> ImageBank:
    """A training ImageBank holding these (3, H, W) uint8 images, without files."""
    bank = ImageBank.__new__(ImageBank)
    bank.images = list(images)
    return bank


def _scene(side=64, **params) -> TransferRequest:
    rng = np.random.default_rng(0)
    style = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    style[:, side // 2:] //= 4        # the right half dark
    content = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    return TransferRequest(style, _halves(side, side), _halves(side, side), PALETTE,
                           TransferParams(method="sanet", **params), content=content)


def test_style_attention_keeps_the_content_shape_and_attends_over_style_positions():
    module = StyleAttention(16)
    content, style = torch.randn(2, 16, 5, 7), torch.randn(2, 16, 3, 4)
    assert module(content, style).shape == (2, 16, 5, 7)
    weights = module.attention(content, style)
    assert weights.shape == (2, 35, 12)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 35))


def test_mean_variance_norm_gives_zero_mean_unit_std_per_channel():
    out = mean_variance_norm(torch.randn(2, 3, 8, 8) * 5 + 3)
    assert torch.allclose(out.mean((2, 3)), torch.zeros(2, 3), atol=1e-5)
    assert torch.allclose(out.std((2, 3), unbiased=False), torch.ones(2, 3), atol=1e-3)


def test_sanet_decodes_vgg_features_to_an_image_of_the_input_size():
    encoder = get_encoder()
    model = SANet(width=0.25)
    content = encoder(torch.rand(1, 3, 64, 96) * 255, ("relu4_1", "relu5_1"))
    style = encoder(torch.rand(1, 3, 48, 48) * 255, ("relu4_1", "relu5_1"))
    assert model.transform(content, style).shape == (1, 512, 8, 12)
    assert model(content, style).shape == (1, 3, 64, 96)


def _attention_with_labels(gamma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    module = StyleAttention(8)
    content, style = torch.randn(1, 8, 4, 6), torch.randn(1, 8, 4, 4)
    content_ids = torch.from_numpy(_halves(32, 48))      # left half label 0, right half label 1
    style_ids = torch.from_numpy(_halves(32, 32))
    bias = label_bias(content_ids, style_ids, 2, (4, 6), (4, 4), gamma)
    weights = module.attention(content, style, bias)[0]
    own = (torch.arange(6) >= 3).repeat(4)[:, None] == (torch.arange(4) >= 2).repeat(4)[None, :]
    return weights, own, module.attention(content, style)[0]


def test_at_strict_gamma_a_position_never_attends_to_another_labels_style():
    weights, own, _ = _attention_with_labels(STRICT_GAMMA)
    assert weights[~own].abs().max() == 0.0
    assert torch.allclose(weights.sum(-1), torch.ones(24))


def test_a_low_gamma_only_weakens_other_labels_and_gamma_zero_is_unmasked():
    soft, own, unmasked = _attention_with_labels(10.0)
    foreign_share, unmasked_share = soft[~own].sum(), unmasked[~own].sum()
    assert 0 < foreign_share < unmasked_share
    assert torch.allclose(_attention_with_labels(0.0)[0], unmasked)
    assert foreign_weight(0.0) == 1.0 and foreign_weight(10.0) == pytest.approx(0.1)


def test_a_label_lost_by_pooling_keeps_the_unmasked_attention_instead_of_nan():
    content_ids = torch.ones(32, 32, dtype=torch.long)
    style_ids = torch.zeros(32, 32, dtype=torch.long)
    style_ids[0, 0] = 1                                   # label 1 is a single pixel of the style map
    bias = label_bias(content_ids, style_ids, 2, (2, 2), (2, 2), STRICT_GAMMA)
    assert torch.isfinite(bias).all()


def test_alpha_maps_the_photo_weight_slider_to_a_share():
    assert content_share(0) == 0 and content_share(10) == pytest.approx(0.1) and content_share(500) == 1


@pytest.mark.slow
def test_a_few_training_steps_lower_the_loss():
    torch.manual_seed(0)
    photo = _noise(0, 48)
    painting = torch.zeros(3, 48, 48, dtype=torch.uint8)
    painting[0] = 200
    painting[:, ::4] = 40                                 # stripes
    photos, paintings = _bank(photo), _bank(painting)
    config = SANetTraining(width=0.25, crop=32, batch=2, steps=40, lr=1e-3, short_side=None)
    trainer = Trainer(config, photos, paintings, None)
    log = trainer.run(log_every=10, out=open("/dev/null", "w"))
    assert [entry["step"] for entry in log] == [10, 20, 30, 40]
    assert log[-1]["loss"] < 0.7 * log[0]["loss"]


@pytest.mark.slow
def test_a_few_masked_training_steps_lower_the_loss():
    torch.manual_seed(0)
    photo = _noise(0, 48)
    painting = torch.zeros(3, 48, 48, dtype=torch.uint8)
    painting[0, :, :24] = 220                             # a bright red left half with stripes, a dark blue right
    painting[:, ::4, :24] = 60
    painting[2, :, 24:] = 90
    photos, paintings = _bank(photo), _bank(painting)
    config = SANetTraining(width=0.25, crop=32, batch=2, steps=40, lr=1e-3, short_side=None, masked=1.0)
    log = Trainer(config, photos, paintings, None).run(log_every=10, out=open("/dev/null", "w"))
    assert log[-1]["loss"] < 0.7 * log[0]["loss"]


@pytest.mark.slow
def test_training_resumes_from_its_checkpoint(tmp_path):
    bank = _bank(_noise(1, 40))
    config = SANetTraining(width=0.25, crop=32, batch=1, steps=3, short_side=None)
    Trainer(config, bank, bank, tmp_path).run(steps=2, out=open("/dev/null", "w"))
    resumed = Trainer(config, bank, bank, tmp_path)
    assert resumed.step == 2
    resumed.run(out=open("/dev/null", "w"))
    assert resumed.step == 3


@pytest.mark.slow
def test_the_record_keeps_each_stage_of_a_run_resumed_with_other_settings(tmp_path):
    bank = _bank(_noise(3, 40))
    quiet = open("/dev/null", "w")
    config = SANetTraining(width=0.25, crop=32, batch=1, steps=2, short_side=None)
    Trainer(config, bank, bank, tmp_path).run(out=quiet)
    longer = config.__class__(**{**config.__dict__, "steps": 3})    # the same training, only further
    Trainer(longer, bank, bank, tmp_path).run(out=quiet)
    other = config.__class__(**{**config.__dict__, "steps": 5, "lr": 5e-5, "crop": 24})
    trainer = Trainer(other, bank, bank, tmp_path)
    assert trainer.optimiser.param_groups[0]["lr"] == 5e-5          # not the checkpoint's rate
    trainer.run(out=quiet)
    stages = trainer.record()["stages"]
    assert [(stage["from_step"], stage["to_step"]) for stage in stages] == [(0, 3), (3, 5)]
    assert [(stage["config"]["lr"], stage["config"]["crop"]) for stage in stages] == [(1e-4, 32), (5e-5, 24)]
    assert Trainer(other, bank, bank, tmp_path).record()["stages"] == stages     # kept in the checkpoint


@pytest.mark.slow
def test_a_checkpoint_from_before_a_setting_existed_resumes_in_its_stage(tmp_path):
    bank = _bank(_noise(4, 40))
    quiet = open("/dev/null", "w")
    config = SANetTraining(width=0.25, crop=32, batch=1, steps=2, short_side=None)
    Trainer(config, bank, bank, tmp_path).run(out=quiet)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    for stage in saved["stages"]:
        del stage["config"]["masked"]             # saved before --masked existed: trained unmasked
    torch.save(saved, tmp_path / "checkpoint.pt")
    trainer = Trainer(config.__class__(**{**config.__dict__, "steps": 3}), bank, bank, tmp_path)
    trainer.run(out=quiet)
    assert [(stage["from_step"], stage["to_step"]) for stage in trainer.record()["stages"]] == [(0, 3)]
    masked = Trainer(config.__class__(**{**config.__dict__, "steps": 4, "masked": 0.5}), bank, bank, tmp_path)
    masked.run(out=quiet)
    assert [stage["config"].get("masked") for stage in masked.record()["stages"]] == [None, 0.5]


def test_masked_training_splits_each_image_into_its_darker_and_brighter_half():
    from doodlepaint.train.sanet import luminance_labels, masked_mean_std

    images = torch.zeros(2, 3, 32, 32)
    images[0, :, :, 24:] = 200           # a bright right quarter
    images[1, :, :8] = 90                # a grey top quarter
    ids = luminance_labels(images)
    assert (ids[0, :, :24] == 0).all() and (ids[0, :, 24:] == 1).all()
    assert (ids[1, :8] == 1).all() and (ids[1, 8:] == 0).all()
    features = torch.ones(1, 1, 4, 4)
    features[..., 2:] = torch.tensor([2.0, 4.0])          # the right half 2, 4, 2, 4...: mean 3, spread 1
    weights = torch.zeros(1, 2, 4, 4)
    weights[:, 0, :, :2] = 1
    weights[:, 1, :, 2:] = 1
    mean, std = masked_mean_std(features, weights)
    assert torch.allclose(mean[0, :, 0], torch.tensor([1.0, 3.0])) and torch.allclose(std[0, :, 0], torch.tensor([0.0, 1.0]), atol=0.01)


@pytest.mark.slow
def test_a_masked_training_step_attends_within_each_half_only():
    bank = _bank(_noise(5, 48))
    trainer = Trainer(SANetTraining(width=0.25, crop=32, batch=2, steps=1, short_side=None, masked=1.0),
                      bank, bank, None)
    seen = []
    forward = trainer.model.forward
    trainer.model.forward = lambda content, style, biases=None: seen.append(biases) or forward(content, style, biases)
    images = bank.batch(2, 32, torch.Generator().manual_seed(0))
    masked, unmasked = trainer.losses(images, images.flip(-1), masked=True), trainer.losses(images, images.flip(-1))
    assert len(seen) == 6 and all(biases is None for biases in seen[3:])
    for biases in seen[:3]:      # photo-painting, photo-photo, painting-painting, each under its labels
        assert biases["relu4_1"].shape == (2, 16, 16) and torch.isinf(biases["relu4_1"]).any()
        assert torch.isfinite(biases["relu4_1"]).any(1).all()       # every position keeps its own half
    assert masked["style"] != unmasked["style"]


def test_a_fresh_run_can_start_from_a_trained_relu4_1_decoder(tmp_path):
    from doodlepaint.engine.decoder import Decoder, save_weights as save_decoder

    torch.manual_seed(2)
    pretrained = Decoder("relu4_1", 0.25)
    pretrained.input_scale.fill_(37.0)
    (tmp_path / "r41.safetensors").write_bytes(save_decoder(pretrained, {"steps": 1}))
    bank = _bank(_noise(2, 40))
    config = SANetTraining(width=0.25, crop=32, batch=1, steps=1, short_side=None)
    model = Trainer(config, bank, bank, None, init_decoder=tmp_path / "r41.safetensors").model
    # the decoder reads relu4_1 / scale4 (the transform's relu4_1 path) as the pretrained one read relu4_1
    features = get_encoder()(torch.rand(1, 3, 32, 32) * 255, ("relu4_1",))["relu4_1"]
    assert torch.allclose(model.decoder(features / model.scale4), pretrained.half().float()(features), atol=0.5)
    level4 = torch.randn(1, 512, 4, 4)
    assert torch.allclose(model.merge(level4), level4, atol=1e-5)       # the merge starts as the identity
    with pytest.raises(SystemExit, match="width"):
        Trainer(config.__class__(width=0.5, crop=32, batch=1, steps=1, short_side=None), bank, bank, None,
                init_decoder=tmp_path / "r41.safetensors")


def test_the_record_says_how_the_starting_decoder_was_trained(tmp_path):
    from doodlepaint.engine.decoder import Decoder, save_weights as save_decoder
    from doodlepaint.train.sanet import decoder_summary

    (tmp_path / "r41.safetensors").write_bytes(save_decoder(Decoder("relu4_1", 0.25),
                                                            {"command": "train it", "steps": 7, "seconds": 3.0,
                                                    "log": [{"step": 7, "loss": 0.5}]}))
    assert decoder_summary(tmp_path / "r41.safetensors")["steps"] == 7
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    torch.save({"decoder": {}, "command": "train it", "step": 9, "seconds": 4.04, "log": [{"step": 9, "loss": 0.4}]},
               folder / "checkpoint.pt")
    summary = decoder_summary(folder)
    assert (summary["steps"], summary["seconds"], summary["last_log"]["loss"], summary["command"]) == \
        (9, 4.0, 0.4, "train it")


def test_saved_weights_load_back_and_damaged_ones_are_a_clear_error():
    model = SANet(width=0.25)
    loaded = sanet_from_bytes(save_weights(model, {"steps": 0}), "here")
    assert loaded.width == 0.25
    assert torch.allclose(loaded.merge[1].weight, model.merge[1].weight.half().float())
    with pytest.raises(DoodleError, match="damaged"):
        sanet_from_bytes(b"not a checkpoint", "here")


def test_the_shipped_weights_load_offline_and_say_how_they_were_trained():
    record = shipped_record()
    assert record["steps"] > 0 and record["photos"] > 0 and "command" in record
    assert isinstance(get_sanet("cpu"), SANet)


def test_run_sanet_yields_one_done_frame_of_the_output_size():
    items = list(run_sanet(_scene(64, size=48), model=SANet(width=0.25)))
    assert len(items) == 1 and items[0].done
    assert items[0].frame.shape == (48, 48, 3) and items[0].frame.dtype == np.uint8


@pytest.mark.slow
def test_the_picture_is_cropped_from_its_margin_in_register_with_the_photo():
    rng = np.random.default_rng(0)
    style = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    photo = np.full((96, 96, 3), 120, dtype=np.uint8)
    photo[40:56, 40:56] = 250                           # a bright square centred at (47.5, 47.5)
    request = TransferRequest(style, _halves(96, 96), _halves(96, 96), PALETTE,
                              TransferParams(method="sanet", size=96, alpha=100.0), content=photo)
    frame = next(run_sanet(request)).frame          # α 100: the photo as the shipped network paints it
    brightness = frame.astype(float).mean(2)
    rows, columns = np.nonzero(brightness > np.percentile(brightness, 97))
    assert frame.shape == (96, 96, 3)
    assert abs(rows.mean() - 47.5) < 2 and abs(columns.mean() - 47.5) < 2


def test_run_sanet_without_a_photo_uses_the_label_colours_and_is_seeded():
    request = _scene(48)
    request = TransferRequest(request.style, request.style_labels, request.target_labels, request.palette,
                              request.params)
    model = SANet(width=0.25)
    first = list(run_sanet(request, model=model))[0].frame
    again = list(run_sanet(request, model=model))[0].frame
    assert np.array_equal(first, again)


def test_run_sanet_refuses_a_label_the_painting_lacks():
    request = _scene(48)
    style_labels = np.zeros_like(request.style_labels)
    request = TransferRequest(request.style, style_labels, request.target_labels, request.palette,
                              request.params, request.content)
    with pytest.raises(LabelMapError, match="does not appear in the style map"):
        list(run_sanet(request, model=SANet(width=0.25)))


def test_run_sanet_stops_before_work_when_asked():
    assert list(run_sanet(_scene(48), should_stop=lambda: True, model=SANet(width=0.25))) == []


def test_alpha_100_gives_the_content_only_result_whatever_the_painting():
    model = SANet(width=0.25)
    a = _scene(48, alpha=100.0)
    b = TransferRequest(255 - a.style, a.style_labels, a.target_labels, a.palette, a.params, a.content)
    frame_a = list(run_sanet(a, model=model))[0].frame
    frame_b = list(run_sanet(b, model=model))[0].frame
    assert np.array_equal(frame_a, frame_b)


def test_label_colours_follow_the_mask_and_the_photo_weight():
    assert label_colour_strength(0.0, 0.0) == 0.0              # the paper's unmasked SANet is left as it is
    assert label_colour_strength(STRICT_GAMMA, 0.0) == 1.0
    assert label_colour_strength(STRICT_GAMMA, 100.0) == 0.0   # the photo as the network paints it
    assert label_colour_strength(10.0, 0.0) == pytest.approx(0.9)


def test_at_strict_gamma_each_region_takes_its_labels_colours_from_the_painting():
    torch.manual_seed(3)
    model = SANet(width=0.25)
    request = _scene(64, alpha=0.0, gamma=STRICT_GAMMA)
    frame = list(run_sanet(request, model=model))[0].frame.astype(float)
    for label in (0, 1):
        region = request.target_labels == label
        painting = request.style[request.style_labels == label].astype(float)
        assert np.allclose(frame[region].mean(0), painting.mean(0), atol=2)
    unmasked = _scene(64, alpha=0.0, gamma=0.0)
    raw = list(run_sanet(unmasked, model=model))[0].frame.astype(float)
    assert np.abs(raw[request.target_labels == 1].mean(0) - request.style[request.style_labels == 1].mean(0)).max() > 6


def test_style_interpolation_weights_pick_the_paintings():
    model = SANet(width=0.25)
    a = _scene(48, alpha=0.0)
    b = TransferRequest(255 - a.style, a.style_labels, a.target_labels, a.palette, a.params, a.content)
    only_a = interpolate_styles([a, b], [1.0, 0.0], model=model)
    assert np.array_equal(only_a, list(run_sanet(a, model=model))[0].frame)
    assert not np.array_equal(interpolate_styles([a, b], [0.5, 0.5], model=model), only_a)
    with pytest.raises(DoodleError, match="weights"):
        interpolate_styles([a, b], [0.0, 0.0], model=model)


def test_render_dispatches_method_sanet_with_the_shipped_weights():
    image, last = render(_scene(64))
    assert last.done and image.shape == (64, 64, 3)


def test_cli_renders_method_sanet_end_to_end(tmp_path):
    from doodlepaint.cli import main
    from PIL import Image

    request = _scene(64)
    paths = {}
    for name, rgb in (("style.png", request.style), ("style_sem.png", PALETTE[request.style_labels]),
                      ("doodle.png", PALETTE[request.target_labels]), ("photo.png", request.content)):
        paths[name] = tmp_path / name
        Image.fromarray(np.ascontiguousarray(rgb.astype(np.uint8))).save(paths[name])
    out = tmp_path / "out.png"
    code = main(["render", "--style", str(paths["style.png"]), "--target-map", str(paths["doodle.png"]),
                 "--content", str(paths["photo.png"]), "--method", "sanet", "--size", "64", "--out", str(out),
                 "--quiet", "--device", "cpu"])
    assert code == 0
    assert Image.open(out).size == (64, 64)


def _write_scene_files(tmp_path, request) -> dict:
    from PIL import Image

    paths = {}
    for name, rgb in (("style.png", request.style), ("style_sem.png", PALETTE[request.style_labels]),
                      ("doodle.png", PALETTE[request.target_labels]), ("photo.png", request.content),
                      ("dark.png", request.style // 3), ("dark_sem.png", PALETTE[request.style_labels])):
        paths[name] = tmp_path / name
        Image.fromarray(np.ascontiguousarray(rgb.astype(np.uint8))).save(paths[name])
    return paths


def test_cli_blends_two_paintings_with_mix_style(tmp_path, capsys):
    from doodlepaint.cli import main
    from PIL import Image

    paths = _write_scene_files(tmp_path, _scene(64))
    common = ["render", "--style", str(paths["style.png"]), "--target-map", str(paths["doodle.png"]),
              "--content", str(paths["photo.png"]), "--method", "sanet", "--size", "64", "--quiet"]
    outputs = {}
    for mix in ("0", "1"):
        outputs[mix] = tmp_path / f"mix{mix}.png"
        assert main([*common, "--mix-style", str(paths["dark.png"]), "--mix", mix, "--out", str(outputs[mix])]) == 0
    only_first = tmp_path / "first.png"
    assert main([*common, "--out", str(only_first)]) == 0
    pictures = {name: np.asarray(Image.open(path)).astype(float) for name, path in
                {**outputs, "first": only_first}.items()}
    assert np.array_equal(pictures["0"], pictures["first"])           # share 0: the first painting alone
    assert pictures["1"].mean() < pictures["0"].mean() - 10            # share 1: the dark painting's colours


def test_cli_mix_style_errors_are_clear_and_write_nothing(tmp_path, capsys):
    from doodlepaint.cli import main

    paths = _write_scene_files(tmp_path, _scene(64))
    out = tmp_path / "out.png"
    common = ["render", "--style", str(paths["style.png"]), "--target-map", str(paths["doodle.png"]),
              "--size", "64", "--quiet", "--out", str(out), "--mix-style", str(paths["dark.png"])]
    assert main([*common, "--method", "patch"]) == 2
    assert "add --method sanet" in capsys.readouterr().err
    assert main([*common, "--method", "sanet", "--mix", "1.5"]) == 2
    assert "from 0 to 1" in capsys.readouterr().err
    assert not out.exists()


def test_at_strict_gamma_the_picture_is_the_networks_with_the_paintings_colours_and_brush_marks():
    from doodlepaint.engine.tensors import label_masks

    torch.manual_seed(3)
    model = SANet(width=0.25)
    request = _scene(64, alpha=0.0, gamma=STRICT_GAMMA)
    masks = label_masks(request.target_labels, len(PALETTE), 64, 64, "cpu")

    def tensor(picture: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(picture).permute(2, 0, 1)[None].float()

    painted = next(run_sanet(request, model=model)).frame.astype(float)
    network = tensor(next(run_sanet(request, model=model, label_colours=False)).frame)
    matched = match_label_colours_and_detail(network, masks, LabelColours.of(tensor(request.style), masks))
    expected = matched[0].clamp(0, 255).permute(1, 2, 0).numpy()
    # the network's frame here is rounded to whole levels and clipped to 0..255 before the step, the app's
    # is not: the step's scales (at most COLOUR_SCALE_LIMIT) grow the half level, and a few pixels the
    # network painted beyond 0..255 differ more
    assert np.mean(np.abs(painted - expected) <= COLOUR_SCALE_LIMIT) > 0.95
    brush_marks = LabelColours.of(torch.from_numpy(painted).permute(2, 0, 1)[None].float(), masks).detail
    assert (brush_marks > 1.5 * LabelColours.of(network, masks).detail).all()
