"""Guards against a Qt binding that corrupts the interpreter while painting.

PySide6 6.12.0 dropped a reference to ``None`` on most QPainter calls; after enough frames the
interpreter aborts ("deallocating None"). The views paint 30-60 times a second for hours.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter


def test_painting_does_not_drop_references_to_none() -> None:
    image = QImage(64, 64, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    try:
        before = sys.getrefcount(None)
        for _ in range(500):
            painter.fillRect(QRect(0, 0, 8, 8), QColor(1, 2, 3))
            painter.drawLine(0, 0, 5, 5)
            painter.drawImage(QRect(0, 0, 4, 4), image.copy(0, 0, 4, 4))
        after = sys.getrefcount(None)
    finally:
        painter.end()
    assert after >= before - 50, f"None lost {before - after} references in 1500 paint calls"
