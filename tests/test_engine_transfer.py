"""The render generator (transfer.py) driven by a tiny seeded stand-in encoder: fast, no VGG."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from doodlepaint.engine import transfer
from doodlepaint.engine.errors import Cancelled, DoodleError, LabelMapError
from doodlepaint.engine.params import PRESETS, Progress, TransferParams, TransferRequest
from doodlepaint.engine.methods import method_info
from doodlepaint.engine.optimise import Objective, phase_work
from doodlepaint.engine.plan import PhasePlan
from doodlepaint.engine.terms import ColourTerm
from doodlepaint.engine.transfer import render, run_transfer

from doubles import TinyEncoder
from engine_helpers import tiny_request

FAST = dict(phases=2, iterations=4, match_every=2)


def _run(request, **kwargs) -> list[Progress]:
    kwargs.setdefault("encoder", TinyEncoder())
    return list(run_transfer(request, **kwargs))


@pytest.fixture
def tiny_encoder_everywhere(monkeypatch):
    """render() has no encoder argument: give it the tiny encoder instead of loading VGG19."""
    monkeypatch.setattr(transfer, "get_encoder", lambda device="cpu", *a, **k: TinyEncoder())


# --- progress ------------------------------------------------------------------------------------

def test_patch_matching_makes_large_phases_weigh_more_than_their_pixels():
    small, large = (PhasePlan(w, h, w, h, 10) for w, h in ((256, 192), (1024, 768)))
    pixel_ratio = (1024 * 768) / (256 * 192)
    assert phase_work(large, matches_patches=False) / phase_work(small, matches_patches=False) == pixel_ratio
    assert phase_work(large, matches_patches=True) / phase_work(small, matches_patches=True) > 2 * pixel_ratio


@pytest.mark.parametrize("method", ["patch", "gram"])
def test_progress_fields(method):
    request = tiny_request(96, 64, method=method, **FAST)
    items = _run(request, preview_interval=0.0)
    # phase 1 (48x32) gets twice the iterations of the finest phase: 8, then 4, in rounds of at most 2
    # real L-BFGS steps (a round's line search may run out of evaluations after one step)
    phase_one = [p for p in items if p.phase == 1]
    phase_two = [p for p in items if p.phase == 2]
    assert phase_one and phase_two and len(phase_one) + len(phase_two) == len(items)
    for phase, steps in ((phase_one, 8), (phase_two, 4)):
        taken = [p.step for p in phase]
        assert taken[-1] == steps and all(p.steps == steps for p in phase)
        assert all(1 <= b - a <= 2 for a, b in zip([0] + taken, taken))
    assert all(p.phases == 2 for p in items)
    assert [p.total_step for p in items] == [p.step for p in phase_one] + [8 + p.step for p in phase_two]
    assert all(p.total_steps == 12 for p in items)
    assert [p.done for p in items] == [False] * (len(items) - 1) + [True]
    assert all(math.isfinite(p.loss) and p.loss >= 0 for p in items)
    elapsed = [p.elapsed for p in items]
    assert elapsed == sorted(elapsed)
    assert all(p.eta >= 0 for p in items) and items[-1].eta == 0.0
    fractions = [p.fraction for p in items]
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] == 1.0
    # the finer phase weighs more than its share of steps: phase one is 8 of 12 steps but a third of the work
    assert phase_one[-1].fraction < phase_one[-1].total_step / 12
    assert [len(p.phase_seconds) for p in items] == [0] * (len(phase_one) - 1) + [1] * len(phase_two) + [2]
    assert all(p.peak_memory == 0 for p in items)            # CPU
    evaluations = [p.evaluations for p in items]
    assert evaluations == sorted(evaluations) and all(e >= p.total_step for e, p in zip(evaluations, items))
    frames = [p.frame for p in items]
    assert not any(np.shares_memory(a, b) for a, b in zip(frames, frames[1:]))   # each the caller's own
    for p in items:
        assert p.frame is not None
        assert p.frame.dtype == np.uint8 and p.frame.flags.c_contiguous
        assert p.frame.shape == ((32, 48, 3) if p.phase == 1 else (64, 96, 3))


def test_frames_only_first_and_at_phase_ends_when_interval_is_infinite():
    items = _run(tiny_request(96, 64, **FAST), preview_interval=math.inf)
    with_frames = [(p.phase, p.step) for p in items if p.frame is not None]
    # the very first step always previews (first-preview latency), then only finished phases
    assert with_frames == [(items[0].phase, items[0].step), (1, 8), (2, 4)]
    assert items[-1].done and items[-1].frame.shape == (64, 96, 3)


def test_output_size_follows_size_param():
    items = _run(tiny_request(96, 64, size=72, phases=1, iterations=2, match_every=2))
    assert items[-1].frame.shape == (48, 72, 3)          # height keeps the doodle's aspect ratio


def test_phases_one_and_iterations_not_multiple_of_match_every():
    items = _run(tiny_request(96, 64, phases=1, iterations=5, match_every=2), preview_interval=0.0)
    taken = [p.step for p in items]
    assert taken[-1] == 5 and all(1 <= b - a <= 2 for a, b in zip([0] + taken, taken))
    assert items[-1].done and items[-1].total_step == 5


# --- stopping ------------------------------------------------------------------------------------

def test_should_stop_between_steps_ends_the_generator():
    seen = []
    generator = run_transfer(tiny_request(96, 64, **FAST), should_stop=lambda: len(seen) >= 2,
                             encoder=TinyEncoder(), preview_interval=0.0)
    for progress in generator:
        seen.append(progress)
    assert len(seen) == 2
    assert not any(p.done for p in seen)


def test_should_stop_from_the_start_yields_nothing():
    assert _run(tiny_request(96, 64, **FAST), should_stop=lambda: True) == []


def test_should_stop_inside_a_step_is_honoured():
    encoder = TinyEncoder()
    items = []
    # ask to stop in the middle of the first L-BFGS round (a round of 3 iterations needs at least 4 calls)
    for progress in run_transfer(tiny_request(96, 64, **FAST), should_stop=lambda: encoder.calls >= 2,
                                 encoder=encoder):
        items.append(progress)
    assert items == []
    assert encoder.calls == 2


def test_render_returns_final_frame(tiny_encoder_everywhere):
    image, last = render(tiny_request(96, 64, **FAST))
    assert last.done and image.shape == (64, 96, 3) and image.dtype == np.uint8


def test_render_raises_cancelled_when_stopped(tiny_encoder_everywhere):
    with pytest.raises(Cancelled):
        render(tiny_request(96, 64, **FAST), should_stop=lambda: True)
    calls = {"n": 0}

    def later():
        calls["n"] += 1
        return calls["n"] > 3
    with pytest.raises(Cancelled):
        render(tiny_request(96, 64, **FAST), should_stop=later)


# --- determinism ---------------------------------------------------------------------------------

def test_same_seed_same_image_and_other_seed_differs():
    a = _run(tiny_request(96, 64, seed=3, **FAST))[-1].frame
    b = _run(tiny_request(96, 64, seed=3, **FAST))[-1].frame
    c = _run(tiny_request(96, 64, seed=4, **FAST))[-1].frame
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c).mean() > 1.0


def test_optimiser_changes_the_image():
    """The first frame after optimisation differs from the seed noise and the loss goes down."""
    items = _run(tiny_request(96, 64, phases=1, iterations=12, match_every=3), preview_interval=0.0)
    losses = [p.loss for p in items]
    assert losses[-1] < losses[0]


# --- inits and content ---------------------------------------------------------------------------

def test_content_image_pulls_the_picture_towards_it_and_init_image_starts_it():
    base = tiny_request(96, 64, **FAST)
    content = np.full((40, 60, 3), 200, np.uint8)            # resized to the output inside
    # both start from the label colours, with no style or smoothness: only the content term moves the picture
    params = base.params.replace(init="colours", alpha=1000.0, beta=0.0, smoothness=0.0, phases=1, iterations=12)
    without = _run(dataclasses.replace(base, params=params))[-1].frame
    with_content = _run(dataclasses.replace(base, params=params, content=content))[-1].frame
    assert with_content.shape == (64, 96, 3)
    distance = lambda frame: np.abs(frame.astype(float) - 200).mean()
    assert distance(with_content) < 0.8 * distance(without)
    init = np.zeros((64, 96, 3), np.uint8)
    with_init = TransferRequest(base.style, base.style_labels, base.target_labels, base.palette,
                                base.params.replace(init="image", phases=1, iterations=1, match_every=1,
                                                    beta=0.0, smoothness=0.0), init_image=init)
    # no loss at all: the init image comes back unchanged
    np.testing.assert_array_equal(_run(with_init)[-1].frame, init)


# --- validation ----------------------------------------------------------------------------------

def _replace(request: TransferRequest, **changes) -> TransferRequest:
    fields = dict(style=request.style, style_labels=request.style_labels, target_labels=request.target_labels,
                  palette=request.palette, params=request.params, content=request.content,
                  init_image=request.init_image)
    fields.update(changes)
    return TransferRequest(**fields)


def test_style_and_style_labels_shape_mismatch():
    request = _replace(tiny_request(96, 64, **FAST), style_labels=np.zeros((63, 96), np.int64))
    with pytest.raises(LabelMapError, match="96x63"):
        next(run_transfer(request, encoder=TinyEncoder()))


@pytest.mark.parametrize("changes", [
    dict(style=np.zeros((64, 96), np.uint8)),                 # not RGB
    dict(style=np.zeros((64, 96, 3), np.float32)),            # not uint8
    dict(target_labels=np.zeros((4, 96), np.int64)),          # too small
    dict(target_labels=np.zeros((64, 96, 3), np.int64)),      # not 2-D
    dict(content=np.zeros((64, 96, 4), np.uint8)),            # RGBA content
])
def test_bad_request_is_a_doodle_error(changes):
    request = _replace(tiny_request(96, 64, **FAST), **changes)
    with pytest.raises(DoodleError):
        next(run_transfer(request, encoder=TinyEncoder()))


def test_doodle_label_absent_from_style_is_a_label_map_error():
    base = tiny_request(96, 64, **FAST)
    palette = np.array([[255, 0, 0], [0, 0, 255], [0, 255, 0]], np.uint8)
    target = base.target_labels.copy()
    target[:8, :8] = 2
    with pytest.raises(LabelMapError, match="#00ff00"):
        next(run_transfer(_replace(base, palette=palette, target_labels=target), encoder=TinyEncoder()))


def test_init_needs_its_image():
    base = tiny_request(96, 64, **FAST)
    for init in ("content", "image"):
        with pytest.raises(DoodleError, match=init):
            next(run_transfer(_replace(base, params=base.params.replace(init=init)), encoder=TinyEncoder()))


@pytest.mark.parametrize("bad", [
    dict(method="magic"), dict(patch_size=4), dict(patch_size=1), dict(init="zeros"),
    dict(alpha=-1.0), dict(beta=-0.1), dict(gamma=-5.0), dict(smoothness=-1.0),
    dict(phases=0), dict(phases=7), dict(iterations=0), dict(match_every=0), dict(style_stride=0),
    dict(size=8), dict(size=10000),
])
def test_bad_params_raise_value_error(bad):
    with pytest.raises(ValueError):
        TransferParams(**bad)


def test_params_are_frozen_and_presets_valid():
    params = TransferParams()
    with pytest.raises(Exception):
        params.gamma = 1.0  # type: ignore[misc]
    assert params.replace(gamma=0.0).gamma == 0.0 and params.gamma == 50.0
    assert (params.alpha, params.gamma, params.patch_size, params.phases) == (10.0, 50.0, 3, 3)
    assert set(PRESETS) >= {"Draft", "Normal", "High"}
    with pytest.raises(ValueError):
        params.replace(patch_size=2)


# --- phase planning ------------------------------------------------------------------------------

def test_phases_too_small_for_a_patch_are_skipped():
    """At 64 px the 1/4-scale phase of a 3-phase render would leave relu4_1 2x2, too small for 3x3 patches."""
    widths = lambda request: [plan.width for plan in transfer.plan_phases(request)]
    assert widths(tiny_request(128, 128, phases=3)) == [32, 64, 128]
    assert widths(tiny_request(64, 64, phases=3)) == [32, 64]
    assert widths(tiny_request(64, 64, phases=3, patch_size=7)) == [64]
    assert widths(tiny_request(64, 64, phases=3, method="gram")) == [16, 32, 64]


def test_the_painting_is_used_at_the_doodles_scale_up_to_twice_the_outputs_pixels():
    doodle = tiny_request(128, 96)
    same_size = transfer.plan_phases(doodle)[-1]
    assert (same_size.style_width, same_size.style_height) == (128, 96)
    half = transfer.plan_phases(dataclasses.replace(doodle, params=doodle.params.replace(size=64)))[-1]
    assert (half.style_width, half.style_height) == (64, 48)
    big_style = np.zeros((96 * 4, 128 * 4, 3), np.uint8)
    big = dataclasses.replace(doodle, style=big_style, style_labels=np.zeros(big_style.shape[:2], np.int64))
    capped = transfer.plan_phases(big)[-1]
    assert capped.style_width * capped.style_height == pytest.approx(2 * 128 * 96, rel=0.02)
    assert capped.style_width / capped.style_height == pytest.approx(4 / 3, rel=0.02)


def test_the_patch_loss_holds_each_labels_colour_statistics_and_one_global_set_without_labels():
    def objective(**params):
        request = tiny_request(64, 64, **params)
        method = method_info(request.params.method).load()
        return Objective(request, transfer.plan_phases(request)[-1], TinyEncoder(), "cpu", method.terms)

    def colour(objective):
        return next((term.painting for term in objective.terms if isinstance(term, ColourTerm)), None)

    assert colour(objective()).labels_used.tolist() == [0, 1]
    assert colour(objective(gamma=0)).labels_used.tolist() == [0]
    assert colour(objective(method="gram")) is None
    assert float(objective()(torch.full((1, 3, 64, 64), 128.0))) > 0


def test_images_too_small_for_any_phase_are_a_doodle_error():
    request = tiny_request(40, 24)
    with pytest.raises(DoodleError, match="too small"):
        next(run_transfer(request, encoder=TinyEncoder()))


def test_auto_init_is_label_colours_with_semantics_and_noise_without():
    def final(**params):
        return _run(tiny_request(96, 64, phases=1, iterations=2, match_every=2, **params))[-1].frame

    np.testing.assert_array_equal(final(), final(init="colours"))
    np.testing.assert_array_equal(final(gamma=0.0), final(gamma=0.0, init="noise"))
    assert not np.array_equal(final(init="noise"), final(init="colours"))
