"""Render → Remote Server…: the address and token of a `doodlepaint serve` machine, kept in QSettings.

Connecting tests the connection before anything changes: the server's /health and, if it needs one, the
token (client.RemoteServer.check_connection), in a thread, since a machine that does not answer takes
seconds to say so. Only a server that answers becomes the device; a failed check says why and leaves the
address, the token and the device as they were.
"""
from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Qt, QThread, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from doodlepaint.client.remote import RemoteServer
from doodlepaint.engine import DoodleError
from doodlepaint.wire import Health

log = logging.getLogger(__name__)

REMOTE = "remote"                   # the device choice that renders on the remote server
NO_REMOTE_LABEL = "Remote server (Render → Remote Server…)"


def remote_server(settings: QSettings) -> RemoteServer:
    url = str(settings.value("remote/url", "") or "")
    if not url:
        raise DoodleError("no remote server is set: choose Render → Remote Server… and give its address")
    return RemoteServer(url, str(settings.value("remote/token", "") or "") or None)


def remote_label(settings: QSettings) -> str:
    """The remote device's entry in the Device list: the server's address once one is set."""
    url = str(settings.value("remote/url", "") or "")
    return f"Remote: {urllib.parse.urlsplit(url).netloc}" if url else NO_REMOTE_LABEL


def connected_message(server: RemoteServer, health: Health) -> str:
    return f"Connected to {server.url} ({health.device_name})"


class ConnectionCheck(QThread):
    answered = Signal(int, object, str)     # ticket, Health (None if failed), the failure's message

    def __init__(self, ticket: int, server: RemoteServer, parent: QObject):
        super().__init__(parent)
        self.ticket, self.server = ticket, server

    def run(self):
        try:
            self.answered.emit(self.ticket, self.server.check_connection(), "")
        except DoodleError as error:
            self.answered.emit(self.ticket, None, str(error))
        except Exception as error:  # noqa: BLE001 - the dialog waits for an answer: it must get one
            log.exception("checking the connection to %s failed", self.server.url)
            self.answered.emit(self.ticket, None, f"could not check {self.server.url}: {type(error).__name__}: {error}")


class RemoteConnection(QObject):
    """Connection checks off the GUI thread, the latest one answered: a check started later (or abandoned)
    makes an earlier one's answer go unheard."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.ticket = 0
        self.callbacks: tuple[Callable, Callable] | None = None
        self.threads: list[ConnectionCheck] = []

    def check(self, server: RemoteServer, on_connected: Callable[[Health], None],
              on_failed: Callable[[str], None]) -> int:
        """Calls on_connected(health) or on_failed(message) on the GUI thread; returns the check's ticket."""
        self.ticket += 1
        self.callbacks = (on_connected, on_failed)
        thread = ConnectionCheck(self.ticket, server, self)
        thread.answered.connect(self._answered)
        thread.finished.connect(self._forget_finished)
        self.threads.append(thread)
        thread.start()
        return self.ticket

    def abandon(self, ticket: int) -> None:
        if ticket == self.ticket:
            self.callbacks = None

    def shutdown(self) -> None:
        """Wait for the checks still running (each gives up within CHECK_SECONDS): call before the window closes."""
        self.callbacks = None
        for thread in list(self.threads):
            thread.wait()

    def _answered(self, ticket: int, health: Health | None, message: str) -> None:
        if ticket != self.ticket or self.callbacks is None:
            return
        on_connected, on_failed = self.callbacks
        self.callbacks = None
        if health is None:
            on_failed(message)
        else:
            on_connected(health)

    def _forget_finished(self) -> None:
        for thread in [thread for thread in self.threads if thread.isFinished()]:
            self.threads.remove(thread)
            thread.deleteLater()


class RemoteServerDialog(QDialog):
    connected = Signal(object, object)      # RemoteServer, Health: the address and token are saved

    def __init__(self, settings: QSettings, connection: RemoteConnection, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings, self.connection = settings, connection
        self.ticket: int | None = None
        self.setWindowTitle("Remote Server")
        self.setMinimumWidth(460)
        form = QFormLayout(self)
        intro = QLabel("Render on another machine that runs <tt>doodlepaint serve</tt>, e.g. the studio's GPU "
                       "desktop. Across the internet, put it behind an HTTPS reverse proxy.")
        intro.setWordWrap(True)
        form.addRow(intro)
        self.address = QLineEdit(str(settings.value("remote/url", "") or ""))
        self.address.setPlaceholderText("http://studio-pc:8765")
        self.token = QLineEdit(str(settings.value("remote/token", "") or ""))
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("only if the server was started with --token-file")
        form.addRow("Address", self.address)
        form.addRow("Token", self.token)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.connect_button.setText("Connect")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def accept(self) -> None:
        """Connect: test the server first; the dialog closes, and the settings change, only if it answers."""
        try:
            server = RemoteServer(self.address.text().strip(), self.token.text().strip() or None)
        except DoodleError as error:
            self._say(str(error), failed=True)
            return
        self._say(f"Connecting to {server.url}…")
        self.connect_button.setEnabled(False)
        self.ticket = self.connection.check(server, lambda health: self._connected(server, health), self._failed)

    def reject(self) -> None:
        if self.ticket is not None:
            self.connection.abandon(self.ticket)
        super().reject()

    def _connected(self, server: RemoteServer, health: Health) -> None:
        self.settings.setValue("remote/url", server.url)
        self.settings.setValue("remote/token", server.token or "")
        self._say(connected_message(server, health))
        self.connected.emit(server, health)
        super().accept()

    def _failed(self, message: str) -> None:
        self._say(message, failed=True)
        self.connect_button.setEnabled(True)

    def _say(self, text: str, failed: bool = False) -> None:
        self.status.setStyleSheet("color: #d04040" if failed else "")
        self.status.setText(text)
