"""Render the application icon's PNG sizes from its SVG.

    .venv/bin/python packaging/make_icons.py

The SVG (doodlepaint/resources/icons/doodlepaint.svg) is the single source, drawn by hand. Each PNG
is rendered by Qt's SVG renderer at 4x its size, then reduced with Pillow's Lanczos filter, which
keeps the 16 and 32 px icons crisper than rendering them directly. The PNGs are written beside the
SVG, inside the package, so the app finds them with importlib.resources and the wheel carries them.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

SIZES = (16, 32, 48, 64, 128, 256)
OVERSAMPLE = 4
ICONS = Path(__file__).resolve().parent.parent / "doodlepaint" / "resources" / "icons"


def render(renderer: QSvgRenderer, size: int) -> Image.Image:
    big = size * OVERSAMPLE
    image = QImage(big, big, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    from io import BytesIO

    with Image.open(BytesIO(bytes(data))) as pil:
        return pil.convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = ICONS / "doodlepaint.svg"
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"cannot read {svg}", file=sys.stderr)
        return 1
    for size in SIZES:
        out = ICONS / f"doodlepaint-{size}.png"
        render(renderer, size).save(out, optimize=True)
        print(out.relative_to(ICONS.parent.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
