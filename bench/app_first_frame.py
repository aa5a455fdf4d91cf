"""The app's Render-to-first-frame time: the window on the sample scene at its default size, headless.

    QT_QPA_PLATFORM=offscreen python bench/app_first_frame.py --renders 5 --json bench/results/app-first-frame.json

It opens the window as `doodlepaint` does (the networks load and the painting is encoded in the
background while it opens), presses Render --renders times, each time timing from the press to the
first frame shown in the Result view and to the end, with a new seed each time; the first press comes
--after seconds after the window opened (0: at once, before the warm-up can have finished). Each render
runs to its end: the times of a Normal render on a CPU are minutes, so --preset Draft is the default.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from doodlepaint.engine import PRESETS  # noqa: E402
from doodlepaint.model.autosave import Recovery  # noqa: E402
from doodlepaint.ui.app import application  # noqa: E402
from doodlepaint.ui.main_window import MainWindow  # noqa: E402


def wait(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def timed_render(window: MainWindow) -> dict:
    """Render pressed in the window, timed to its first frame and to the finished picture."""
    marks: dict[str, float] = {}
    loop = QEventLoop()

    def progressed(progress):
        if progress.frame is not None and "first" not in marks:
            marks["first"] = time.perf_counter()

    def finished(progress):
        marks["done"] = time.perf_counter()
        loop.quit()

    window.rendering.controller.progressed.connect(progressed)
    window.rendering.controller.finished.connect(finished)
    pressed = time.perf_counter()
    window.menus.render_action.trigger()
    loop.exec()
    window.rendering.controller.progressed.disconnect(progressed)
    window.rendering.controller.finished.disconnect(finished)
    return {"pressed": pressed, "first_frame_s": round(marks["first"] - pressed, 3),
            "total_s": round(marks["done"] - pressed, 2)}


def close_without_asking(window: MainWindow) -> None:
    window.dirty = False                    # the bench's renders are no work to save
    window.close()


def write_and_quit(app, result: dict, path: Path | None) -> None:
    if path:
        path.write_text(json.dumps(result, indent=2) + "\n")
    app.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=5)
    parser.add_argument("--after", type=float, default=3.0, help="seconds between the window opening and Render")
    parser.add_argument("--preset", default="Draft", choices=list(PRESETS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    app = application(["doodlepaint"])
    with tempfile.TemporaryDirectory() as folder:
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, folder)   # not the user's
        opened = time.perf_counter()
        window = MainWindow(Recovery(Path(folder)))
        window.doc.params = PRESETS[args.preset].replace(size=window.doc.params.size)
        window.show()
        window.rendering.warm_up()
        wait(args.after)
        rows = []
        for index in range(args.renders):
            window.doc.params = window.doc.params.replace(seed=index + 1)
            timed = timed_render(window)
            row = {"render": index + 1, "since_window_s": round(timed.pop("pressed") - opened, 2), **timed}
            print(json.dumps(row), flush=True)
            rows.append(row)
        size = window.rendering.render_size
        close_without_asking(window)
    result = {"preset": args.preset, "size": [size.width(), size.height()], "after_s": args.after, "rows": rows}
    write_and_quit(app, result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
