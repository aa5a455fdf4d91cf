"""Project files: one zip holding the images and maps (.npy), label names and parameters (JSON).

A project is versioned; an unreadable, damaged or newer file raises ProjectError with a message the
app can show as is. Writes go through engine.export.write_atomically (a temporary file, then a
rename), so a crash never leaves half a project behind.
"""
from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from doodlepaint import __version__
from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.export import write_atomically
from doodlepaint.engine.params import TransferParams
from doodlepaint.model.document import Document

FORMAT = "doodlepaint-project"
FORMAT_VERSION = 1
SUFFIX = ".doodlepaint"
ARRAYS = ("style", "style_ids", "target_ids", "palette", "content", "result")


class ProjectError(DoodleError):
    """A project file cannot be opened."""


def project_bytes(document: Document) -> bytes:
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "app_version": __version__,
            "names": list(document.names), "params": dataclasses.asdict(document.params)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.json", json.dumps(meta, indent=2))
        for name in ARRAYS:
            array = getattr(document, name)
            if array is not None:
                npy = io.BytesIO()
                np.save(npy, np.ascontiguousarray(array), allow_pickle=False)
                archive.writestr(f"{name}.npy", npy.getvalue())
    return buffer.getvalue()


def save_project(document: Document, path: str | Path) -> None:
    write_atomically(Path(path), project_bytes(document))


def _read_meta(archive: zipfile.ZipFile, path: Path) -> dict:
    meta = json.loads(archive.read("project.json"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ProjectError(f"{path.name} is not a doodlepaint project")
    version = meta.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ProjectError(f"{path.name} was saved by a newer doodlepaint (format {version}, this version reads "
                           f"up to {FORMAT_VERSION}): update doodlepaint to open it")
    return meta


def _check(document: Document) -> None:
    labels = len(document.palette)
    if document.style.ndim != 3 or document.style_ids.shape != document.style.shape[:2]:
        raise ValueError("the style map does not match the style image")
    if document.content is not None and document.content.shape[:2] != document.target_ids.shape:
        raise ValueError("the photo does not match the doodle")
    if len(document.names) != labels or document.palette.shape != (labels, 3):
        raise ValueError("the label names do not match the palette")
    for ids in (document.style_ids, document.target_ids):
        if ids.ndim != 2 or ids.min() < 0 or ids.max() >= labels:
            raise ValueError("a label map uses labels that are not in the palette")


def load_project(path: str | Path) -> Document:
    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"project not found: {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            meta = _read_meta(archive, path)
            names = set(archive.namelist())
            arrays = {name: np.load(io.BytesIO(archive.read(f"{name}.npy")), allow_pickle=False)
                      for name in ARRAYS if f"{name}.npy" in names}
        known = {f.name for f in dataclasses.fields(TransferParams)}
        params = TransferParams(**{k: v for k, v in meta["params"].items() if k in known})
        document = Document(
            style=arrays["style"].astype(np.uint8), style_ids=arrays["style_ids"].astype(np.int64),
            target_ids=arrays["target_ids"].astype(np.int64), palette=arrays["palette"].astype(np.uint8),
            names=[str(n) for n in meta["names"]], params=params,
            content=arrays.get("content"), result=arrays.get("result"))
        _check(document)
    except ProjectError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as error:
        raise ProjectError(f"{path.name} is damaged and cannot be opened ({error})") from error
    return document
