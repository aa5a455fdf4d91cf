import numpy as np
import pytest

from doodlepaint.engine.labels import hex_colour
from doodlepaint.engine.errors import LabelMapError
from doodlepaint.engine.sample import load_sample
from doodlepaint.model.document import Document
from doodlepaint.model.suggest import mode_filter, suggest_labels


def test_the_sample_palette_comes_from_its_style_map_with_names():
    scene = load_sample()
    document = Document.from_sample(scene)
    assert sorted(document.names) == sorted(scene.names)
    for name, colour in zip(document.names, document.palette):
        assert hex_colour(colour) == scene.names[name]
    assert document.style_ids.shape == document.style.shape[:2]
    document.request()                                       # a valid engine request


def test_add_and_remove_labels_renumber_the_maps(tiny_document):
    document = tiny_document
    new = document.add_label("tree")
    assert document.names[new] == "tree" and len(document.palette) == 3
    document.target_ids[0, 0] = new
    document.remove_label(0)
    assert document.names == ["b", "tree"]
    assert document.target_ids[0, 0] == 1 and document.style_ids.max() <= 1


def test_a_doodle_in_foreign_colours_is_refused(tiny_document):
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:] = (255, 0, 255)
    with pytest.raises(LabelMapError):
        tiny_document.set_target_from_rgb(rgb)


def test_a_photo_resizes_the_doodle_to_fit(tiny_document):
    tiny_document.set_content(np.zeros((20, 30, 3), np.uint8))
    assert tiny_document.target_ids.shape == (20, 30)


def test_suggest_labels_finds_colour_regions_quickly():
    rng = np.random.default_rng(0)
    rgb = np.zeros((128, 128, 3), np.uint8)
    rgb[:64] = (200, 40, 40)
    rgb[64:] = (30, 30, 220)
    rgb = np.clip(rgb + rng.normal(0, 12, rgb.shape), 0, 255).astype(np.uint8)
    ids = suggest_labels(rgb, 2)
    assert len(np.unique(ids[:60])) == 1 and len(np.unique(ids[68:])) == 1 and ids[0, 0] != ids[-1, 0]


def test_the_mode_filter_removes_specks():
    ids = np.zeros((20, 20), np.int64)
    ids[10, 10] = 1
    assert not mode_filter(ids, 2).any()
