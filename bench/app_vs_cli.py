"""The app's render time against the CLI's, in one run, on the sample scene (issue 27: the app was three times
slower than the same render elsewhere).

    xvfb-run -a python bench/app_vs_cli.py --preset Draft --size 256 --renders 3 --hover \
        --json bench/results/app-vs-cli.json

For each seed it renders in the app's window (Render pressed, timed to the finished picture), then the same
request with the engine on the main thread of the same warm process (the app's overhead alone:
app_over_engine), then with `doodlepaint render --demo` in a process of its own (its report's seconds,
which include loading the networks, and the process's whole time), one after the other so that they
never share the cores. --hover moves the pointer over the painting
all through the app's render, as a painter does while waiting (the view repaints under the brush cursor);
--live turns Live on first. The app opens its render with the instant picture (init "instant"), the CLI
from the label colours: the table says so, and the instant picture's time is in the app's first frame.
Runs headless (offscreen) unless a display is set; the numbers mean something only on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLI_ENVIRONMENT = {**os.environ, "PYTHONPATH": str(ROOT)}   # before the app module sets its OpenMP policy

from doodlepaint.ui.app import application  # noqa: E402  (first: it sets the app's OpenMP policy before torch loads)
from PySide6.QtCore import QPointF, QSettings, QTimer, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from doodlepaint.engine import PRESETS, render  # noqa: E402
from doodlepaint.model.autosave import Recovery  # noqa: E402
from doodlepaint.ui.live import seeded_request  # noqa: E402
from doodlepaint.ui.main_window import MainWindow  # noqa: E402
from bench.app_first_frame import close_without_asking, timed_render, write_and_quit  # noqa: E402

HOVER_MS = 16        # a pointer moving at 60 events a second


def app_render(window: MainWindow, seed: int, hover: bool) -> dict:
    """The app's render of `seed`, timed; with `hover`, the pointer moves over the painting all through it."""
    window.doc.params = window.doc.params.replace(seed=seed)
    view = window.style_view
    position = [0]

    def move():
        position[0] = (position[0] + 7) % max(1, view.width())
        point = QPointF(position[0], view.height() / 2)
        QApplication.sendEvent(view, QMouseEvent(QMouseEvent.Type.MouseMove, point, point, Qt.MouseButton.NoButton,
                                                 Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))

    pointer = QTimer(interval=HOVER_MS, timeout=move)
    if hover:
        pointer.start()
    timed = timed_render(window)
    pointer.stop()
    del timed["pressed"]
    return timed


def engine_render(window: MainWindow, seed: int) -> dict:
    """The app's own request (the instant picture first) rendered by the engine on this thread, with no
    event loop running: what the app's render costs without the app around it."""
    window.doc.params = window.doc.params.replace(seed=seed)
    request = seeded_request(window.doc.request(), window.rendering.live.instant_ok)
    started = time.perf_counter()
    render(request, "cpu")
    return {"total_s": round(time.perf_counter() - started, 2)}


def cli_render(preset: str, size: int, seed: int, folder: Path) -> dict:
    report = folder / f"cli-{seed}.json"
    command = [sys.executable, "-m", "doodlepaint", "render", "--demo", "--preset", preset, "--size", str(size),
               "--seed", str(seed), "--device", "cpu", "--out", str(folder / f"cli-{seed}.png"), "--force",
               "--report", str(report), "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, env=CLI_ENVIRONMENT)
    return {"total_s": json.loads(report.read_text())["seconds"], "process_s": round(time.perf_counter() - started, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="Draft", choices=[p for p in PRESETS if p != "Instant"])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--renders", type=int, default=3)
    parser.add_argument("--hover", action="store_true",
                        help="move the pointer over the painting during the app's render")
    parser.add_argument("--live", action="store_true", help="turn Live on before rendering")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    app = application(["doodlepaint"])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, folder)   # not the user's
        window = MainWindow(Recovery(Path(folder)))
        window.params_panel.set_device("cpu")
        window.device_choice = "cpu"
        window.doc.params = PRESETS[args.preset].replace(size=args.size)
        window.show()
        window.rendering.warm_up()
        if args.live:
            window.rendering.set_live(True)
        app_render(window, 0, False)                 # loads the networks, as the CLI's own process does each time
        for seed in range(1, args.renders + 1):
            row = {"seed": seed, "app": app_render(window, seed, args.hover), "engine": engine_render(window, seed),
                   "cli": cli_render(args.preset, args.size, seed, Path(folder))}
            row["app_over_engine"] = round(row["app"]["total_s"] / row["engine"]["total_s"], 2)
            row["app_over_cli"] = round(row["app"]["total_s"] / row["cli"]["total_s"], 2)
            print(json.dumps(row), flush=True)
            rows.append(row)
        close_without_asking(window)
    result = {"preset": args.preset, "size": args.size, "hover": args.hover, "live": args.live,
              "app_init": "instant", "cli_init": "auto", "platform": os.environ["QT_QPA_PLATFORM"],
              "app_omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
              "cli_omp_wait_policy": CLI_ENVIRONMENT.get("OMP_WAIT_POLICY"), "rows": rows}
    write_and_quit(app, result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
