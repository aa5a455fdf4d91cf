"""The desktop integration files agree with each other and with the package: one app id, one
version, icons of the sizes they claim, found through importlib.resources."""
from __future__ import annotations

import configparser
import importlib.resources
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

import doodlepaint

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "io.github.doodlepaint.doodlepaint"
DESKTOP = ROOT / "packaging" / "linux" / f"{APP_ID}.desktop"
METAINFO = ROOT / "packaging" / "linux" / f"{APP_ID}.metainfo.xml"
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def icons():
    return importlib.resources.files("doodlepaint") / "resources" / "icons"


def test_icons_are_package_resources_of_the_right_sizes():
    assert (icons() / "doodlepaint.svg").is_file()
    svg = (icons() / "doodlepaint.svg").read_text()
    assert 'viewBox="0 0 256 256"' in svg
    for size in ICON_SIZES:
        with importlib.resources.as_file(icons() / f"doodlepaint-{size}.png") as path, Image.open(path) as png:
            assert png.size == (size, size)
            assert png.mode == "RGBA"


def test_small_icon_resembles_the_large_one():
    """The PNGs are renders of one drawing: the 32 px icon is the 256 px one, scaled down."""
    with importlib.resources.as_file(icons() / "doodlepaint-256.png") as big_path, \
            importlib.resources.as_file(icons() / "doodlepaint-32.png") as small_path:
        big = np.asarray(Image.open(big_path).convert("RGB").resize((32, 32), Image.Resampling.BOX), float)
        small = np.asarray(Image.open(small_path).convert("RGB"), float)
    assert np.abs(big - small).mean() < 12


def test_desktop_file():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(DESKTOP, encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"].split()[0] == "doodlepaint"
    assert section["Icon"] == APP_ID
    assert "Graphics" in section["Categories"].split(";")
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_metainfo_matches_the_package():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("project_license") == "MIT"
    assert root.find("launchable").text == DESKTOP.name
    newest = root.find("releases/release")
    assert newest.get("version") == doodlepaint.__version__, "add a <release> for the new version"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", newest.get("date"))


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstreamcli is not installed")
def test_metainfo_validates():
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_license_and_single_version():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "doodlepaint contributors" in text
    with open(ROOT / "pyproject.toml", "rb") as file:
        pyproject = tomllib.load(file)
    assert "version" not in pyproject["project"], "the version lives in doodlepaint/__init__.py only"
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "doodlepaint.__version__"}
