"""Every picture ends crisp: the instant picture is the painting's pixels voted along the swap's own field, and
an optimised render's last frame is copied from the painting at the render's scale."""
from __future__ import annotations

import numpy as np
import torch

from doodlepaint.engine import optimise, synthesis
from doodlepaint.engine.images import resize_nearest
from doodlepaint.engine.tensors import frame_array
from doodlepaint.engine.params import TransferParams, TransferRequest
from doodlepaint.engine.swap import swap_image_and_field
from doodlepaint.engine.transfer import plan_phases, run_transfer
from doubles import TinyEncoder
from engine_helpers import PALETTE_RB


def textured_scene(size: int = 64):
    """Strokes of a warm texture on top (label 0) and a cool one below (label 1); the doodle puts the cool
    label on the left and the warm one on the right."""
    rng = np.random.default_rng(2)
    style = np.zeros((size, size, 3), np.int64)
    style[: size // 2] = (200, 90, 40)
    style[size // 2:] = (40, 90, 200)
    style = (style + rng.integers(-50, 51, (size, size, 1))).clip(0, 255).astype(np.uint8)
    style_ids = np.zeros((size, size), np.int64)
    style_ids[size // 2:] = 1
    target = np.zeros((size, size), np.int64)
    target[:, : size // 2] = 1
    return style, style_ids, target


def high_pass(image: np.ndarray) -> float:
    grey = image.astype(float).mean(-1)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def test_the_instant_picture_is_the_painting_voted_along_the_swaps_field(tiny_decoder):
    style, style_ids, target = textured_scene()
    request = TransferRequest(style, style_ids, target, PALETTE_RB, TransferParams(method="swap", seed=3))
    plan = plan_phases(request)[-1]
    decoded, field = swap_image_and_field(request, plan, TinyEncoder(), torch.device("cpu"),
                                          torch.Generator().manual_seed(3))
    # the field: a painting pixel for every relu3_1 position, inside the painting, of the position's label
    assert field.sources.shape[:2] == (plan.height // 2, plan.width // 2)       # TinyEncoder pools relu3 by 2
    assert field.painting_size == (plan.style_height, plan.style_width)
    sources = field.sources
    assert sources.min() >= 0 and sources[..., 0].max() < plan.style_height and sources[..., 1].max() < plan.style_width
    centres = resize_nearest(target, sources.shape[1], sources.shape[0])
    assert (style_ids[sources[..., 0], sources[..., 1]] == centres).mean() > 0.9
    frame = list(run_transfer(request, device="cpu", encoder=TinyEncoder()))[-1].frame
    # the painting's own strokes, not the decoder's smooth picture, each label in its own colours
    assert high_pass(frame) > 0.6 * high_pass(style) > high_pass(decoded[0].permute(1, 2, 0).numpy())
    assert (frame[:, 8:24, 2].astype(int) > frame[:, 8:24, 0]).mean() > 0.95
    assert (frame[:, 40:56, 0].astype(int) > frame[:, 40:56, 2]).mean() > 0.95


def test_an_optimised_render_ends_with_its_picture_copied_from_the_painting(monkeypatch):
    style, style_ids, target = textured_scene()
    request = TransferRequest(style, style_ids, target, PALETTE_RB,
                              TransferParams(phases=1, iterations=2, match_every=1))
    calls = []
    original = synthesis.crisp_picture

    def recorded(request, plan, image, **kwargs):
        result = original(request, plan, image, **kwargs)
        calls.append((plan, result))
        return result

    monkeypatch.setattr(optimise, "crisp_picture", recorded)
    frames = list(run_transfer(request, device="cpu", encoder=TinyEncoder()))
    assert len(calls) == 1 and calls[0][0] == plan_phases(request)[-1]
    np.testing.assert_array_equal(frames[-1].frame, frame_array(calls[0][1]))
    assert not any(f.done for f in frames[:-1]) and frames[-1].done
    assert high_pass(frames[-1].frame) > 0.6 * high_pass(style)


def test_a_render_stopped_during_its_last_step_returns_nothing(monkeypatch):
    style, style_ids, target = textured_scene()
    request = TransferRequest(style, style_ids, target, PALETTE_RB,
                              TransferParams(phases=1, iterations=2, match_every=1))
    stopping = []
    monkeypatch.setattr(optimise, "crisp_picture", lambda *args, **kwargs: stopping.append(1))   # None: stopped
    frames = list(run_transfer(request, device="cpu", encoder=TinyEncoder()))
    assert stopping and not any(f.done for f in frames)
