"""Property tests (Hypothesis) over what a user can hand doodlepaint: images of every mode and size, label
maps with noise and JPEG artefacts, and damaged project files. Each either works or is a one-line error
of doodlepaint's own; nothing else escapes, nothing hangs, nothing is silently wrong."""
from __future__ import annotations

import io
import json
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from doodlepaint.engine.errors import DoodleError, ImageError, LabelMapError
from doodlepaint.engine.images import MAX_PIXELS, MAX_SIDE, load_rgb
from doodlepaint.engine.labels import LabelMapWarning, hex_colour, style_label_map, target_label_ids
from doodlepaint.engine.params import TransferParams
from doodlepaint.model.document import Document
from doodlepaint.model.project import ARRAYS, ProjectError, load_project, project_bytes
from reliability_helpers import png_claiming

# derandomize: the same examples on every run, so `make test` is repeatable (raise max_examples to explore).
FEW = settings(max_examples=40, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- images: every mode and size comes back as RGB uint8 of its own size -------------------------------

MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I", "F", "CMYK"]
FORMATS = {"PNG": ".png", "TIFF": ".tif", "JPEG": ".jpg", "BMP": ".bmp", "WEBP": ".webp"}


@FEW
@given(mode=st.sampled_from(MODES), fmt=st.sampled_from(sorted(FORMATS)), width=st.integers(1, 70),
       height=st.integers(1, 70), seed=st.integers(0, 2 ** 16))
def test_any_image_mode_and_size_loads_as_rgb(tmp_path_factory, mode, fmt, width, height, seed):
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (height, width, 4), dtype=np.uint8), "RGBA").convert(mode)
    path = tmp_path_factory.mktemp("img") / f"image{FORMATS[fmt]}"
    try:
        image.save(path, fmt)
    except (OSError, ValueError, KeyError):
        assume(False)                         # this format cannot hold this mode: nothing to test
    rgb = load_rgb(path)
    assert rgb.shape == (height, width, 3) and rgb.dtype == np.uint8


@FEW
@given(values=hnp.arrays(np.uint16, st.tuples(st.integers(1, 20), st.integers(1, 20))))
def test_sixteen_bit_greys_are_scaled_not_clipped(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("grey") / "grey16.png"
    Image.fromarray(values).save(path)
    rgb = load_rgb(path)
    expected = np.round(values / 257.0)
    assert np.abs(rgb[..., 0].astype(int) - expected).max() <= 1
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


@FEW
@given(width=st.integers(1, 40000), height=st.integers(1, 40000))
def test_an_image_header_beyond_the_limit_is_refused_before_decoding(tmp_path_factory, width, height):
    assume(max(width, height) > MAX_SIDE or width * height > MAX_PIXELS or width * height < 4_000_000)
    path = tmp_path_factory.mktemp("huge") / "claims.png"
    path.write_bytes(png_claiming(width, height))
    try:
        rgb = load_rgb(path)
    except ImageError as error:
        beyond = max(width, height) > MAX_SIDE or width * height > MAX_PIXELS
        assert ("limit" in str(error)) == beyond and "\n" not in str(error)
    else:
        assert rgb.shape == (height, width, 3)


@pytest.mark.parametrize("orientation, upright", [(1, lambda a: a), (3, lambda a: np.rot90(a, 2)),
                                                  (6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1))])
def test_exif_orientation_is_applied(tmp_path, orientation, upright):
    """A phone photo stored sideways (EXIF orientation 6: turn it 90 degrees clockwise) comes in upright."""
    pixels = np.zeros((24, 40, 3), np.uint8)
    pixels[:12, :20] = (250, 0, 0)            # stored: red in the top left quarter
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(tmp_path / "photo.jpg", exif=exif.tobytes(), quality=95)
    rgb = load_rgb(tmp_path / "photo.jpg")
    expected = upright(pixels)
    assert rgb.shape == expected.shape and np.abs(rgb.astype(int) - expected).mean() < 8


# --- label maps: noise and JPEG artefacts neither lose nor invent labels ----------------------------------

COLOURS = np.array([(255, 0, 0), (0, 160, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255), (0, 255, 255),
                    (0, 0, 0), (255, 255, 255)], np.uint8)


@st.composite
def label_layouts(draw):
    """A 96x96 map: a background label and a few rectangles, each at least 12 pixels on a side."""
    labels = draw(st.lists(st.integers(0, len(COLOURS) - 1), min_size=2, max_size=6, unique=True))
    ids = np.full((96, 96), labels[0], np.int64)
    for label in labels[1:]:
        w, h = draw(st.integers(12, 48)), draw(st.integers(12, 48))
        x, y = draw(st.integers(0, 96 - w)), draw(st.integers(0, 96 - h))
        ids[y:y + h, x:x + w] = label
    return ids


def _solid_labels(ids: np.ndarray, side: int) -> set[int]:
    """Labels with a side x side square of their own somewhere."""
    found = set()
    for label in np.unique(ids):
        mask = (ids == label).astype(np.int64)
        area = np.pad(mask.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        squares = area[side:, side:] - area[:-side, side:] - area[side:, :-side] + area[:-side, :-side]
        if (squares == side * side).any():
            found.add(int(label))
    return found


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def _uniform_interior(ids: np.ndarray, margin: int) -> np.ndarray:
    """Pixels whose whole (2 margin + 1)^2 neighbourhood is one label: JPEG may blur the rest."""
    keep = np.zeros(ids.shape, bool)
    centre = ids[margin:-margin, margin:-margin]
    same = np.ones(centre.shape, bool)
    for dy in range(2 * margin + 1):
        for dx in range(2 * margin + 1):
            same &= ids[dy:dy + centre.shape[0], dx:dx + centre.shape[1]] == centre
    keep[margin:-margin, margin:-margin] = same
    return keep


@settings(max_examples=60, deadline=None, derandomize=True)
@given(ids=label_layouts(), quality=st.integers(70, 95), noise=st.floats(0, 6), seed=st.integers(0, 1000))
def test_a_noisy_jpeg_doodle_keeps_every_label_and_invents_none(ids, quality, noise, seed):
    """From quality 70, the README's advice for maps saved as JPEG. Hypothesis draws its examples partly from
    constants in the engine's source, so they shift when the engine changes: from quality 50 it found layouts
    where a label of 76 pixels was invented, or a lost one went unsaid (not fixed yet)."""
    clean = COLOURS[ids]
    noisy = np.clip(clean + np.random.default_rng(seed).normal(0, noise, clean.shape), 0, 255).astype(np.uint8)
    noisy = _jpeg(noisy, quality)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = target_label_ids(noisy, COLOURS)
    present = set(np.unique(ids).tolist())
    invented = ~np.isin(got, list(present))
    assert invented.sum() <= 32             # nothing invented, but for a sliver JPEG made unrecognisable
    assert _solid_labels(ids, 12) <= set(np.unique(got).tolist())           # every 12x12 region kept
    interior = _uniform_interior(ids, 4)
    assert (got[interior] == ids[interior]).mean() > 0.99
    dropped = (present - set(np.unique(got).tolist())) & _solid_labels(ids, 4)   # slivers left by overlaps aside
    said = " ".join(str(w.message) for w in caught if issubclass(w.category, LabelMapWarning))
    assert all(hex_colour(COLOURS[label]) in said for label in dropped)       # and a loss is never silent


@settings(max_examples=40, deadline=None, derandomize=True)
@given(ids=label_layouts(), quality=st.integers(70, 95))
def test_a_jpeg_style_map_finds_its_labels(ids, quality):
    """From quality 70 (the README's advice; below it JPEG's tints of small regions can become labels)."""
    style = style_label_map(_jpeg(COLOURS[ids], quality))
    solid = _solid_labels(ids, 12)
    distance = np.linalg.norm(style.palette[:, None].astype(float) - COLOURS[None, sorted(solid)], axis=-1)
    assert (distance.min(0) <= 40).all()                                      # every region's label found
    assert len(style.palette) <= len(np.unique(ids))                          # and no blend became one


@FEW
@given(ids=label_layouts(), dot=st.integers(1, 5), x=st.integers(0, 80), y=st.integers(0, 80))
def test_a_label_too_small_to_keep_is_named_in_a_warning(ids, dot, x, y):
    label = next(i for i in range(len(COLOURS)) if i not in np.unique(ids))
    ids = ids.copy()
    ids[y:y + dot, x:x + dot] = label
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = target_label_ids(COLOURS[ids], COLOURS)
    if label not in got:
        assert any(hex_colour(COLOURS[label]) in str(w.message) for w in caught)


# --- damaged projects: a ProjectError or a whole, consistent document; never anything else ---------------

def _valid(document: Document) -> None:
    """What every window and render relies on."""
    k = len(document.palette)
    assert document.palette.shape == (k, 3) and document.palette.dtype == np.uint8 and len(document.names) == k
    assert document.style.ndim == 3 and document.style.shape[2] == 3 and document.style.dtype == np.uint8
    assert document.style_ids.shape == document.style.shape[:2] and document.style_ids.dtype == np.int64
    assert document.target_ids.ndim == 2 and min(document.target_ids.shape) >= 8
    for ids in (document.style_ids, document.target_ids):
        assert 0 <= ids.min() and ids.max() < k and ids.flags.writeable
    if document.content is not None:
        assert document.content.shape == (*document.target_ids.shape, 3) and document.content.dtype == np.uint8
    if document.result is not None:
        assert document.result.ndim == 3 and document.result.shape[2] == 3 and document.result.dtype == np.uint8
    assert isinstance(document.params, TransferParams)


def _open(data: bytes, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("project") / "damaged.doodlepaint"
    path.write_bytes(data)
    try:
        document = load_project(path)
    except ProjectError as error:
        assert "\n" not in str(error) and path.name in str(error)
    else:
        _valid(document)


@FEW
@given(cut=st.integers(0, 10_000), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)),
                                                 max_size=8))
def test_a_truncated_or_corrupted_project_is_a_project_error(tiny_document, tmp_path_factory, cut, flips):
    data = bytearray(project_bytes(tiny_document))
    for position, xor in flips:
        data[position % len(data)] ^= xor
    _open(bytes(data[:len(data) - cut % len(data)]), tmp_path_factory)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _entries(document: Document) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(project_bytes(document))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


ANY_ARRAY = hnp.arrays(dtype=st.sampled_from([np.uint8, np.int64, np.int8, np.uint16, np.float32, np.bool_]),
                       shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=20))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)


@FEW
@given(name=st.sampled_from(ARRAYS), array=ANY_ARRAY)
def test_a_project_array_of_any_shape_type_or_range_is_checked(tiny_document, tmp_path_factory, name, array):
    entries = _entries(tiny_document)
    entries[f"{name}.npy"] = _npy(array)
    _open(_zip(entries), tmp_path_factory)


@FEW
@given(field=st.sampled_from(["names", "params", "version", "origin", "format"]), value=JSON,
       param=st.sampled_from(["alpha", "beta", "gamma", "seed", "size", "phases", "method", "patch_size"]))
def test_a_project_field_of_any_type_is_checked(tiny_document, tmp_path_factory, field, value, param):
    entries = _entries(tiny_document)
    meta = json.loads(entries["project.json"])
    if field == "params":
        meta["params"][param] = value                  # one parameter of any JSON type, NaN and infinity included
    else:
        meta[field] = value
    entries["project.json"] = json.dumps(meta).encode()
    _open(_zip(entries), tmp_path_factory)


@FEW
@given(alpha=st.floats(allow_nan=True, allow_infinity=True), seed=st.integers(-2 ** 70, 2 ** 70))
def test_parameters_are_finite_and_in_range_or_refused(alpha, seed):
    try:
        params = TransferParams(alpha=alpha, seed=seed)
    except ValueError as error:
        assert "\n" not in str(error)
    else:
        assert np.isfinite(params.alpha) and 0 <= params.alpha and 0 <= params.seed < 2 ** 31


def test_a_doodle_error_is_a_doodle_error():
    """Every refusal above is a DoodleError the command line prints as one line and the app shows."""
    assert issubclass(ImageError, DoodleError) and issubclass(LabelMapError, DoodleError)
    assert issubclass(ProjectError, DoodleError)
