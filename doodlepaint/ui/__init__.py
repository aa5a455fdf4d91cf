"""The PySide6 desktop app: the only part of doodlepaint that imports Qt."""
