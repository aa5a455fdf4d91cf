"""The command line never loses a file, never renders for nothing, and refuses bad numbers and huge images
at once: every output is checked before the render, and every value in one place (TransferParams)."""
import errno
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import doodlepaint.engine
import doodlepaint.engine.export as export
from doodlepaint.cli import main
from reliability_helpers import png_claiming
from test_cli import TINY, one_line_error, render, scene  # noqa: F401  (scene is a fixture)


@pytest.fixture
def no_render(monkeypatch):
    """The render must not start: everything here is found before it."""
    monkeypatch.setattr(doodlepaint.engine, "run_transfer", lambda *a, **k: pytest.fail("rendered anyway"))


def test_an_existing_report_is_not_overwritten_without_force(scene, capsys, no_render):
    (scene / "run.json").write_text("precious")
    assert render(scene, "--report", str(scene / "run.json")) == 2
    assert "already exists" in one_line_error(capsys)
    assert (scene / "run.json").read_text() == "precious" and not (scene / "out.png").exists()


@pytest.mark.parametrize("report", ["out.png", "style.png", "doodle.png", "style_sem.png"])
def test_the_report_is_never_the_output_or_an_input_even_with_force(scene, capsys, no_render, report):
    before = {p.name: p.read_bytes() for p in scene.iterdir()}
    assert render(scene, "--report", str(scene / report), "--force") == 2
    assert "--report" in one_line_error(capsys)
    assert {p.name: p.read_bytes() for p in scene.iterdir()} == before


def test_the_output_is_never_an_input_even_with_force(scene, capsys, no_render):
    before = (scene / "doodle.png").read_bytes()
    assert main(["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
                 "--out", str(scene / "doodle.png"), "--force", *TINY]) == 2
    assert "is one of the inputs" in one_line_error(capsys)
    assert (scene / "doodle.png").read_bytes() == before


@pytest.mark.parametrize("option", ["--out", "--report"])
def test_an_output_that_is_a_folder_is_found_before_rendering(scene, capsys, no_render, option):
    (scene / "folder.png").mkdir()
    extra = ["--report", str(scene / "folder.png")] if option == "--report" else []
    argv = ["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
            "--out", str(scene / ("folder.png" if option == "--out" else "out.png")), "--force", *extra, *TINY]
    assert main(argv) == 2
    assert "is a folder" in one_line_error(capsys)


def test_a_report_in_a_missing_folder_is_found_before_rendering(scene, capsys, no_render):
    assert render(scene, "--report", str(scene / "missing" / "run.json")) == 2
    assert "does not exist" in one_line_error(capsys)


def test_a_folder_that_takes_no_files_is_found_before_rendering(scene, capsys, no_render, monkeypatch):
    """A read-only folder (root ignores permission bits, so the refusal is simulated where it comes from)."""
    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(export.tempfile, "mkstemp", read_only)
    assert render(scene) == 2
    assert "does not take new files (Permission denied)" in one_line_error(capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_found_before_rendering(scene, capsys, no_render):
    folder = scene / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert main(["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
                     "--out", str(folder / "out.png"), *TINY]) == 2
    finally:
        folder.chmod(0o755)
    assert "does not take new files" in one_line_error(capsys)


def test_a_full_disk_leaves_no_report_and_no_temporary_file(scene, capsys, monkeypatch):
    writes = []
    real_fsync = os.fsync

    def fsync_then_fill(descriptor):
        writes.append(descriptor)
        if len(writes) == 2:                       # the PNG fits, the report does not
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(descriptor)
    monkeypatch.setattr(export.os, "fsync", fsync_then_fill)
    assert render(scene, "--report", str(scene / "run.json")) == 2
    assert "cannot write the report" in one_line_error(capsys)
    assert sorted(p.name for p in scene.iterdir()) == ["doodle.png", "out.png", "style.png", "style_sem.png"]


@pytest.mark.parametrize("option, value", [("--alpha", "nan"), ("--beta", "inf"), ("--gamma", "-inf"),
                                           ("--gamma", "1e309"), ("--alpha", "1e30"), ("--seed", str(2 ** 64)),
                                           ("--seed", "-1")])
def test_numbers_out_of_range_are_one_line_errors_before_anything_is_read(scene, capsys, no_render, option, value):
    (scene / "style.png").unlink()                # parameters are checked first
    assert render(scene, f"{option}={value}") == 2
    assert option.lstrip("-") in one_line_error(capsys)


def test_a_huge_image_is_refused_from_its_header(scene, capsys, no_render):
    (scene / "doodle.png").write_bytes(png_claiming(20000, 20000))
    assert render(scene) == 2
    message = one_line_error(capsys)
    assert "20000x20000" in message and "16384 pixels on a side" in message


def test_the_implicit_size_obeys_the_size_limit(scene, capsys, no_render):
    wide = np.zeros((16, 8200, 3), np.uint8)
    wide[:, :4100] = (255, 0, 0)
    wide[:, 4100:] = (0, 0, 255)
    Image.fromarray(wide).save(scene / "doodle.png")
    argv = ["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
            "--out", str(scene / "out.png"), "--phases", "1", "--device", "cpu", "--quiet"]
    assert main(argv) == 2
    assert "8200x16" in one_line_error(capsys)


def test_a_tiny_painting_is_blamed_on_its_size_not_the_doodle(scene, capsys, no_render):
    Image.new("RGB", (1, 1), (200, 30, 30)).save(scene / "style.png")
    assert render(scene) == 2
    message = one_line_error(capsys)
    assert "style painting is only 1x1" in message and "colour" not in message


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_follow_the_umask(scene, umask, mode):
    previous = os.umask(umask)
    try:
        assert render(scene, "--report", str(scene / "run.json")) == 0
    finally:
        os.umask(previous)
    for name in ("out.png", "run.json"):
        assert stat.S_IMODE((scene / name).stat().st_mode) == mode
    assert json.loads((scene / "run.json").read_text())["output"].endswith("out.png")


REPOSITORY = Path(__file__).resolve().parents[1]      # the doodlepaint this test runs, in the subprocess too
KILLED_DURING_WRITE = """
import os, signal, sys
import doodlepaint.engine.export as export
real_fsync = os.fsync
def fsync_and_get_killed(descriptor):
    os.kill(os.getpid(), signal.SIGTERM)      # arrives while the temporary file is half done
    real_fsync(descriptor)
export.os.fsync = fsync_and_get_killed
export.write_atomically(sys.argv[1], b"whole" * 1000)
print("not reached: SIGTERM ends the process once the file is whole")
"""


def test_sigterm_during_a_write_leaves_the_whole_file_and_no_temporary_one(tmp_path):
    import signal
    import subprocess
    import sys
    target = tmp_path / "scene.doodlepaint"
    target.write_bytes(b"old")
    finished = subprocess.run([sys.executable, "-c", KILLED_DURING_WRITE, str(target)], capture_output=True,
                              text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    assert finished.returncode == -signal.SIGTERM and "not reached" not in finished.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["scene.doodlepaint"]
    assert target.read_bytes() == b"whole" * 1000


def test_a_fifo_as_an_input_or_token_is_refused_not_waited_on(tmp_path, capsys):
    import os
    import subprocess
    import sys

    fifo = tmp_path / "doodle.png"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "doodlepaint", "render", "--style", str(fifo), "--style-map", str(fifo),
                           "--target-map", str(fifo), "--out", str(tmp_path / "out.png")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "pipe, device or socket" in done.stderr
    from doodlepaint.engine.errors import DoodleError
    from doodlepaint.server.serve import read_token
    with pytest.raises(DoodleError, match="pipe, device or socket"):
        read_token(fifo, "0.0.0.0")
