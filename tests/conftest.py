"""Headless Qt, private settings and state folders per test, and no QThread left running after a test."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from doodlepaint.model.document import Document  # noqa: E402


@pytest.fixture
def tiny_document():
    """A 16x16 painting split into two labels, and a doodle using both."""
    style = np.zeros((16, 16, 3), np.uint8)
    style[:8] = (200, 60, 40)
    style[8:] = (40, 80, 200)
    style_ids = np.zeros((16, 16), np.int64)
    style_ids[8:] = 1
    target = np.zeros((16, 16), np.int64)
    target[:, 8:] = 1
    palette = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    return Document(style, style_ids, target, palette, ["a", "b"])
