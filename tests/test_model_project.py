import json
import zipfile

import numpy as np
import pytest

from doodlepaint.model.autosave import Recovery
from doodlepaint.model.project import ProjectError, load_project, save_project


def _same(a, b):
    assert np.array_equal(a.style, b.style) and np.array_equal(a.style_ids, b.style_ids)
    assert np.array_equal(a.target_ids, b.target_ids) and np.array_equal(a.palette, b.palette)
    assert a.names == b.names and a.params == b.params


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


def test_a_newer_project_asks_for_an_update(tiny_document, tmp_path):
    path = tmp_path / "new.doodlepaint"
    save_project(tiny_document, path)
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    meta = json.loads(entries["project.json"])
    meta["version"] = 99
    entries["project.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ProjectError, match="newer"):
        load_project(path)


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
