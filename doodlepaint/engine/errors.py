"""Errors the user can act on. Each message is one line that says what is wrong and what to do."""


class DoodleError(Exception):
    """Base class: anything the CLI prints as one line and the app shows in a message box."""


class ImageError(DoodleError):
    """An image file is missing, unreadable or not an image."""


class LabelMapError(DoodleError):
    """A label map does not fit its image or the other map."""


class GPUMemoryError(DoodleError):
    """The GPU ran out of memory even at the smallest chunk size."""


class Cancelled(DoodleError):
    """The caller asked the render to stop."""
