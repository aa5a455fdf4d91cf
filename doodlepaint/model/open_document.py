"""The document open in the app, as one thing to listen to across New, Open and Recover.

Each Document announces its own changes (model/document.py); another document taking its place is what a
Document cannot say itself. OpenDocument passes on the changes of whichever document is open and says when
another one takes its place, so the views connect once, when they are made.
"""
from __future__ import annotations

from psygnal import Signal

from doodlepaint.model.document import Document, DocumentEvents


class OpenDocumentEvents(DocumentEvents):
    replaced = Signal(bool)     # another document is open; True when it is autosaved work recovered, unsaved


class OpenDocument:
    def __init__(self, document: Document):
        self.events = OpenDocumentEvents()
        self.document = document
        self._pass_on(document, True)

    def replace(self, document: Document, recovered: bool = False) -> None:
        """`document` is open from now on (it may be the one already open, shown afresh)."""
        self._pass_on(self.document, False)
        self.document = document
        self._pass_on(document, True)
        self.events.replaced.emit(recovered)

    def _pass_on(self, document: Document, passing: bool) -> None:
        for name in document.events:
            theirs, ours = getattr(document.events, name), getattr(self.events, name)
            if passing:
                theirs.connect(ours)
            else:
                theirs.disconnect(ours)
