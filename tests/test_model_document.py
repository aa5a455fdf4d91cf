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
        tiny_document.doodle_ids(rgb)


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


# --- the document announces its changes (issue #24) -------------------------------------------------------

from doodlepaint.model.document import LabelChange  # noqa: E402
from doodlepaint.model.open_document import OpenDocument  # noqa: E402


def _announced(events) -> list[tuple]:
    """Every announcement on `events` from now on, as (signal name, *arguments)."""
    heard = []
    for name in events:
        getattr(events, name).connect(lambda *args, name=name: heard.append((name, *args)))
    return heard


def test_each_change_is_announced_once_and_a_change_that_changes_nothing_is_not(tiny_document):
    document = tiny_document
    heard = _announced(document.events)
    steps = [
        (lambda: document.rename_label(1, "sea"), [("labels", LabelChange.RENAMED)]),
        (lambda: document.rename_label(1, "sea"), []),
        (lambda: document.add_label("sand"), [("labels", LabelChange.ADDED)]),
        (lambda: document.set_label_colour(2, (20, 200, 30)), [("labels", LabelChange.RECOLOURED)]),
        (lambda: document.set_label_colour(2, (20, 200, 30)), []),
        (lambda: document.set_right_button_label(2), [("labels", LabelChange.RIGHT_BUTTON)]),
        (lambda: document.set_right_button_label(2), []),
        (lambda: document.set_params(document.params.replace(gamma=12.0)), [("params",)]),
        (lambda: document.set_params(document.params.replace(gamma=12.0)), []),
        (lambda: document.set_content(np.full((16, 16, 3), 9, np.uint8)), [("doodle", True)]),
        (lambda: document.set_content(None), [("doodle", True)]),
        (lambda: document.set_content(None), []),
        (lambda: document.map_painted(document.target_ids), [("doodle", False)]),
        (lambda: document.map_painted(document.style_ids), [("painting", False)]),
        (lambda: document.remove_label(0), [("labels", LabelChange.REMOVED)]),
    ]
    result = np.zeros((16, 16, 3), np.uint8)
    steps += [(lambda: document.set_result(result), [("result",)]), (lambda: document.set_result(result), [])]
    for step, expected in steps:
        heard.clear()
        step()
        assert heard == expected


def test_a_refused_change_announces_nothing(tiny_document):
    heard = _announced(tiny_document.events)
    for refused in (lambda: tiny_document.rename_label(0, "x" * 201),
                    lambda: tiny_document.set_label_colour(0, tiny_document.palette[1]),
                    lambda: tiny_document.set_right_button_label(2),
                    lambda: tiny_document.map_painted(tiny_document.target_ids.copy())):
        with pytest.raises(ValueError):
            refused()
    assert heard == [] and tiny_document.names == ["a", "b"] and tiny_document.right_button_label == 0


def test_a_painting_with_its_own_map_replaces_the_labels_in_one_announcement_each(tiny_document):
    heard = _announced(tiny_document.events)
    tiny_document.set_style(tiny_document.style.copy())             # a suggested map in the same labels
    assert heard == [("painting", True)]
    heard.clear()
    own_map = np.zeros((16, 16, 3), np.uint8)
    own_map[:, :8] = (0, 0, 255)                                    # the old label "b" and a new one
    own_map[:, 8:] = (0, 200, 0)
    tiny_document.set_right_button_label(1)
    heard.clear()
    tiny_document.set_style(tiny_document.style, own_map)
    assert sorted(heard, key=str) == [("doodle", False), ("labels", LabelChange.REPLACED), ("painting", True)]
    assert tiny_document.names[tiny_document.right_button_label] == "b"      # still the label it was
    assert LabelChange.REPLACED.renumbers and LabelChange.RECOLOURED.recolours and not LabelChange.RENAMED.recolours


def test_removing_a_label_keeps_the_right_button_on_the_label_it_was(tiny_document):
    tiny_document.add_label("sand")
    tiny_document.set_right_button_label(2)
    tiny_document.remove_label(0)
    assert tiny_document.names[tiny_document.right_button_label] == "sand"
    tiny_document.remove_label(1)                         # the right button's own label: it takes the other one's
    assert tiny_document.right_button_label == 0 and tiny_document.names == ["b"]


def test_the_open_document_passes_on_the_changes_of_whichever_document_is_open(tiny_document):
    first, second = tiny_document, Document(tiny_document.style, tiny_document.style_ids.copy(),
                                            tiny_document.target_ids.copy(), tiny_document.palette.copy(), ["c", "d"])
    open_document = OpenDocument(first)
    heard = _announced(open_document.events)
    first.rename_label(0, "sky")
    open_document.replace(second, recovered=True)
    first.rename_label(0, "cloud")                        # no longer open: not heard
    second.add_label()
    assert heard == [("labels", LabelChange.RENAMED), ("replaced", True), ("labels", LabelChange.ADDED)]
    assert open_document.document is second
