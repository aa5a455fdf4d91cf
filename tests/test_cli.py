"""The command line: one-line errors with a non-zero exit, reports, PNG text chunks, no silent overwrite."""
import json

import numpy as np
import pytest
from PIL import Image

from doodlepaint import __version__
from doodlepaint.cli import main
from doodlepaint.engine.export import read_png_metadata

TINY = ["--size", "48", "--phases", "1", "--iterations", "2", "--device", "cpu", "--quiet"]


@pytest.fixture
def scene(tmp_path):
    """A 48x32 style (red left, blue right), its map, and a doodle with the two labels swapped."""
    style = np.zeros((32, 48, 3), np.uint8)
    style[:, :24] = (200, 30, 30)
    style[:, 24:] = (30, 30, 200)
    style_map = np.zeros_like(style)
    style_map[:, :24] = (255, 0, 0)
    style_map[:, 24:] = (0, 0, 255)
    Image.fromarray(style).save(tmp_path / "style.png")
    Image.fromarray(style_map).save(tmp_path / "style_sem.png")
    Image.fromarray(style_map[:, ::-1].copy()).save(tmp_path / "doodle.png")
    return tmp_path


def render(scene, *extra):
    return main(["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
                 "--out", str(scene / "out.png"), *TINY, *extra])


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("doodlepaint: error: ")
    return err[-1]


def test_render_finds_sibling_map_writes_png_with_params_and_report(scene, capsys):
    assert render(scene, "--report", str(scene / "report.json"), "--gamma", "75") == 0
    image = Image.open(scene / "out.png")
    assert image.size == (48, 32)
    meta = read_png_metadata(scene / "out.png")
    assert meta["params"]["gamma"] == 75.0 and meta["doodlepaint"] == __version__
    report = json.loads((scene / "report.json").read_text())
    assert report["device"] == "cpu" and len(report["phase_seconds"]) == 1 and report["size"] == [48, 32]


def test_existing_output_is_not_overwritten_without_force(scene, capsys):
    (scene / "out.png").write_bytes(b"precious")
    assert render(scene) == 2
    assert "already exists" in one_line_error(capsys)
    assert (scene / "out.png").read_bytes() == b"precious"
    assert render(scene, "--force") == 0


def test_an_output_folder_that_does_not_exist_fails_before_rendering(scene, capsys, monkeypatch):
    import doodlepaint.engine
    monkeypatch.setattr(doodlepaint.engine, "run_transfer", lambda *a, **k: pytest.fail("rendered anyway"))
    assert main(["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
                 "--out", str(scene / "missing" / "out.png"), *TINY]) == 2
    assert "does not exist" in one_line_error(capsys)


def test_missing_style_file(scene, capsys):
    (scene / "style.png").unlink()
    assert render(scene) == 2
    assert "style image not found" in one_line_error(capsys)


def test_corrupt_target_map(scene, capsys):
    (scene / "doodle.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    assert render(scene) == 2
    assert "cannot read target map" in one_line_error(capsys)
    assert not (scene / "out.png").exists()


def test_doodle_colour_missing_from_style_map(scene, capsys):
    doodle = np.array(Image.open(scene / "doodle.png"))
    doodle[:10, :10] = (0, 255, 0)
    Image.fromarray(doodle).save(scene / "doodle.png")
    assert render(scene) == 2
    assert "#00ff00" in one_line_error(capsys)


def test_style_map_of_another_size_is_resized_with_a_warning(scene, capsys):
    Image.open(scene / "style_sem.png").resize((96, 64), Image.NEAREST).save(scene / "style_sem.png")
    assert render(scene) == 0
    assert "resized" in capsys.readouterr().err


def test_no_style_map_anywhere(scene, capsys):
    (scene / "style_sem.png").unlink()
    assert render(scene) == 2
    assert "style_sem.png" in one_line_error(capsys)


def test_bad_parameter_is_a_one_line_error(scene, capsys):
    assert render(scene, "--gamma", "-1") == 2
    assert "gamma" in one_line_error(capsys)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and __version__ in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["painting.jpg"], ["scene.doodlepaint", "--render-on-start"]])
def test_without_a_subcommand_the_app_starts_with_the_arguments(monkeypatch, argv):
    import doodlepaint.ui.app
    started = []
    monkeypatch.setattr(doodlepaint.ui.app, "main", lambda app_argv: started.append(app_argv) or 0)
    assert main(argv) == 0
    assert started == [["doodlepaint", *argv]]


@pytest.mark.slow
def test_instant_preset_renders_in_one_pass_with_the_shipped_decoder(scene):
    """Real VGG, the shipped decoder: `--preset Instant` writes its picture and says it used the swap."""
    assert main(["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
                 "--out", str(scene / "out.png"), "--preset", "Instant", "--size", "48", "--device", "cpu",
                 "--quiet"]) == 0
    out = np.asarray(Image.open(scene / "out.png").convert("RGB")).astype(float)
    assert out.shape == (32, 48, 3)
    assert read_png_metadata(scene / "out.png")["params"]["method"] == "swap"
    left, right = out[:, :16].mean((0, 1)), out[:, 32:].mean((0, 1))
    assert left[2] > left[0] and right[0] > right[2]      # the doodle swapped the labels: blue left, red right


def test_refine_starts_from_the_instant_picture_with_the_shortened_schedule(scene, monkeypatch):
    import doodlepaint.engine.swap as swap
    from doubles import TinyDecoder, TinyEncoder
    import doodlepaint.engine.vgg as vgg

    monkeypatch.setattr(swap, "get_decoder", lambda layer, device="cpu": TinyDecoder())
    monkeypatch.setattr(vgg, "get_encoder", lambda *args, **kwargs: TinyEncoder())
    assert main(["render", "--style", str(scene / "style.png"), "--target-map", str(scene / "doodle.png"),
                 "--out", str(scene / "out.png"), "--size", "48", "--device", "cpu", "--quiet", "--refine"]) == 0
    params = read_png_metadata(scene / "out.png")["params"]
    assert params["init"] == "instant" and params["phases"] == 2 and params["iterations"] == 16


def test_refine_with_init_is_an_error(scene, capsys):
    assert render(scene, "--refine", "--init", str(scene / "style.png")) == 2
    assert "--refine" in one_line_error(capsys)
