"""Label maps: colour snapping, palettes shared between style and doodle, sizes, file conventions."""
from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pytest
from PIL import Image, ImageDraw

from doodlepaint.engine.errors import LabelMapError
from doodlepaint.engine.images import load_rgb
from doodlepaint.engine.labels import (
    LabelMapWarning, check_shared_labels, dominant_colours, fit_map_to_image, hex_colour, load_maps,
    sibling_style_map, snap_to, style_label_map, target_label_ids,
)

RED, GREEN, BLUE, YELLOW = (220, 30, 30), (40, 180, 60), (30, 60, 220), (240, 220, 40)


def _antialiased(size: tuple[int, int], paint, factor: int = 4) -> np.ndarray:
    """Paint at `factor` x the size and downsample with a box filter: what a paint program's brush does."""
    w, h = size
    big = Image.new("RGB", (w * factor, h * factor), RED)
    paint(ImageDraw.Draw(big), factor)
    return np.asarray(big.resize((w, h), Image.BOX), dtype=np.uint8)


def _blobs(draw: ImageDraw.ImageDraw, f: int) -> None:
    draw.ellipse([10 * f + 1, 12 * f + 2, 70 * f + 3, 60 * f + 1], fill=BLUE)
    draw.polygon([(60 * f, 5 * f), (115 * f + 2, 30 * f + 1), (90 * f + 3, 90 * f)], fill=GREEN)


def _colour_set(palette: np.ndarray) -> set[tuple[int, ...]]:
    return {tuple(int(v) for v in c) for c in palette}


def _exact_mask(rgb: np.ndarray, colour) -> np.ndarray:
    return np.all(rgb == np.array(colour, dtype=np.uint8), axis=-1)


# --- snapping ------------------------------------------------------------------------------------

def test_flat_map_palette_and_ids():
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[:] = RED
    rgb[:, 10:] = BLUE
    rgb[15:, :] = GREEN
    labels = style_label_map(rgb)
    assert _colour_set(labels.palette) == {RED, BLUE, GREEN}
    assert labels.ids.shape == (20, 30) and labels.ids.dtype == np.int64
    np.testing.assert_array_equal(labels.palette[labels.ids], rgb)
    # most frequent colour first
    assert tuple(labels.palette[0]) == BLUE


def test_antialiased_edges_snap_to_dominant_colours():
    rgb = _antialiased((120, 96), _blobs)
    in_between = ~(_exact_mask(rgb, RED) | _exact_mask(rgb, GREEN) | _exact_mask(rgb, BLUE))
    assert in_between.sum() > 100                      # the drawing really is anti-aliased
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20
    labels = style_label_map(rgb)
    assert _colour_set(labels.palette) == {RED, GREEN, BLUE}
    # pure pixels keep their colour; in-between pixels take the nearest dominant colour
    np.testing.assert_array_equal(labels.palette[labels.ids][~in_between], rgb[~in_between])
    d = ((rgb[in_between][:, None].astype(int) - labels.palette[None].astype(int)) ** 2).sum(-1)
    np.testing.assert_array_equal(labels.ids[in_between], d.argmin(1))


def test_antialiased_straight_edge_snaps_to_dominant_colours():
    """A straight anti-aliased boundary gives a whole column of one in-between colour: still no label."""
    def paint(draw, f):
        draw.rectangle([0, 0, 100 * f + 2, 192 * f], fill=BLUE)   # edge inside column 100: a 75 % blue column
    rgb = _antialiased((256, 192), paint)
    blend = ~(_exact_mask(rgb, RED) | _exact_mask(rgb, BLUE))
    assert blend[:, 100].all() and blend.sum() == 192
    labels = style_label_map(rgb)
    assert _colour_set(labels.palette) == {RED, BLUE}, (
        f"in-between colour became a label: {[hex_colour(c) for c in labels.palette]}")
    # and a doodle drawn the same way uses only style colours
    style = np.zeros((64, 64, 3), np.uint8)
    style[:, :32] = RED
    style[:, 32:] = BLUE
    palette = style_label_map(style).palette
    ids = target_label_ids(rgb, palette)
    assert set(np.unique(ids)) == {0, 1}


def test_jpeg_noise_merges_into_the_flat_colours():
    rgb = _antialiased((120, 96), _blobs)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=80)
    noisy = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    assert len(np.unique(noisy.reshape(-1, 3), axis=0)) > 100   # JPEG made many colours
    labels = style_label_map(noisy)
    assert len(labels.palette) == 3
    for colour in (RED, GREEN, BLUE):
        assert np.abs(labels.palette.astype(int) - colour).max(1).min() <= 16
    clean = style_label_map(rgb)
    # same labelling as the clean map except near edges (compare by colour, ids may be ordered differently)
    agree = np.all(np.abs(labels.palette[labels.ids].astype(int) - clean.palette[clean.ids]) <= 16, axis=-1)
    assert agree.mean() > 0.97


def test_snap_to_picks_nearest_palette_colour():
    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    rgb = np.array([[[10, 10, 10], [200, 220, 230], [180, 40, 20], [140, 140, 140]]], np.uint8)
    np.testing.assert_array_equal(snap_to(rgb, palette), [[0, 1, 2, 1]])


def test_map_of_noise_falls_back_to_one_label():
    rgb = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    assert len(dominant_colours(rgb)) == 1


def test_too_many_labels_is_an_error():
    # Stripes 12 pixels wide: narrower ones whose colour is the mean of their neighbours' would be JPEG edge blends.
    rgb = np.zeros((40 * 12, 12, 3), np.uint8)
    for i in range(40):
        rgb[i * 12:(i + 1) * 12] = (i * 6, 255 - i * 6, (i * 97) % 256)
    with pytest.raises(LabelMapError, match="at most"):
        dominant_colours(rgb)


# --- files: RGBA, greyscale --------------------------------------------------------------------

def test_rgba_map_loads_and_composites_on_white(tmp_path):
    rgba = np.zeros((16, 24, 4), np.uint8)
    rgba[:, :12] = (*RED, 255)
    rgba[:, 12:] = (*BLUE, 255)
    rgba[:4, :] = (0, 0, 0, 0)            # fully transparent: white
    path = tmp_path / "map.png"
    Image.fromarray(rgba, "RGBA").save(path)
    rgb = load_rgb(path)
    assert rgb.shape == (16, 24, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[8, 2]) == RED and tuple(rgb[8, 20]) == BLUE and tuple(rgb[0, 0]) == (255, 255, 255)
    assert _colour_set(style_label_map(rgb).palette) == {RED, BLUE, (255, 255, 255)}


def test_greyscale_map_loads(tmp_path):
    grey = np.zeros((18, 30), np.uint8)
    grey[:, 10:20] = 128
    grey[:, 20:] = 255
    path = tmp_path / "grey.png"
    Image.fromarray(grey, "L").save(path)
    rgb = load_rgb(path)
    assert rgb.shape == (18, 30, 3)
    np.testing.assert_array_equal(rgb[..., 0], grey)
    np.testing.assert_array_equal(rgb[..., 2], grey)
    labels = style_label_map(rgb)
    assert _colour_set(labels.palette) == {(0, 0, 0), (128, 128, 128), (255, 255, 255)}


def test_palette_png_map_loads(tmp_path):
    rgb = np.zeros((10, 10, 3), np.uint8)
    rgb[:, 5:] = GREEN
    path = tmp_path / "indexed.png"
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=4).save(path)
    assert Image.open(path).mode == "P"
    np.testing.assert_array_equal(load_rgb(path), rgb)


# --- style vs doodle ---------------------------------------------------------------------------

def _style_palette() -> np.ndarray:
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:] = RED
    rgb[:, 16:] = BLUE
    return style_label_map(rgb).palette


def test_doodle_colours_map_onto_style_labels():
    palette = _style_palette()
    doodle = np.zeros((20, 20, 3), np.uint8)
    doodle[:] = (225, 35, 28)                # close to RED (a slightly different red)
    doodle[10:] = BLUE
    ids = target_label_ids(doodle, palette)
    assert tuple(palette[ids[0, 0]]) == RED and tuple(palette[ids[15, 0]]) == BLUE


def test_doodle_colour_missing_from_style_names_colour_and_place():
    palette = _style_palette()
    doodle = np.zeros((40, 60, 3), np.uint8)
    doodle[:] = RED
    doodle[10:20, 40:50] = (0, 255, 0)       # centre x = 44.5, y = 14.5
    with pytest.raises(LabelMapError) as info:
        target_label_ids(doodle, palette)
    message = str(info.value)
    assert "#00ff00" in message
    x, y = map(int, re.search(r"x=(\d+), y=(\d+)", message).groups())
    assert abs(x - 44.5) <= 1.5 and abs(y - 14.5) <= 1.5
    assert hex_colour(RED) in message and hex_colour(BLUE) in message    # lists what is allowed


def test_label_in_palette_but_not_in_style_is_an_error():
    palette = np.array([RED, BLUE, GREEN], np.uint8)
    style_ids = np.zeros((16, 16), np.int64)
    style_ids[:, 8:] = 1                     # GREEN (2) never painted on the style
    target_ids = np.zeros((16, 16), np.int64)
    target_ids[4:8, 10:14] = 2
    with pytest.raises(LabelMapError) as info:
        check_shared_labels(style_ids, target_ids, palette)
    assert hex_colour(GREEN) in str(info.value)
    assert "x=11" in str(info.value) and "y=5" in str(info.value)
    check_shared_labels(style_ids, np.ones((16, 16), np.int64), palette)     # present: fine


def test_label_outside_palette_is_an_error():
    palette = np.array([RED, BLUE], np.uint8)
    with pytest.raises(LabelMapError):
        check_shared_labels(np.zeros((8, 8), np.int64), np.full((8, 8), 5, np.int64), palette)


# --- sizes and files ----------------------------------------------------------------------------

def test_map_of_another_size_is_resized_nearest_with_a_warning():
    small = np.zeros((10, 15, 3), np.uint8)
    small[:] = RED
    small[:, 7:] = BLUE
    small[5:, :] = GREEN
    with pytest.warns(LabelMapWarning, match="15x10"):
        big = fit_map_to_image(small, (40, 60), "the style map")
    assert big.shape == (40, 60, 3)
    assert _colour_set(np.unique(big.reshape(-1, 3), axis=0)) == {RED, BLUE, GREEN}   # no new colours
    assert tuple(big[0, 0]) == RED and tuple(big[0, 59]) == BLUE and tuple(big[39, 0]) == GREEN
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fit_map_to_image(big, (40, 60), "the style map") is big


def test_load_maps_resizes_style_map_to_style_image(tmp_path):
    style_map = np.zeros((12, 16, 3), np.uint8)
    style_map[:] = RED
    style_map[:, 8:] = BLUE
    doodle = np.zeros((20, 20, 3), np.uint8)
    doodle[:] = BLUE
    doodle[:, :5] = RED
    Image.fromarray(style_map).save(tmp_path / "style_sem.png")
    Image.fromarray(doodle).save(tmp_path / "doodle.png")
    style_rgb = np.zeros((24, 32, 3), np.uint8)
    with pytest.warns(LabelMapWarning):
        style_ids, target_ids, palette = load_maps(style_rgb, tmp_path / "style_sem.png", tmp_path / "doodle.png")
    assert style_ids.shape == (24, 32) and target_ids.shape == (20, 20)
    assert tuple(palette[style_ids[0, 0]]) == RED and tuple(palette[style_ids[0, 31]]) == BLUE
    assert tuple(palette[target_ids[0, 0]]) == RED and tuple(palette[target_ids[0, 19]]) == BLUE


def test_load_maps_rejects_doodle_colour_the_style_lacks(tmp_path):
    style_map = np.zeros((16, 16, 3), np.uint8)
    style_map[:] = RED
    doodle = style_map.copy()
    doodle[:8] = YELLOW
    Image.fromarray(style_map).save(tmp_path / "s.png")
    Image.fromarray(doodle).save(tmp_path / "d.png")
    with pytest.raises(LabelMapError, match=hex_colour(YELLOW)):
        load_maps(np.zeros((16, 16, 3), np.uint8), tmp_path / "s.png", tmp_path / "d.png")


def test_sibling_style_map_convention(tmp_path):
    style = tmp_path / "monet.jpg"
    Image.new("RGB", (8, 8)).save(style)
    assert sibling_style_map(style) is None
    (tmp_path / "monet_sem.png").write_bytes(b"")
    assert sibling_style_map(style) == tmp_path / "monet_sem.png"
    assert sibling_style_map(str(style)) == tmp_path / "monet_sem.png"
    # only the style's own stem counts
    other = tmp_path / "other.png"
    Image.new("RGB", (8, 8)).save(other)
    assert sibling_style_map(other) is None
