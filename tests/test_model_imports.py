"""Imports point one way: ui -> model -> engine. Only ui imports Qt; the model loads no torch. The model's
events are psygnal's, which needs no Qt."""
import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "doodlepaint"


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def _imported_roots(folder: Path) -> set[str]:
    roots = set()
    for file in folder.glob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                roots |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                roots.add(node.module)
    return roots


def test_the_engine_loads_no_qt():
    modules = _loaded_after("import doodlepaint.engine, doodlepaint.engine.sample")
    assert not any(m.startswith(("PySide6", "shiboken6", "doodlepaint.ui", "doodlepaint.model")) for m in modules)


def test_the_model_loads_no_qt_and_no_torch():
    modules = _loaded_after("import doodlepaint.model.document, doodlepaint.model.project, "
                            "doodlepaint.model.autosave, doodlepaint.model.painting, doodlepaint.model.open_document")
    assert not any(m.startswith(("PySide6", "shiboken6", "doodlepaint.ui", "torch")) for m in modules)


def test_the_model_imports_only_numpy_psygnal_the_standard_library_and_the_engine():
    for name in _imported_roots(PACKAGE / "model"):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or top in ("numpy", "psygnal", "__future__") or \
            name.startswith(("doodlepaint.engine", "doodlepaint.model")) or name == "doodlepaint", name
