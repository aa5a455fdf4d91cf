"""Project files: one zip holding the images and maps (.npy), label names and parameters (JSON).

A project is versioned; an unreadable, damaged or newer file raises ProjectError with a message the
app can show as is. Writes go through engine.export.write_atomically (a temporary file, then a
rename), so a crash never leaves half a project behind.
"""
from __future__ import annotations

import dataclasses
import io
import json
import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from doodlepaint import __version__
from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.export import write_atomically
from doodlepaint.engine.images import MAX_PIXELS, MAX_SIDE, open_regular_file
from doodlepaint.engine.labels import MAX_LABELS
from doodlepaint.engine.params import TransferParams
from doodlepaint.model.document import MAX_NAME_LENGTH, MIN_DOODLE_SIDE, Document

FORMAT = "doodlepaint-project"
FORMAT_VERSION = 1
SUFFIX = ".doodlepaint"
ARRAYS = ("style", "style_ids", "target_ids", "palette", "content", "result")
REQUIRED = ("style", "style_ids", "target_ids", "palette")
ENCRYPTED = 0x1          # a zip member's general-purpose flag: zipfile would raise RuntimeError reading it
MAX_META_BYTES = 1_000_000


class ProjectError(DoodleError):
    """A project file cannot be opened."""


@dataclass(frozen=True, eq=False)
class ProjectFile:
    """A project as read: the document, and for a recovery file the project it was autosaved from."""
    document: Document
    origin: Path | None = None


def project_bytes(document: Document, origin: Path | None = None) -> bytes:
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "app_version": __version__,
            "names": list(document.names), "params": dataclasses.asdict(document.params),
            "right_button_label": document.right_button_label}
    if origin is not None:
        meta["origin"] = str(origin)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.json", json.dumps(meta, indent=2, allow_nan=False))
        for name in ARRAYS:
            array = getattr(document, name)
            if array is not None:
                npy = io.BytesIO()
                np.save(npy, np.ascontiguousarray(array), allow_pickle=False)
                archive.writestr(f"{name}.npy", npy.getvalue())
    return buffer.getvalue()


def save_project(document: Document, path: str | Path, origin: Path | None = None) -> None:
    """`origin`: the project a recovery file stands in for, so recovered work goes back to its file."""
    write_atomically(Path(path), project_bytes(document, origin))


class _Damaged(ValueError):
    """What is wrong inside a project file, said in a few words."""


def _read_meta(archive: zipfile.ZipFile, path: Path) -> dict:
    if archive.getinfo("project.json").file_size > MAX_META_BYTES:
        raise _Damaged("project.json is too large")
    meta = json.loads(archive.read("project.json"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ProjectError(f"{path.name} is not a doodlepaint project")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Damaged(f"format version {version!r}")
    if version > FORMAT_VERSION:
        raise ProjectError(f"{path.name} was saved by a newer doodlepaint (format {version}, this version reads "
                           f"up to {FORMAT_VERSION}): update doodlepaint to open it")
    names, params, origin = meta.get("names"), meta.get("params"), meta.get("origin")
    if not isinstance(names, list) or not all(isinstance(n, str) and len(n) <= MAX_NAME_LENGTH for n in names):
        raise _Damaged(f"the label names must be a list of texts of at most {MAX_NAME_LENGTH} characters")
    if not isinstance(params, dict):
        raise _Damaged("the parameters must be a table of values")
    if origin is not None and not isinstance(origin, str):
        raise _Damaged("the original project's path must be text")
    right = meta.get("right_button_label", 0)       # projects saved before it was kept paint the first label
    if isinstance(right, bool) or not isinstance(right, int):
        raise _Damaged(f"the right button's label must be a label number, not {right!r}")
    return meta


def _read_array(archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """One array, its shape and type read from the .npy header and checked before its data is read."""
    info = archive.getinfo(f"{name}.npy")
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise _Damaged(f"{name} has an unknown .npy version {version}")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(stream)
        if dtype.hasobject or dtype.kind not in "iu" or dtype.itemsize > 8:
            raise _Damaged(f"{name} holds {dtype} values, not whole numbers")
        if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] != 3):
            raise _Damaged(f"{name} has the shape {shape}: expected (height, width) or (height, width, 3)")
        if name == "palette":
            if not 1 <= shape[0] <= MAX_LABELS:
                raise _Damaged(f"the palette has {shape[0]} colours, not 1 to {MAX_LABELS}")
        elif min(shape[:2]) < 1:
            raise _Damaged(f"{name} is empty ({shape})")
        elif max(shape[:2]) > MAX_SIDE or shape[0] * shape[1] > MAX_PIXELS:
            raise _Damaged(f"{name} is {shape[1]}x{shape[0]}, beyond the limit of {MAX_SIDE} pixels on a side "
                           f"and {MAX_PIXELS // 1_000_000} megapixels")
        if info.file_size > int(np.prod(shape)) * dtype.itemsize + 65536:
            raise _Damaged(f"{name} is larger than its header says")
        expected = int(np.prod(shape)) * dtype.itemsize
        data = stream.read(expected)
    if len(data) != expected:
        raise _Damaged(f"{name} is shorter than its header says")
    return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")


def _colours(array: np.ndarray | None, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray | None:
    """An RGB image or palette: three channels of 0..255."""
    if array is None:
        return None
    if array.ndim != 2 + (name != "palette") or array.shape[-1] != 3:
        raise _Damaged(f"{name} has the shape {array.shape}, not three colour channels")
    if shape is not None and array.shape[:2] != shape:
        raise _Damaged(f"{name} is {array.shape[1]}x{array.shape[0]} but should be {shape[1]}x{shape[0]}")
    if array.size and (array.min() < 0 or array.max() > 255):
        raise _Damaged(f"{name} has values outside 0..255")
    return array.astype(np.uint8)


def _labels(array: np.ndarray, name: str, shape: tuple[int, int] | None, labels: int) -> np.ndarray:
    if array.ndim != 2:
        raise _Damaged(f"{name} has the shape {array.shape}, not (height, width)")
    if shape is not None and array.shape != shape:
        raise _Damaged(f"{name} is {array.shape[1]}x{array.shape[0]} but its image is {shape[1]}x{shape[0]}")
    if min(array.shape) < MIN_DOODLE_SIDE:
        raise _Damaged(f"{name} is {array.shape[1]}x{array.shape[0]}, smaller than {MIN_DOODLE_SIDE} pixels a side")
    if array.min() < 0 or array.max() >= labels:
        raise _Damaged(f"{name} uses labels that are not in the palette")
    return array.astype(np.int64)


def _document(arrays: dict[str, np.ndarray], meta: dict) -> Document:
    """Every array and field checked together: nothing half-valid gets into a Document."""
    missing = [name for name in REQUIRED if name not in arrays]
    if missing:
        raise _Damaged(f"it lacks {', '.join(missing)}")
    palette = _colours(arrays["palette"], "palette")
    style = _colours(arrays["style"], "style")
    style_ids = _labels(arrays["style_ids"], "style_ids", style.shape[:2], len(palette))
    target_ids = _labels(arrays["target_ids"], "target_ids", None, len(palette))
    content = _colours(arrays.get("content"), "content", target_ids.shape)
    result = _colours(arrays.get("result"), "result")
    names = meta["names"]
    if len(names) != len(palette):
        raise _Damaged(f"{len(names)} label names for {len(palette)} labels")
    right_button_label = meta.get("right_button_label", 0)
    if not 0 <= right_button_label < len(palette):
        raise _Damaged(f"the right button's label is {right_button_label}, not one of the labels 0 to "
                       f"{len(palette) - 1}")
    known = {f.name for f in dataclasses.fields(TransferParams)}
    params = TransferParams(**{k: v for k, v in meta["params"].items() if k in known})
    return Document(style=style, style_ids=style_ids, target_ids=target_ids, palette=palette, names=list(names),
                    params=params, content=content, result=result, right_button_label=right_button_label)


def read_project(path: str | Path) -> ProjectFile:
    """The project at `path`, checked whole; raises ProjectError saying what is wrong, having changed nothing."""
    path = Path(path)
    try:
        with open_regular_file(path, "project", ProjectError) as file, zipfile.ZipFile(file) as archive:
            encrypted = [info.filename for info in archive.infolist() if info.flag_bits & ENCRYPTED]
            if encrypted:
                raise _Damaged(f"{', '.join(encrypted[:3])} {'is' if len(encrypted) == 1 else 'are'} encrypted")
            meta = _read_meta(archive, path)
            names = set(archive.namelist())
            arrays = {name: _read_array(archive, name) for name in ARRAYS if f"{name}.npy" in names}
        document = _document(arrays, meta)
    except ProjectError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError, RecursionError,
            NotImplementedError, zlib.error, lzma.LZMAError) as error:
        raise ProjectError(f"{path.name} is damaged and cannot be opened ({error})") from error
    return ProjectFile(document, Path(meta["origin"]) if meta.get("origin") else None)


def load_project(path: str | Path) -> Document:
    return read_project(path).document
