"""Imports point one way (ui -> model -> engine): the engine never loads Qt."""
from __future__ import annotations

import json
import subprocess
import sys

ENGINE_MODULES = ["doodlepaint.engine"] + [f"doodlepaint.engine.{name}" for name in (
    "vgg", "labels", "patch", "gram", "transfer", "params", "images", "errors", "device", "sample", "sanet")]


def test_importing_the_engine_loads_no_qt():
    code = (
        "import importlib, json, sys\n"
        f"for name in {ENGINE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'qimage2ndarray', 'pytestqt'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"the engine imported Qt modules: {loaded}"


def test_engine_public_names():
    import doodlepaint.engine as engine

    for name in ("run_transfer", "render", "TransferParams", "TransferRequest", "Progress", "Cancelled",
                 "ImageError", "LabelMapError", "DoodleError"):
        assert hasattr(engine, name), name
