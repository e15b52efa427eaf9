"""A QR code drawn by Qt from the code's modules (no image files involved)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from stocky.core import qr


class QrCode(QWidget):
    def __init__(self, text: str = "", parent: QWidget | None = None, size: int = 240) -> None:
        super().__init__(parent)
        self._modules: list[list[bool]] = []
        self.text = ""
        self.setMinimumSize(QSize(size, size))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set_text(text)

    def set_text(self, text: str) -> None:
        self.text = text
        self._modules = qr.matrix(text) if text else []
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        if not self._modules:
            return
        count = len(self._modules)
        cell = min(self.width(), self.height()) / count
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#000000"))
        for y, line in enumerate(self._modules):
            for x, dark in enumerate(line):
                if dark:
                    painter.drawRect(QRectF(x * cell, y * cell, cell + 0.5, cell + 0.5))
