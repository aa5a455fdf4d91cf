"""numpy RGB -> QImage, the conversion the app makes for every frame and every overlay during a stroke:
the app's own (wrap the buffer as RGB888, copy) against qimage2ndarray's array2qimage.

    QT_QPA_PLATFORM=offscreen python bench/qimage.py --sizes 512x384 1024x768 --repeats 200

Needs qimage2ndarray (pip install qimage2ndarray), which doodlepaint itself does not depend on.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtGui import QGuiApplication  # noqa: E402

from doodlepaint.ui.qimages import qimage_from_rgb  # noqa: E402


def best_of(convert, rgb, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        convert(rgb)
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["512x384", "1024x768"])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    import qimage2ndarray

    QGuiApplication([])
    for size in args.sizes:
        width, height = map(int, size.split("x"))
        rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
        ours = qimage_from_rgb(rgb)
        theirs = qimage2ndarray.array2qimage(rgb)
        same = all(ours.pixel(x, y) == theirs.pixel(x, y) for x, y in ((0, 0), (width - 1, height - 1), (7, 3)))
        print(f"{size}: doodlepaint {best_of(qimage_from_rgb, rgb, args.repeats):.2f} ms, "
              f"qimage2ndarray.array2qimage {best_of(qimage2ndarray.array2qimage, rgb, args.repeats):.2f} ms "
              f"(best of {args.repeats}; same pixels: {same})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
