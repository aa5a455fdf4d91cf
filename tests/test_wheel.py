"""The built wheel carries everything needed at run time, and its installed copy renders the demo
from outside the checkout."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

import doodlepaint

ROOT = Path(__file__).resolve().parent.parent
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def _run(args, cwd, env=None, timeout=120):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel from a copy of the sources (so that setuptools' build/ and egg-info never touch
    the checkout), install it into its own directory and return (wheel, site, env, outside)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "doodlepaint", source / "doodlepaint",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), "."],
         cwd=source, timeout=180)
    wheels = list(dist.glob("doodlepaint-*.whl"))
    assert len(wheels) == 1, wheels
    site = tmp / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheels[0])],
         cwd=tmp, timeout=180)
    outside = tmp / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(site)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return wheels[0], site, env, outside


def test_wheel_carries_runtime_files(installed):
    wheel = installed[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    for sample in ("style.png", "style_sem.png", "doodle.png", "labels.json"):
        assert f"doodlepaint/resources/sample/{sample}" in names
    assert "doodlepaint/resources/icons/doodlepaint.svg" in names
    for size in ICON_SIZES:
        assert f"doodlepaint/resources/icons/doodlepaint-{size}.png" in names
    assert any(re.fullmatch(r"doodlepaint-[^/]+\.dist-info/(licenses/)?LICENSE", n) for n in names), \
        "the wheel carries no LICENSE"
    assert not any(n.startswith(("tests/", "bench/", "packaging/")) for n in names)


def test_wheel_metadata_version_is_the_package_version(installed):
    wheel = installed[0]
    assert wheel.name.startswith(f"doodlepaint-{doodlepaint.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    assert f"\nVersion: {doodlepaint.__version__}\n" in text
    assert re.search(r"^License-Expression: MIT$", text, re.M) or re.search(r"^License: MIT$", text, re.M)


def test_installed_copy_is_the_one_imported(installed):
    _, site, env, outside = installed
    out = _run([sys.executable, "-c", "import doodlepaint; print(doodlepaint.__file__)"], cwd=outside, env=env)
    imported = Path(out.stdout.strip()).resolve()
    assert imported.is_relative_to(site.resolve()), imported


def test_installed_console_script_prints_version(installed):
    _, site, env, outside = installed
    script = site / "bin" / "doodlepaint"
    assert script.exists(), "pip --target installed no doodlepaint console script"
    out = _run([str(script), "--version"], cwd=outside, env=env)
    assert out.stdout.strip() == f"doodlepaint {doodlepaint.__version__}"


@pytest.mark.slow
def test_installed_copy_renders_the_demo(installed):
    _, site, env, outside = installed
    png = outside / "x.png"
    _run([sys.executable, "-m", "doodlepaint", "render", "--demo", "--size", "48", "--phases", "1",
          "--iterations", "2", "--out", str(png), "--device", "cpu", "--quiet"], cwd=outside, env=env)
    assert png.exists()
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.width == 48
        params = json.loads(image.text["doodlepaint"])
    assert params, "empty doodlepaint text chunk"
