"""Guided patch synthesis on tiny images: sources in their own label, voting, tiles without seams, memory
that grows with the tile and not the print, cancelling, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from doodlepaint.engine.errors import Cancelled, DoodleError
from doodlepaint.engine.synthesis import InitialField, SynthesisParams, synthesise, synthesise_image, vote_weight


def textured_painting(height: int = 40, width: int = 48, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Label 0 (top): reddish strokes; label 1 (bottom): bluish ones. Smooth gradients with stripes and
    noise, so a copied patch is recognisable and a seam would show as a jump."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    stripes = 40 * np.sin(xs / 2.5 + ys / 5.0)
    noise = rng.normal(0, 12, (height, width)).astype(np.float32)
    labels = (ys >= height // 2).astype(np.int64)
    image = np.empty((height, width, 3), np.float32)
    image[..., 0] = np.where(labels == 0, 190, 50) + stripes + noise
    image[..., 1] = 90 + xs + 0.5 * stripes
    image[..., 2] = np.where(labels == 0, 50, 190) - stripes + noise
    return image.clip(0, 255).astype(np.uint8), labels


def doodle(height: int, width: int) -> np.ndarray:
    """Label 1 in a disc and a band on the left, label 0 elsewhere."""
    ys, xs = np.mgrid[0:height, 0:width]
    inside = ((ys - height * 0.55) ** 2 + (xs - width * 0.6) ** 2) < (min(height, width) * 0.3) ** 2
    return (inside | (xs < width // 5)).astype(np.int64)


def guide_for(labels: np.ndarray, painting: np.ndarray, painting_labels: np.ndarray, size: int = 16) -> np.ndarray:
    """A small 'working render': each label's mean painting colour over the doodle, at a tenth of the size."""
    means = np.stack([painting[painting_labels == label].mean(0) for label in range(2)])
    small = labels[:: max(1, labels.shape[0] // size), :: max(1, labels.shape[1] // size)]
    return means[small].round().astype(np.uint8)


def run(height=48, width=64, **params):
    painting, painting_labels = textured_painting()
    target = doodle(height, width)
    params = SynthesisParams(**{"tile": 16, "seed": 1, **params})
    image, field = synthesise_image(painting, painting_labels, target,
                                    guide_for(target, painting, painting_labels), params)
    return painting, painting_labels, target, image, field


def test_every_source_lies_in_its_pixels_own_label():
    painting, painting_labels, target, image, field = run()
    assert field.shape == target.shape + (2,)
    assert (field[..., 0] >= 0).all() and (field[..., 0] < painting.shape[0]).all()
    assert (field[..., 1] >= 0).all() and (field[..., 1] < painting.shape[1]).all()
    np.testing.assert_array_equal(painting_labels[field[..., 0], field[..., 1]], target)
    # and so each region has its label's colours: red over blue in label 0, blue over red in label 1
    red_minus_blue = image[..., 0].astype(int) - image[..., 2].astype(int)
    assert (red_minus_blue[target == 0] > 0).mean() > 0.95
    assert (red_minus_blue[target == 1] < 0).mean() > 0.95


@pytest.mark.parametrize("sigma", [1.0, 0.5])
def test_an_output_pixel_is_the_weighted_mean_of_the_sources_covering_it(sigma):
    painting, painting_labels, target, image, field = run(patch_size=3, vote_sigma=sigma)
    height, width = target.shape
    expected = np.zeros(image.shape, np.float64)
    for y in range(height):
        for x in range(width):
            values, weights = [], []
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    qy, qx = y - dy, x - dx           # the patch centred at q covers p with its offset (dy, dx)
                    if not (0 <= qy < height and 0 <= qx < width):
                        continue
                    sy, sx = field[qy, qx, 0] + dy, field[qy, qx, 1] + dx
                    if 0 <= sy < painting.shape[0] and 0 <= sx < painting.shape[1] \
                            and painting_labels[sy, sx] == target[y, x]:
                        values.append(painting[sy, sx])
                        weights.append(vote_weight(dy, dx, sigma))
            expected[y, x] = np.average(values, axis=0, weights=weights)
    assert np.abs(image - expected).max() <= 0.5 + 1e-6
    # more than one patch covers most pixels with different sources: the vote is not a plain copy
    copied = painting[field[..., 0], field[..., 1]]
    assert (np.abs(copied.astype(int) - image).sum(-1) > 0).mean() > 0.2


def test_a_coherent_field_copies_the_painting_exactly():
    """Guide and labels equal to the painting's, the identity as the initial field: no better sources exist,
    and the vote of coherent patches is the painting itself."""
    painting, painting_labels = textured_painting()
    ys, xs = np.mgrid[0:painting.shape[0], 0:painting.shape[1]]
    identity = InitialField(np.stack([ys, xs], -1).astype(np.int32), painting.shape[:2])
    image, field = synthesise_image(painting, painting_labels, painting_labels, painting,
                                    SynthesisParams(levels=1, tile=16), initial=identity)
    np.testing.assert_array_equal(image, painting)
    np.testing.assert_array_equal(field, identity.sources)


def gradient_energy_by_column(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean |horizontal difference| between column x and x + 1, for every x, away from label borders (where
    the picture changes anyway)."""
    steps = np.abs(np.diff(image.astype(np.float64), axis=1)).sum(-1)
    padded = np.pad(labels, 3, mode="edge")
    near_border = np.zeros(labels.shape, bool)
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            near_border |= padded[3 + dy:3 + dy + labels.shape[0], 3 + dx:3 + dx + labels.shape[1]] != labels
    inside = ~(near_border[:, 1:] | near_border[:, :-1])
    return (steps * inside).sum(0) / inside.sum(0).clip(1)


def test_tiles_leave_no_seam():
    """Across tile borders the picture changes no more than across the same rows and columns of the picture
    made in one tile (the doodle alone makes some rows busier than others), within two standard errors."""
    tile = 16
    for axis in ("columns", "rows"):
        tiled, whole, inside = [], [], []
        for seed in range(1, 7):
            for size, energies in ((tile, tiled), (1024, whole)):
                painting, painting_labels, target, image, field = run(height=64, width=96, tile=size, levels=2,
                                                                      seed=seed)
                if axis == "rows":
                    image, target = image.transpose(1, 0, 2), target.T
                energy = gradient_energy_by_column(image, target)
                crossing = np.arange(tile - 1, image.shape[1] - 1, tile)  # the step from x to x + 1 crosses tiles
                energies += energy[crossing].tolist()
                if size == tile:
                    inside += np.delete(energy, crossing).tolist()
        error = np.std(inside) / np.sqrt(len(tiled))
        assert np.mean(tiled) <= np.mean(whole) + 2 * error, (axis, np.mean(tiled), np.mean(whole), np.mean(inside))


class LargestTensor(TorchDispatchMode):
    """The largest tensor any computation makes (views, in-place writes and the allocation of the output and
    its field, made once with torch.empty, aside)."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        name = func.__name__
        if not (name.startswith("empty") or name.endswith("_") or func.is_view or name.startswith("copy_")):
            for value in result if isinstance(result, (tuple, list)) else (result,):
                if isinstance(value, torch.Tensor):
                    self.largest = max(self.largest, value.numel() * value.element_size())
        return result


def test_memory_grows_with_the_tile_not_the_print():
    tile = 16
    painting, painting_labels = textured_painting(24, 24)
    largest = []
    for size in (80, 160):      # both levels of both have tiles with neighbours on every side
        target = doodle(size, size)
        guide = guide_for(target, painting, painting_labels)
        with LargestTensor() as mode:
            synthesise_image(painting, painting_labels, target, guide,
                             SynthesisParams(tile=tile, levels=2, patch_size=3, iterations=1))
        largest.append(mode.largest)
    assert largest[0] == largest[1]
    # a whole output's worth of floats would be far larger than any tile's
    assert largest[1] < 160 * 160 * 3 * 4


def test_a_larger_tile_uses_more_memory():
    painting, painting_labels = textured_painting(24, 24)
    target = doodle(96, 96)
    largest = []
    for tile in (16, 48):
        with LargestTensor() as mode:
            synthesise_image(painting, painting_labels, target, guide_for(target, painting, painting_labels),
                             SynthesisParams(tile=tile, levels=2, patch_size=3, iterations=1))
        largest.append(mode.largest)
    assert largest[1] > 2 * largest[0]


def test_cancel_stops_and_returns_nothing():
    painting, painting_labels = textured_painting()
    target = doodle(48, 64)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 40

    progress = list(synthesise(painting, painting_labels, target, guide_for(target, painting, painting_labels),
                               SynthesisParams(tile=16), should_stop=should_stop))
    assert progress and not any(p.done or p.image is not None for p in progress)
    with pytest.raises(Cancelled):
        synthesise_image(painting, painting_labels, target, guide_for(target, painting, painting_labels),
                         SynthesisParams(tile=16), should_stop=lambda: True)


def test_progress_counts_up_to_done():
    painting, painting_labels = textured_painting()
    target = doodle(48, 64)
    progress = list(synthesise(painting, painting_labels, target, guide_for(target, painting, painting_labels),
                               SynthesisParams(tile=16)))
    assert [p.step for p in progress] == list(range(1, progress[0].steps + 1))
    assert progress[-1].done and progress[-1].fraction == 1.0 and progress[-1].image.shape == (48, 64, 3)
    assert not any(p.done for p in progress[:-1])


def test_brush_scale_enlarges_the_painting_it_copies_from():
    painting, painting_labels, target, image, field = run(brush_scale=2.0)
    assert field[..., 0].max() >= painting.shape[0]          # sources in the twice-as-large painting
    assert field[..., 0].max() < 2 * painting.shape[0] and field[..., 1].max() < 2 * painting.shape[1]


@pytest.mark.parametrize("change, message", [
    (dict(painting=np.zeros((40, 48), np.uint8)), "RGB uint8"),
    (dict(painting=np.zeros((40, 48, 3), np.float32)), "RGB uint8"),
    (dict(painting_labels=np.zeros((10, 10), np.int64)), "labels are 10x10"),
    (dict(target=np.full((48, 64), 2)), "does not have"),
    (dict(target=np.zeros((2, 64), np.int64)), "at least 5 pixels"),
    (dict(target=np.zeros((4000, 4000), np.int64)), "too small for a 4000x4000 print"),
    (dict(params=SynthesisParams(brush_scale=0.25, patch_size=7)), "too small to take"),
])
def test_bad_input_gets_a_clear_error(change, message):
    painting, painting_labels = textured_painting()
    values = dict(painting=painting, painting_labels=painting_labels, target=doodle(48, 64),
                  guide=np.zeros((8, 8, 3), np.uint8), params=SynthesisParams())
    values.update(change)
    with pytest.raises(DoodleError, match=message):
        next(synthesise(values["painting"], values["painting_labels"], values["target"], values["guide"],
                        values["params"]))


def test_the_too_small_error_names_the_brush_scale_that_fits():
    painting, painting_labels = textured_painting()
    with pytest.raises(DoodleError, match="brush scale of at least") as error:
        next(synthesise(painting, painting_labels, np.zeros((1000, 1000), np.int64), np.zeros((8, 8, 3), np.uint8)))
    needed = float(str(error.value).split("at least ")[1].split(",")[0])
    painting_scaled = SynthesisParams(brush_scale=needed)
    next(synthesise(painting, painting_labels, np.zeros((1000, 1000), np.int64), np.zeros((8, 8, 3), np.uint8),
                    painting_scaled, should_stop=lambda: True), None)     # accepted: no error


@pytest.mark.parametrize("value", [0.1, 9.0, float("nan")])
def test_brush_scale_out_of_range(value):
    with pytest.raises(ValueError, match="brush scale"):
        SynthesisParams(brush_scale=value)


@pytest.mark.parametrize("value", [0.0, 4.0, float("nan")])
def test_vote_sigma_out_of_range(value):
    with pytest.raises(ValueError, match="vote's sigma"):
        SynthesisParams(vote_sigma=value)


@pytest.mark.parametrize("value", [0.5, 17.0, float("inf")])
def test_guide_cell_out_of_range(value):
    with pytest.raises(ValueError, match="guide's cell"):
        SynthesisParams(guide_cell=value)


def test_a_print_stopped_while_its_labels_are_built_never_starts_the_synthesis(monkeypatch):
    import doodlepaint.engine.print_size as print_size
    from doodlepaint.engine.params import TransferParams, TransferRequest

    painting, painting_labels = textured_painting()
    target = doodle(48, 64)
    request = TransferRequest(painting, painting_labels, target, np.array([[255, 0, 0], [0, 0, 255]], np.uint8),
                              TransferParams(size=384))
    bands = []
    real_check_stop = print_size.check_stop
    monkeypatch.setattr(print_size, "check_stop", lambda: (bands.append(1), real_check_stop()))
    monkeypatch.setattr(print_size, "synthesise", lambda *args, **kwargs: pytest.fail("the synthesis started"))
    asked = []
    progress = list(print_size.run_print(request, print_size.PrintSettings(working_size=64),
                                         should_stop=lambda: bool(asked.append(1)) or True,
                                         working=guide_for(target, painting, painting_labels)))
    assert progress == [] and len(bands) == 1 and asked
