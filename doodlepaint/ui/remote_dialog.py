"""Render → Remote Server…: the address and token of a `doodlepaint serve` machine, kept in QSettings."""
from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from doodlepaint.engine import DoodleError
from doodlepaint.client.remote import RemoteServer

REMOTE = "remote"                   # the device choice that renders on the remote server
REMOTE_DEVICE = (REMOTE, "Remote server (Render → Remote Server…)")


def remote_server(settings: QSettings) -> RemoteServer:
    url = str(settings.value("remote/url", "") or "")
    if not url:
        raise DoodleError("no remote server is set: choose Render → Remote Server… and give its address")
    return RemoteServer(url, str(settings.value("remote/token", "") or "") or None)


class RemoteServerDialog(QDialog):
    def __init__(self, settings: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
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
        self.error = QLabel()
        self.error.setStyleSheet("color: #d04040")
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        address = self.address.text().strip()
        try:
            RemoteServer(address)
        except DoodleError as error:
            self.error.setText(str(error))
            return
        self.settings.setValue("remote/url", address)
        self.settings.setValue("remote/token", self.token.text().strip())
        super().accept()
