"""`doodlepaint render --size N` above the working size: the print pipeline end to end at a small size, and
its one-line errors that write nothing."""
import json

import numpy as np
import pytest
from PIL import Image

from doodlepaint.cli import main
from doodlepaint.engine.export import read_png_metadata
from test_cli import one_line_error

QUICK = ["--phases", "1", "--iterations", "2", "--device", "cpu", "--quiet"]


@pytest.fixture
def scene(tmp_path):
    """A 64x48 textured style (reddish strokes left, bluish right), its map, and a 32x24 doodle with the two
    labels swapped."""
    rng = np.random.default_rng(5)
    style = np.zeros((48, 64, 3), np.int64)
    style[:, :32] = (190, 50, 50)
    style[:, 32:] = (50, 50, 190)
    style = (style + rng.integers(-40, 41, (48, 64, 1))).clip(0, 255).astype(np.uint8)
    style_map = np.zeros((48, 64, 3), np.uint8)
    style_map[:, :32] = (255, 0, 0)
    style_map[:, 32:] = (0, 0, 255)
    Image.fromarray(style).save(tmp_path / "style.png")
    Image.fromarray(style_map).save(tmp_path / "style_sem.png")
    doodle = np.zeros((24, 32, 3), np.uint8)
    doodle[:, :16] = (0, 0, 255)
    doodle[:, 16:] = (255, 0, 0)
    Image.fromarray(doodle).save(tmp_path / "doodle.png")
    return tmp_path


def render(scene, *extra):
    return main(["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
                 "--out", str(scene / "out.png"), *QUICK, *extra])


def test_a_print_is_copied_from_the_painting_at_size(scene):
    assert render(scene, "--size", "192", "--working-size", "64", "--report", str(scene / "report.json")) == 0
    image = np.asarray(Image.open(scene / "out.png").convert("RGB")).astype(int)
    assert image.shape == (144, 192, 3)
    # left half is the doodle's blue label, right half its red one, each in its painting's colours
    assert (image[:, 8:88, 2] > image[:, 8:88, 0]).mean() > 0.95
    assert (image[:, 104:184, 0] > image[:, 104:184, 2]).mean() > 0.95
    # the painting's strokes, not an upscaled blur: neighbouring pixels differ as much as in the painting
    style = np.asarray(Image.open(scene / "style.png")).astype(int)
    detail = np.abs(np.diff(image[:, 104:184], axis=1)).mean()
    assert detail > 0.6 * np.abs(np.diff(style[:, 32:], axis=1)).mean()
    meta = read_png_metadata(scene / "out.png")
    assert meta["params"]["size"] == 192
    assert meta["print"] == {"working_size": 64, "brush_scale": 1.0, "synthesis_patch_size": 5, "tile": 512}
    report = json.loads((scene / "report.json").read_text())
    assert report["size"] == [192, 144] and report["print"]["working_size"] == 64


def test_the_brush_scale_is_carried(scene):
    assert render(scene, "--size", "192", "--working-size", "64", "--brush-scale", "1.5") == 0
    assert read_png_metadata(scene / "out.png")["print"]["brush_scale"] == 1.5


@pytest.mark.parametrize("extra, message", [
    (["--size", "1024", "--working-size", "64"], "too small for a 1024x768 print at brush scale 1"),
    (["--size", "192", "--working-size", "64", "--brush-scale", "20"], "brush scale must be between"),
    (["--size", "64", "--working-size", "64"], "for prints: give a --size above the working size"),
    (["--brush-scale", "2", "--method", "gram"], "for prints"),
    (["--size", "9000"], "size must be between"),
])
def test_print_errors_are_one_line_and_write_nothing(scene, capsys, extra, message):
    assert render(scene, *extra) == 2
    assert message in one_line_error(capsys)
    assert not (scene / "out.png").exists()


def test_running_out_of_memory_says_what_to_do_and_writes_nothing(scene, capsys, monkeypatch):
    import doodlepaint.engine.print_size as print_size

    def exhausted(*args, **kwargs):
        raise MemoryError
        yield

    monkeypatch.setattr(print_size, "synthesise", exhausted)
    assert render(scene, "--size", "192", "--working-size", "64") == 2
    error = one_line_error(capsys)
    assert "out of memory painting the 192x144 print" in error and "choose a smaller size" in error
    assert not (scene / "out.png").exists()
