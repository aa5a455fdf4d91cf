"""numpy -> QImage, on the GUI thread only. QImages own copies of their pixels."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def qimage_from_rgb(rgb: np.ndarray) -> QImage:
    # Wrapping the buffer as RGB888 and copying beats qimage2ndarray.array2qimage, which converts to RGB32
    # (bench/qimage.py, BENCHMARKS.md); overlays are rebuilt during strokes.
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
