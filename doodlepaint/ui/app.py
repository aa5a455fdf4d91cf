"""Starting the desktop app: `doodlepaint` with no subcommand, or `python -m doodlepaint.ui.app`."""
from __future__ import annotations

import argparse
import importlib.resources
import os
import sys
from pathlib import Path

from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

# The render's OpenMP threads share the cores with this window, its display server and whatever else runs:
# spinning at every barrier (OpenMP's default) then makes each step wait for a descheduled partner, six
# times slower on busy cores (BENCHMARKS.md, the app's render against the CLI's). Set before torch loads; a
# value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from doodlepaint.model.autosave import Recovery  # noqa: E402
from doodlepaint.ui.main_window import MainWindow  # noqa: E402


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, (53, 55, 60)), (roles.WindowText, (225, 225, 225)),
                         (roles.Base, (40, 42, 46)), (roles.AlternateBase, (53, 55, 60)),
                         (roles.ToolTipBase, (250, 250, 235)), (roles.ToolTipText, (20, 20, 20)),
                         (roles.Text, (225, 225, 225)), (roles.Button, (60, 63, 68)),
                         (roles.ButtonText, (225, 225, 225)), (roles.Highlight, (62, 128, 200)),
                         (roles.HighlightedText, (255, 255, 255)), (roles.Link, (110, 170, 240)),
                         (roles.PlaceholderText, (140, 140, 140))):
        palette.setColor(role, QColor(*colour))
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return palette


def application(argv: list[str]) -> QApplication:
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("doodlepaint")
    app.setOrganizationName("doodlepaint")
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    icon = importlib.resources.files("doodlepaint") / "resources" / "icons" / "doodlepaint-256.png"
    with importlib.resources.as_file(icon) as path:
        app.setWindowIcon(QIcon(str(path)))
    return app


def recovery_folder() -> Path:
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation))


def parse_options(arguments: list[str]) -> argparse.Namespace:
    """The app's own options, once Qt has taken its own (-style, -platform …) out: anything else, a mistyped
    option included, is an error rather than silently ignored."""
    parser = argparse.ArgumentParser(prog="doodlepaint", description="The doodlepaint desktop app.")
    parser.add_argument("file", nargs="?", help="a project (.doodlepaint) or a painting to open")
    parser.add_argument("--render-on-start", action="store_true", help="start a render once the window is up")
    return parser.parse_args(arguments)


def open_at_start(window: MainWindow, file: str | None) -> None:
    # Recovery comes first, even with a file to open: a clean exit would otherwise delete unsaved work unseen.
    if window.files.offer_recovery():
        if file:
            window.files.open_after_recovery(file)
    elif file:
        window.files.open_path(file)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    app = application(argv)
    options = parse_options(app.arguments()[1:])       # Qt's own options taken out
    window = MainWindow(Recovery(recovery_folder()))
    window.show()
    window.rendering.warm_up()
    QTimer.singleShot(0, lambda: open_at_start(window, options.file))
    if options.render_on_start:
        QTimer.singleShot(500, window.rendering.start_render)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
