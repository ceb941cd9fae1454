"""A timeline lane's static picture (who held the floor, how loud) as one image.

Made with numpy rather than a QPainter call per turn and per pixel column: those took
25-35 ms for a 4-minute call on the GUI thread, and cannot move to another thread
because PySide holds the GIL inside painter calls.
"""

from __future__ import annotations

import functools

import numpy as np
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage

__all__ = ["lane_layer"]


class _Layer:
    """A QImage over a numpy buffer, which must live as long as the image."""

    def __init__(self, pixels: np.ndarray) -> None:
        self.pixels = np.ascontiguousarray(pixels)
        h, w = self.pixels.shape[:2]
        self.image = QImage(self.pixels.data, w, h, 4 * w, QImage.Format_ARGB32_Premultiplied)


def lane_layer(r: QRect, colour: QColor, spans: list[tuple[int, int]], x: np.ndarray,
                y: np.ndarray, strip: int) -> _Layer:
    """A lane's turns (a faint band, a strong foot strip) and its loudness (filled to the
    top of each pixel column) in one image made with numpy: a few milliseconds for a call
    of any length, where a QPainter call per turn and column took tens (and holds the
    GIL, so it cannot move off the GUI thread). All three are the lane's colour, so the
    layers compose as one opacity per pixel."""
    h, w = r.height(), r.width()
    held = np.zeros(w, bool)
    for x0, x1 in spans:  # columns [x0, x1), at least one
        a = x0 - r.left()
        held[max(a, 0):max(min(a + max(1, x1 - x0), w), 0)] = True
    rows = np.arange(h)[:, None]
    top = np.full(w, h)  # no level: nothing filled
    cols = np.clip((x - r.left() - 0.5).round().astype(int), 0, w - 1)
    top[cols] = np.ceil(y - r.top())
    # Each pixel is one of 8 cases (in a turn, in the foot strip, under the level), each
    # with its opacity: a table lookup instead of arithmetic per pixel.
    case = ((rows >= top) & (rows < h - strip)).astype(np.uint8) << 2
    case |= held.astype(np.uint8)
    case[h - strip:] |= 2
    return _Layer(_lane_colours(colour.rgb())[case])


@functools.lru_cache(maxsize=8)
def _lane_colours(rgb: int) -> np.ndarray:
    """BGRA (QImage's ARGB32 in a little-endian buffer), premultiplied, per case of
    `lane_layer`: bit 0 in a turn (band), bit 1 the foot strip (only in a turn), bit 2
    under the loudness."""
    colour = QColor(rgb)
    bgra = np.array([colour.blue(), colour.green(), colour.red(), 255], np.float64)
    table = np.zeros((8, 4), np.uint8)
    for case in range(8):
        clear = 1.0
        if case & 1:
            clear *= 1 - 22 / 255
            if case & 2:
                clear *= 1 - 150 / 255
        if case & 4:
            clear *= 1 - 120 / 255
        table[case] = np.round((1 - clear) * bgra)
    return table
