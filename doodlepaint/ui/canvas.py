"""An image view with zoom (wheel, fit, 100 %), pan (space-drag or middle button) and pointer events
in image coordinates, so painting tools never deal with the view's transform.

It shows a base image (a painting, a photo or a render) and, over it, a label overlay with its own
opacity. The base may be drawn stretched to a display size (a render's coarse phases are smaller).
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.05, 32.0
BACKGROUND = QColor(38, 40, 44)


class CanvasView(QWidget):
    pressed = Signal(QPointF, object, object)       # image position, mouse button, keyboard modifiers
    dragged = Signal(QPointF)
    released = Signal(QPointF)
    activated = Signal()                            # the user clicked or scrolled in this view
    view_changed = Signal()                         # the user zoomed or panned: views kept in step follow

    def __init__(self, placeholder: str = "", parent=None):
        super().__init__(parent)
        self.placeholder = placeholder
        self.base: QImage | None = None
        self.overlay: QImage | None = None
        self.display_size: QSize | None = None
        self.overlay_opacity = 0.5
        self.overlay_visible = True
        self.paintable = False
        self.brush_size = 0.0
        self.scale = 1.0
        self.offset = QPointF()
        self.fitting = True
        self.space_down = False
        self.pan_from: QPointF | None = None
        self.hover: QPointF | None = None
        self.painting = False
        self.compare: QImage | None = None          # shown instead of the view's own pictures while comparing
        self.comparing = False
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(160, 120)

    # Content ------------------------------------------------------------------------------------
    def image_size(self) -> QSize:
        for size in (self.display_size, self.overlay and self.overlay.size(), self.base and self.base.size()):
            if size is not None and not size.isEmpty():
                return size
        return QSize()

    def set_images(self, base: QImage | None, overlay: QImage | None = None, display_size: QSize | None = None):
        old = self.image_size()
        self.base, self.overlay, self.display_size = base, overlay, display_size
        if self.fitting or self.image_size() != old:
            self.fit()
        self.update()

    def set_overlay(self, overlay: QImage | None) -> None:
        self.overlay = overlay
        self.update()

    def update_overlay_region(self, part: QImage, left: int, top: int) -> None:
        """Copy `part` into the overlay at (left, top): a brush dab costs its rectangle, not the map."""
        if self.overlay is None:
            return
        painter = QPainter(self.overlay)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(left, top, part)
        painter.end()
        self.update()

    def set_overlay_opacity(self, opacity: float) -> None:
        self.overlay_opacity = opacity
        self.update()

    def overlay_shown(self) -> bool:
        """Hiding the map hides it over a painting or a photo; a doodle with nothing under it stays."""
        return self.overlay is not None and (self.overlay_visible or self.base is None)

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_visible = visible
        self.update()

    # View transform ------------------------------------------------------------------------------
    def fit(self) -> None:
        self.fitting = True
        size = self.image_size()
        if size.isEmpty():
            return
        margin = 12
        self.scale = max(MIN_SCALE, min((self.width() - 2 * margin) / size.width(),
                                        (self.height() - 2 * margin) / size.height()))
        self._centre()

    def actual_size(self) -> None:
        self.fitting = False
        self.scale = 1.0
        self._centre()
        self.view_changed.emit()

    def follow(self, other: "CanvasView") -> None:
        """Show the same part of the picture as `other` at the same size on screen (views of the same picture
        at different resolutions, such as the doodle and its render, kept in step)."""
        mine, theirs = self.image_size(), other.image_size()
        if mine.isEmpty() or theirs.isEmpty():
            return
        ratio = theirs.width() / mine.width()
        centre = other.to_image(QPointF(other.width() / 2, other.height() / 2)) / ratio
        self.fitting = False
        self.scale = other.scale * ratio
        self.offset = QPointF(self.width() / 2, self.height() / 2) - centre * self.scale
        self.update()

    def set_comparing(self, comparing: bool) -> None:
        self.comparing = comparing
        self.update()

    def _centre(self) -> None:
        size = self.image_size()
        self.offset = QPointF((self.width() - size.width() * self.scale) / 2,
                              (self.height() - size.height() * self.scale) / 2)
        self.update()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        under = self.to_image(anchor)
        self.scale = min(MAX_SCALE, max(MIN_SCALE, self.scale * factor))
        self.offset = anchor - under * self.scale
        self.fitting = False
        self.update()
        self.view_changed.emit()

    def to_image(self, point: QPointF) -> QPointF:
        return (point - self.offset) / self.scale

    def image_rect(self) -> QRectF:
        size = self.image_size()
        return QRectF(self.offset.x(), self.offset.y(), size.width() * self.scale, size.height() * self.scale)

    # Painting -----------------------------------------------------------------------------------
    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        size = self.image_size()
        if size.isEmpty():
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        target = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale < 1.0)
        if self.comparing and self.compare is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, self.compare)
        elif self.base is not None:
            painter.drawImage(target, self.base)
        else:
            painter.fillRect(target, Qt.GlobalColor.white)
        if self.overlay_shown() and not (self.comparing and self.compare is not None):
            painter.setOpacity(self.overlay_opacity if self.base is not None else 1.0)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(target, self.overlay)
            painter.setOpacity(1.0)
        painter.setPen(QPen(QColor(0, 0, 0, 160), 1))
        painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self.paintable and self.hover is not None and self.brush_size > 0 and not self.space_down:
            radius = max(self.brush_size * self.scale / 2, 1.5)
            centre = self.offset + self.hover * self.scale
            for colour, width in ((QColor(0, 0, 0, 180), 3), (QColor(255, 255, 255, 230), 1)):
                painter.setPen(QPen(colour, width))
                painter.drawEllipse(centre, radius, radius)

    # Events -------------------------------------------------------------------------------------
    def resizeEvent(self, event):
        if self.fitting:
            self.fit()
        super().resizeEvent(event)

    def wheelEvent(self, event):
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP ** steps, event.position())
            self.activated.emit()

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_down = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            self.update()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_down = False
            self.unsetCursor()
            self.update()
            return
        super().keyReleaseEvent(event)

    def enterEvent(self, event):
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().enterEvent(event)

    def leaveEvent(self, event):
        self.hover = None
        self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event):
        self.activated.emit()
        pan = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self.space_down)
        if pan:
            self.pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self.paintable and not self.image_size().isEmpty() and event.button() in (
                Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            self.painting = True
            self.pressed.emit(self.to_image(event.position()), event.button(), event.modifiers())

    def mouseMoveEvent(self, event):
        cursor_before = self._brush_cursor_rect()
        self.hover = self.to_image(event.position())
        if self.pan_from is not None:
            self.offset += event.position() - self.pan_from
            self.pan_from = event.position()
            self.fitting = False
            self.update()
            self.view_changed.emit()
        elif self.painting:
            self.dragged.emit(self.hover)
            self.update()
        else:
            # only the brush cursor moved: repainting the whole painting, scaled, at every pointer event kept a
            # core busy on the GUI thread beside a render
            self.update(cursor_before.united(self._brush_cursor_rect()))

    def _brush_cursor_rect(self) -> QRect:
        if self.hover is None:
            return QRect()
        radius = max(self.brush_size * self.scale / 2, 1.5) + 3
        centre = self.offset + self.hover * self.scale
        return QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius).toAlignedRect()

    def mouseReleaseEvent(self, event):
        if self.pan_from is not None:
            self.pan_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self.space_down else Qt.CursorShape.ArrowCursor)
        elif self.painting:
            self.painting = False
            self.released.emit(self.to_image(event.position()))
