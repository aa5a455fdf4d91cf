"""Writing PNGs atomically, with the render's parameters in their text chunks."""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import secrets
import signal
import stat
import tempfile
import threading
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from doodlepaint import __version__
from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.params import TransferParams

PARAMS_KEY = "doodlepaint"


def _new_temporary(path: Path) -> tuple[int, Path]:
    """A new hidden file beside `path`, opened for writing, created as any new file is: the kernel applies the
    umask to its 0666, so nobody has to read (that is, set) the process's umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:       # a name drawn twice: 48 random bits, draw again
            continue


@contextlib.contextmanager
def _termination_deferred():
    """SIGTERM and SIGHUP wait until the file is whole and renamed, then take effect as they would have.

    A kill during the write would otherwise end the process before its clean-up, leaving the hidden
    temporary file behind. Only the main thread can hold signals; elsewhere the write is not guarded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    names = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {number: signal.signal(number, lambda number, frame: pending.append(number)) for number in names}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in pending:
            signal.raise_signal(number)


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a crash or a kill never leaves half a file, nor
    the temporary one. The file gets the mode a new file gets under the umask (an existing file keeps its own)."""
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    with _termination_deferred():
        handle, temporary = _new_temporary(path)
        try:
            with os.fdopen(handle, "wb") as file:
                if mode is not None:
                    os.fchmod(file.fileno(), mode)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def check_writable(path: str | Path, what: str, force: bool = False) -> None:
    """Before minutes of rendering: `path` can be written (a file, not a folder; a folder that exists and
    takes new files; not already there unless `force`). Raises DoodleError saying which."""
    path = Path(path)
    folder = path.absolute().parent
    if path.is_dir():
        raise DoodleError(f"{what} {path} is a folder: give a file name in it")
    if path.exists() and not force:
        raise DoodleError(f"{path} already exists: choose another {what} or add --force")
    if not folder.is_dir():
        raise DoodleError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        handle, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise DoodleError(f"cannot write {path}: the folder {folder} does not take new files "
                          f"({error.strerror or error})") from error
    os.close(handle)
    os.unlink(probe)


def encode_png(rgb: np.ndarray, metadata: dict | None = None) -> bytes:
    """PNG bytes with `metadata` as JSON in its text chunk."""
    info = PngImagePlugin.PngInfo()
    if metadata is not None:
        info.add_text(PARAMS_KEY, json.dumps(metadata, sort_keys=True, allow_nan=False))
    info.add_text("Software", f"doodlepaint {__version__}")
    encoded = io.BytesIO()
    Image.fromarray(rgb).save(encoded, format="PNG", pnginfo=info)
    return encoded.getvalue()


def render_metadata(params: TransferParams, **context) -> dict:
    """What a render's PNG carries so the picture can be made again: the version, parameters and `context`."""
    return {"doodlepaint": __version__, "params": dataclasses.asdict(params), **context}


def save_png(path: str | Path, rgb: np.ndarray, metadata: dict | None = None) -> None:
    """A PNG written atomically, with `metadata` as JSON in its text chunk."""
    encoded = encode_png(rgb, metadata)
    try:
        write_atomically(path, encoded)
    except OSError as error:
        raise DoodleError(f"cannot write {path}: {error.strerror or error}") from error


def save_render(path: str | Path, rgb: np.ndarray, params: TransferParams, **context) -> None:
    """A render as PNG with the version, its parameters and `context` (inputs, label names) in its text
    chunk, so the picture can be made again: one format for the command line and the app."""
    save_png(path, rgb, render_metadata(params, **context))


def read_png_metadata(path: str | Path) -> dict:
    with Image.open(path) as image:
        return json.loads(image.text[PARAMS_KEY])
