"""Bad image files give an ImageError that names the file (images.load_rgb)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from doodlepaint.engine.errors import DoodleError, ImageError
from doodlepaint.engine.images import load_rgb, resize_nearest


def _png_bytes(size=(64, 48)) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _assert_error_names(path, call=load_rgb):
    with pytest.raises(ImageError) as info:
        call(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)          # one line, for the CLI and a message box
    assert isinstance(info.value, DoodleError)
    return str(info.value)


def test_missing_file(tmp_path):
    message = _assert_error_names(tmp_path / "nope.png")
    assert "not found" in message


def test_directory(tmp_path):
    folder = tmp_path / "a_folder.png"
    folder.mkdir()
    assert "folder" in _assert_error_names(folder)


def test_random_bytes_named_png(tmp_path):
    path = tmp_path / "corrupt.png"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _assert_error_names(path)


def test_png_signature_then_garbage(tmp_path):
    path = tmp_path / "header_only.png"
    path.write_bytes(_png_bytes()[:8] + b"\x00" * 100)
    _assert_error_names(path)


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_png(tmp_path, keep):
    data = _png_bytes()
    path = tmp_path / "truncated.png"
    path.write_bytes(data[: int(len(data) * keep)])
    _assert_error_names(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    _assert_error_names(path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not an image\n")
    _assert_error_names(path)


def test_good_png_loads_as_rgb_uint8(tmp_path):
    path = tmp_path / "ok.png"
    path.write_bytes(_png_bytes((20, 10)))
    rgb = load_rgb(path)
    assert rgb.shape == (10, 20, 3) and rgb.dtype == np.uint8 and rgb.flags.writeable


def test_resize_nearest_makes_no_new_values():
    ids = np.arange(12).reshape(3, 4)
    big = resize_nearest(ids, 8, 6)
    assert big.shape == (6, 8) and set(np.unique(big)) <= set(range(12))
    assert resize_nearest(ids, 4, 3) is ids


def test_a_fifo_or_device_is_refused_at_once_not_waited_on(tmp_path):
    """Reading a FIFO with no writer blocks forever; only regular files are opened."""
    import os

    from doodlepaint.engine.images import image_size, load_rgb

    fifo = tmp_path / "style.png"
    os.mkfifo(fifo)
    for read in (load_rgb, image_size):
        with pytest.raises(ImageError, match="pipe, device or socket"):
            read(fifo, "style image")
    with pytest.raises(ImageError, match="pipe, device or socket"):
        load_rgb("/dev/zero", "style image")
    with pytest.raises(ImageError, match="folder"):
        load_rgb(tmp_path, "style image")


def test_image_size_reads_the_header_as_a_person_sees_it(tmp_path):
    from doodlepaint.engine.images import image_size

    image = Image.new("RGB", (40, 24))
    exif = image.getexif()
    exif[0x0112] = 6                                     # rotated a quarter turn: shown 24 wide, 40 high
    image.save(tmp_path / "phone.jpg", exif=exif)
    assert image_size(tmp_path / "phone.jpg") == (24, 40) == load_rgb(tmp_path / "phone.jpg").shape[1::-1]
