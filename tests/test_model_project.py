import json
import zipfile

import numpy as np
import pytest

from doodlepaint.model.autosave import Recovery
from doodlepaint.model.project import ProjectError, load_project, save_project


def _same(a, b):
    assert np.array_equal(a.style, b.style) and np.array_equal(a.style_ids, b.style_ids)
    assert np.array_equal(a.target_ids, b.target_ids) and np.array_equal(a.palette, b.palette)
    assert a.names == b.names and a.params == b.params and a.right_button_label == b.right_button_label


def test_a_project_round_trips(tiny_document, tmp_path):
    tiny_document.params = tiny_document.params.replace(gamma=123.0, seed=7, method="gram")
    tiny_document.content = np.full((16, 16, 3), 9, np.uint8)
    path = tmp_path / "scene.doodlepaint"
    save_project(tiny_document, path)
    loaded = load_project(path)
    _same(tiny_document, loaded)
    assert np.array_equal(loaded.content, tiny_document.content) and loaded.result is None
    assert [p.name for p in tmp_path.iterdir()] == ["scene.doodlepaint"]      # no temporary files left


def test_a_damaged_project_says_so(tmp_path):
    path = tmp_path / "broken.doodlepaint"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ProjectError, match="damaged"):
        load_project(path)


def _rewrite_meta(path, change) -> None:
    """Edit project.json inside a saved project, as an older or a damaged file would have it."""
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    meta = json.loads(entries["project.json"])
    change(meta)
    entries["project.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def test_a_newer_project_asks_for_an_update(tiny_document, tmp_path):
    path = tmp_path / "new.doodlepaint"
    save_project(tiny_document, path)
    _rewrite_meta(path, lambda meta: meta.update(version=99))
    with pytest.raises(ProjectError, match="newer"):
        load_project(path)


def test_the_right_button_label_is_saved_with_the_project(tiny_document, tmp_path):
    tiny_document.set_right_button_label(1)
    path = tmp_path / "scene.doodlepaint"
    save_project(tiny_document, path)
    assert load_project(path).right_button_label == 1


def test_a_project_saved_before_the_right_button_label_was_kept_paints_the_first_label(tiny_document, tmp_path):
    tiny_document.set_right_button_label(1)
    path = tmp_path / "old.doodlepaint"
    save_project(tiny_document, path)
    _rewrite_meta(path, lambda meta: meta.pop("right_button_label"))
    loaded = load_project(path)
    assert loaded.right_button_label == 0 and loaded.names == ["a", "b"]


@pytest.mark.parametrize("label, says", [(2, "the right button's label is 2, not one of the labels 0 to 1"),
                                         (-1, "the right button's label is -1, not one of the labels 0 to 1"),
                                         ("1", "the right button's label must be a label number, not '1'"),
                                         (True, "the right button's label must be a label number, not True")])
def test_a_right_button_label_outside_the_palette_is_refused(tiny_document, tmp_path, label, says):
    path = tmp_path / "bad.doodlepaint"
    save_project(tiny_document, path)
    _rewrite_meta(path, lambda meta: meta.update(right_button_label=label))
    with pytest.raises(ProjectError, match="damaged") as error:
        load_project(path)
    assert says in str(error.value)


def test_recovery_keeps_work_until_discarded(tiny_document, tmp_path):
    recovery = Recovery(tmp_path / "state")
    assert not recovery.pending()
    recovery.save(tiny_document, tmp_path / "beach.doodlepaint")
    assert recovery.pending()
    recovered = recovery.load()
    _same(tiny_document, recovered.document)
    assert recovered.origin == tmp_path / "beach.doodlepaint"        # the project it stands in for
    recovery.discard()
    assert not recovery.pending()


# --- every document the app can make reopens as it was saved --------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from doodlepaint.engine.errors import DoodleError  # noqa: E402
from doodlepaint.engine.methods import method_names  # noqa: E402
from doodlepaint.engine.params import INITS, PATCH_SIZES, TransferParams  # noqa: E402
from doodlepaint.model.project import project_bytes, read_project  # noqa: E402

SIDES = st.integers(1, 40)
NAMES = st.text(max_size=230)


def _image(draw, channels=3):
    height, width = draw(SIDES), draw(SIDES)
    seed = draw(st.integers(0, 2 ** 16))
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


@st.composite
def edits(draw):
    """One thing the app can do to a document: (its name, a function of the document)."""
    kind = draw(st.sampled_from(["doodle", "photo", "no photo", "add", "rename", "remove", "colour", "painting",
                                 "params", "result", "right button"]))
    if kind == "doodle":
        height, width, seed = draw(SIDES), draw(SIDES), draw(st.integers(0, 2 ** 16))

        def doodle(document):
            ids = np.random.default_rng(seed).integers(0, len(document.palette), (height, width))
            document.replace_doodle(document.doodle_ids(document.palette[ids]))
        return kind, doodle
    if kind == "photo":
        photo = _image(draw)
        return kind, lambda document: document.set_content(photo)
    if kind == "no photo":
        return kind, lambda document: document.set_content(None)
    if kind == "add":
        name = draw(st.none() | NAMES)
        return kind, lambda document: document.add_label(name)
    label, name = draw(st.integers(0, 20)), draw(NAMES)
    if kind == "rename":
        return kind, lambda document: document.rename_label(label % len(document.palette), name)
    if kind == "remove":
        return kind, lambda document: document.remove_label(label % len(document.palette))
    if kind == "right button":
        return kind, lambda document: document.set_right_button_label(label % len(document.palette))
    if kind == "colour":
        rgb = draw(st.tuples(*[st.integers(0, 255)] * 3))
        return kind, lambda document: document.set_label_colour(label % len(document.palette), rgb)
    if kind == "painting":
        painting = _image(draw)
        return kind, lambda document: document.set_style(painting)
    if kind == "params":
        params = draw(st.builds(
            TransferParams, method=st.sampled_from(method_names()), alpha=st.floats(0, 1e4), beta=st.floats(0, 1e4),
            gamma=st.floats(0, 1e4), patch_size=st.sampled_from(PATCH_SIZES), phases=st.integers(1, 6),
            iterations=st.integers(1, 100_000), size=st.none() | st.integers(16, 8192), seed=st.integers(0, 2 ** 31 - 1),
            smoothness=st.floats(0, 1e4), init=st.sampled_from(INITS), match_every=st.integers(1, 100_000),
            style_stride=st.integers(1, 16)))
        return kind, lambda document: setattr(document, "params", params)
    result = _image(draw)
    return kind, lambda document: setattr(document, "result", result)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(edits(), max_size=6))
def test_every_document_the_app_can_make_reopens_as_saved(tiny_document, tmp_path_factory, steps):
    """Each edit either works or raises (the app shows it and the document stays as it was); whatever the
    document then holds, a saved project opens again with all of it."""
    document = tiny_document
    document.names = list(document.names)
    for _, edit in steps:
        try:
            edit(document)
        except (ValueError, DoodleError):
            pass
    path = tmp_path_factory.mktemp("round-trip") / "scene.doodlepaint"
    path.write_bytes(project_bytes(document))
    loaded = read_project(path).document
    _same(document, loaded)
    for name in ("content", "result"):
        original, reopened = getattr(document, name), getattr(loaded, name)
        assert (original is None and reopened is None) or np.array_equal(original, reopened), name
