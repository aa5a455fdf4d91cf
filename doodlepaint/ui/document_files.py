"""The window's File menu at work: opening paintings, maps, doodles, photos and projects, saving, exporting,
autosave and recovery, with the prompts that keep a painter's work from being lost.

A collaborator of MainWindow (which owns the document, the views and their undo stacks): it changes the
document through its methods, and the views follow what the document announces.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from doodlepaint.engine import PRESETS, DoodleError, pick_device
from doodlepaint.engine.export import save_png, save_render
from doodlepaint.engine.images import load_rgb
from doodlepaint.engine.labels import LabelMapError, sibling_style_map
from doodlepaint.engine.sample import load_sample
from doodlepaint.model.autosave import Recovery
from doodlepaint.model.document import Document
from doodlepaint.model.painting import Stroke
from doodlepaint.model.project import SUFFIX, load_project, save_project
from doodlepaint.ui import export_size
from doodlepaint.ui.export_size import export_request
from doodlepaint.ui.files import IMAGE_FILTER, PNG_FILTER, PROJECT_FILTER, after_dialog, output_folder, with_suffix
from doodlepaint.ui.label_dialogs import confirm_replace
from doodlepaint.ui.remote_dialog import REMOTE

AUTOSAVE_MS = 30_000
MAX_RECENT = 8
CPU_SIZE = 256          # a CPU renders a 512 px Draft in minutes; start new users smaller there


def sample_document() -> Document:
    document = Document.from_sample(load_sample())
    if pick_device("auto").type == "cpu":
        document.params = PRESETS["Draft"].replace(size=CPU_SIZE)
    return document


class StateSwap(QUndoCommand):
    """One undo step that puts a part of the document back as it was (`before`) or as it became (`after`). It is
    pushed after the change is made, so QUndoStack.push's first redo finds it done already."""

    def __init__(self, text: str, before: tuple, after: tuple):
        super().__init__(text)
        self.before, self.after, self.applied = before, after, True

    def redo(self):
        if self.applied:
            self.applied = False
            return
        self.put(self.after)

    def undo(self):
        self.put(self.before)

    def put(self, state: tuple) -> None:
        raise NotImplementedError


class ReplaceDoodle(StateSwap):
    """The doodle (and the photo under it) replaced by other arrays: undo puts the old ones back. The stroke
    steps before it refer to the old map's array and those after it to the new one's, so each finds its
    own map whichever way the stack goes."""

    def __init__(self, files: "DocumentFiles", text: str, before: tuple, after: tuple):
        super().__init__(text, before, after)
        self.files = files

    def put(self, state: tuple) -> None:
        self.files.window.doc.replace_doodle(*state)
        self.files._doodle_replaced()


class PaintingSwap(StateSwap):
    """Opening a painting with a suggested map, as one undo step: the painting, its map and what the eraser
    brings back swap; the labels and the doodle stay as they are, so the strokes before it still undo."""

    def __init__(self, window, before: tuple, after: tuple):
        super().__init__("Open painting", before, after)
        self.window = window

    def put(self, state: tuple) -> None:
        window = self.window
        style, style_ids, window.style_painter.original = state
        window.doc.replace_painting(style, style_ids)
        window.style_view.fit()


class DocumentFiles:
    def __init__(self, window, recovery: Recovery):
        self.window, self.recovery = window, recovery
        self.autosave_failing = False
        self.autosave_timer = QTimer(window, interval=AUTOSAVE_MS, timeout=self.autosave)
        self.autosave_timer.start()

    def ask_open(self, title: str, opener) -> None:
        path, _ = after_dialog(QFileDialog.getOpenFileName(self.window, title, self._last_folder(), IMAGE_FILTER),
                               self.window)
        if path:
            opener(path)

    def _last_folder(self) -> str:
        return str(self.window.settings.value("last_folder", str(Path.home())))

    def _remember(self, path) -> None:
        window = self.window
        window.settings.setValue("last_folder", str(Path(path).parent))
        recent = [p for p in window.settings.value("recent", [], type=list) if p != str(path)]
        window.settings.setValue("recent", [str(path), *recent][:MAX_RECENT])

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        for path in self.window.settings.value("recent", [], type=list):
            menu.addAction(path, lambda p=path: self.open_path(p))
        menu.setEnabled(True)
        if menu.isEmpty():
            menu.addAction("No recent files").setEnabled(False)

    def open_path(self, path: str) -> None:
        """A recent file or a command-line argument: a project (after the save prompt), else a painting."""
        if path.lower().endswith(SUFFIX):
            if self.maybe_save():
                self.open_project(path)
        else:
            self.open_style(path)

    def open_style(self, path: str) -> None:
        """A painting with its own label map replaces the labels (asking first if the map was corrected); one
        without gets a suggested map under the labels it has, as one undo step on the painting."""
        window = self.window
        with window.guard("Cannot open the painting"):
            rgb = load_rgb(path, "painting")
            sem = sibling_style_map(path)
            map_rgb = load_rgb(sem, "label map") if sem else None
            if sem is None:
                before = (window.doc.style, window.doc.style_ids, window.style_painter.original)
                window.doc.set_style(rgb)
                window.style_painter.keep_original()
                after = (window.doc.style, window.doc.style_ids, window.style_painter.original)
                window.style_undo.push(PaintingSwap(window, before, after))
                window.activate(window.style_view, window.style_undo)
            elif self._map_corrected() and not confirm_replace(
                    window, "Open another painting?",
                    "Its label map replaces the labels and the map you corrected; this cannot be undone."):
                return
            else:
                window.doc.set_style(rgb, map_rgb)
            window.style_view.fit()
            self._remember(path)
            window.statusBar().showMessage(f"Loaded its label map {sem.name}" if sem else
                                           "Suggested a label map: each region kept the label of the most alike "
                                           "colours before. Correct it with the brush; Edit → Undo takes the "
                                           "painting back.", 10000)

    def _map_corrected(self) -> bool:
        """The painting's undo steps hold strokes, not only paintings opened."""
        stack = self.window.style_undo
        return any(not isinstance(stack.command(i), PaintingSwap) for i in range(stack.index()))

    def open_style_map(self, path: str) -> None:
        window = self.window
        if window.style_undo.canUndo() and not confirm_replace(
                window, "Replace the label map?", "The label map you open replaces the one you corrected, and may "
                "renumber the labels; this cannot be undone."):
            return
        with window.guard("Cannot open the label map"):
            window.doc.set_style_map(load_rgb(path, "label map"))

    def open_doodle(self, path: str) -> None:
        with self.window.guard("Cannot open the doodle"):
            self._replace_doodle(load_rgb(path, "doodle"))

    def _replace_doodle(self, rgb: np.ndarray) -> None:
        """A doodle opened or dropped: one undo step, checked as the project loader checks (foreign colours,
        too small) before anything changes. One of the same size is an edit of the map in place (the
        doodle's undo steps refer to that array); one of another size replaces the map and its photo."""
        window, doc = self.window, self.window.doc
        ids = doc.doodle_ids(rgb)                   # raises, changing nothing, on a foreign colour or too small
        if ids.shape == doc.target_ids.shape:
            stroke = Stroke(doc.target_ids)
            doc.target_ids[...] = ids               # in place: the doodle's undo steps refer to this array
            edit = stroke.finish()
            if edit is not None:
                window.doodle_painter.record(edit, "Open doodle")
            window.activate(window.doodle_view, window.doodle_undo)
        else:
            before = (doc.target_ids, doc.content)
            doc.replace_doodle(ids)                 # the photo under the old doodle does not fit the new one
            self._push_replacement("Open doodle", before)

    def open_photo(self, path: str) -> None:
        window = self.window
        with window.guard("Cannot open the photo"):
            before = (window.doc.target_ids, window.doc.content)
            window.doc.set_content(load_rgb(path, "photo"))
            self._push_replacement("Open photo", before)

    def _push_replacement(self, text: str, before: tuple) -> None:
        """The doodle and photo now in the document replace `before` as one undo step."""
        window = self.window
        window.doodle_undo.push(ReplaceDoodle(self, text, before, (window.doc.target_ids, window.doc.content)))
        window.activate(window.doodle_view, window.doodle_undo)
        self._doodle_replaced()

    def _doodle_replaced(self) -> None:
        """A new doodle or photo under it: the eraser restores it from now on, and the view fits its size."""
        window = self.window
        window.doodle_painter.keep_original()
        window.doodle_view.fit()

    def remove_photo(self) -> None:
        self.window.doc.set_content(None)

    def new_doodle(self) -> None:
        window = self.window
        stroke = Stroke(window.doc.target_ids)
        window.doc.target_ids[...] = window.doc.right_button_label
        edit = stroke.finish()
        if edit is not None:
            window.doodle_painter.record(edit, "New doodle")

    def ask_save_png(self, ids: np.ndarray) -> None:
        window = self.window
        path, _ = after_dialog(QFileDialog.getSaveFileName(window, "Save label map", self._last_folder(), PNG_FILTER),
                               window)
        if path:
            with window.guard("Cannot save the label map"):
                save_png(with_suffix(path, ".png"), window.doc.colours(ids))

    def open_sample(self) -> None:
        if self.maybe_save():
            self.window.set_document(sample_document(), None)

    def ask_open_project(self) -> None:
        window = self.window
        if not self.maybe_save():
            return
        folder = output_folder(window.settings, "project_folder", window.project_path)
        path, _ = after_dialog(QFileDialog.getOpenFileName(window, "Open project", folder, PROJECT_FILTER), window)
        if path:
            self.open_project(path)

    def open_project(self, path: str) -> None:
        window = self.window
        with window.guard("Cannot open the project"):
            window.set_document(load_project(path), Path(path))
            self._remember(path)
            window.settings.setValue("project_folder", str(Path(path).parent))

    def save(self) -> bool:
        if self.window.project_path is None:
            return self.save_as()
        return self.save_project(self.window.project_path)

    def _document_stem(self) -> str:
        return self.window.project_path.stem if self.window.project_path is not None else "Untitled"

    def save_as(self) -> bool:
        window = self.window
        suggested = Path(output_folder(window.settings, "project_folder", window.project_path)) / \
            f"{self._document_stem()}{SUFFIX}"
        path, _ = after_dialog(QFileDialog.getSaveFileName(window, "Save project", str(suggested), PROJECT_FILTER),
                               window)
        return bool(path) and self.save_project(Path(with_suffix(path, SUFFIX)))

    def save_project(self, path: Path) -> bool:
        window = self.window
        with window.guard("Cannot save the project"):
            save_project(window.doc, path)
            window.project_path = Path(path)
            window.set_dirty(False)
            self._remember(path)
            window.settings.setValue("project_folder", str(Path(path).parent))
            window.statusBar().showMessage(f"Saved {path}", 5000)
            return True
        return False

    def ask_export(self) -> None:
        if self.window.doc.result is None:
            QMessageBox.information(self.window, "Nothing to export", "Render first: Export saves the finished render.")
            return
        path = self._ask_export_path(f"{self._document_stem()}.png")
        if path:
            self.export_png(path)

    def _ask_export_path(self, name: str) -> str:
        window = self.window
        suggested = Path(output_folder(window.settings, "export_folder", window.project_path)) / name
        # the dialog asks before overwriting
        path, _ = after_dialog(QFileDialog.getSaveFileName(window, "Export PNG", str(suggested), PNG_FILTER), window)
        if path:
            window.settings.setValue("export_folder", str(Path(path).parent))
        return with_suffix(path, ".png") if path else ""

    def ask_export_at_size(self) -> None:
        window = self.window
        if window.doc.result is None:
            QMessageBox.information(window, "Nothing to export", "Render first: Export at Size starts from the "
                                    "finished render and paints it bigger.")
            return
        choice = export_size.ask_export_size(window, window.doc, window.settings, window.device_choice != REMOTE)
        path = choice and self._ask_export_path(f"{self._document_stem()}-{choice.width}px.png")
        if path:
            self.export_at_size_to(path, choice.width, choice.brush_scale)

    def export_at_size_to(self, path: str, width: int, brush_scale: float = 1.0) -> None:
        window = self.window
        with window.guard("Cannot export"):
            window.export_at_size.start(export_request(window.doc, width, brush_scale), window.rendering.backend(),
                                        path)

    def export_png(self, path: str) -> None:
        window = self.window
        with window.guard("Cannot export"):
            save_render(path, window.doc.result, window.doc.params, labels=window.doc.names)
            window.statusBar().showMessage(f"Exported {path}", 5000)

    def open_dropped(self, path: str, target: QWidget | None) -> None:
        window = self.window
        if path.lower().endswith(SUFFIX):
            if self.maybe_save():
                self.open_project(path)
        elif target is window.doodle_view:
            try:
                self._replace_doodle(load_rgb(path, "doodle"))
            except LabelMapError:
                self.open_photo(path)      # not in the label colours: a photo to paint over
            except DoodleError as error:
                QMessageBox.warning(window, "Cannot open the doodle", str(error))
        elif target is window.style_view and Path(path).stem.endswith("_sem"):
            self.open_style_map(path)
        else:
            self.open_style(path)

    def autosave(self) -> None:
        window = self.window
        if not window.dirty:
            return
        try:
            self.recovery.save(window.doc, window.project_path)
        except (DoodleError, OSError) as error:
            message = (f"Autosave failed: cannot write {self.recovery.path} "
                       f"({getattr(error, 'strerror', None) or error}). Save your work with File → Save.")
            window.statusBar().showMessage(message, AUTOSAVE_MS)
            if not self.autosave_failing:           # once per run of failures, not every 30 s
                QMessageBox.warning(window, "Autosave failed", message)
            self.autosave_failing = True
        else:
            self.autosave_failing = False

    def offer_recovery(self) -> bool:
        """At start: the last session did not end cleanly; offer its autosaved work back, with its project's
        path. An unreadable recovery file is kept aside, never deleted. True when work was recovered."""
        window = self.window
        if not self.recovery.pending():
            return False
        try:
            recovered = self.recovery.load()
        except DoodleError as error:
            try:
                where = f"It was kept as {self.recovery.keep_aside()}."
            except OSError:
                where = f"It is still at {self.recovery.path}."
            QMessageBox.warning(window, "Cannot recover", "The work autosaved when doodlepaint last stopped "
                                f"cannot be read: {error}. {where}")
            return False
        project = f"the project {recovered.origin}" if recovered.origin else "an untitled project"
        answer = QMessageBox.question(window, "Recover unsaved work",
                                      f"doodlepaint did not close properly last time. Recover the unsaved work on "
                                      f"{project}? (No deletes it.)")
        if answer != QMessageBox.StandardButton.Yes:
            self.recovery.discard()
            return False
        window.set_document(recovered.document, recovered.origin, recovered=True)
        return True

    def open_after_recovery(self, path: str) -> None:
        """A file named at start when recovered work took its place: rather than replace the work just
        recovered, it waits in Open Recent, and the status bar says so."""
        window = self.window
        if window.project_path is not None and Path(path).resolve() == window.project_path.resolve():
            return                                    # the recovered work is that project's
        self._remember(path)
        window.statusBar().showMessage(f"Recovered your unsaved work: {Path(path).name} is in File → Open Recent "
                                       "for when you have saved it.", 20000)

    def maybe_save(self) -> bool:
        """True when it is fine to drop the document: it is saved, saved now, or the artist discards it."""
        if not self.window.dirty:
            return True
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self.window, "Unsaved changes", "Save your changes before closing the document?",
                                      buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        if answer == buttons.Save:
            return self.save()
        return answer == buttons.Discard
