"""Who has been talking: the agent's and the customer's share of the talk time, as one bar.

A good call is a conversation; an agent above ~60% is usually not listening. One split bar
in the two party colours is readable from the corner of an eye, and the percentages above
it are rounded so they always add up to 100.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.window.theme import AGENT_COLOR, CUSTOMER_COLOR, MUTED_COLOR

__all__ = ["TalkShareBar"]


class TalkShareBar(QWidget):
    """Split bar of talk time, "You 46% · Customer 54%"."""

    def __init__(self, parent: QWidget | None = None, *, agent_label: str = "You",
                 customer_label: str = "Customer") -> None:
        super().__init__(parent)
        self._agent_label = agent_label
        self._customer_label = customer_label
        self._agent_s = 0.0
        self._customer_s = 0.0
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setAccessibleName("Talk-time share")
        self._refresh_text()

    def set_share(self, agent_s: float, customer_s: float) -> None:
        """Seconds of speech so far of each party (negative or NaN counts as 0)."""
        a = agent_s if math.isfinite(agent_s) and agent_s > 0 else 0.0
        c = customer_s if math.isfinite(customer_s) and customer_s > 0 else 0.0
        if (a, c) == (self._agent_s, self._customer_s):
            return
        self._agent_s, self._customer_s = float(a), float(c)
        self._refresh_text()
        self.update()

    def percentages(self) -> tuple[int, int] | None:
        """(agent %, customer %) summing to 100, or None before anyone spoke."""
        total = self._agent_s + self._customer_s
        if total <= 0:
            return None
        agent = round(100 * self._agent_s / total)
        return agent, 100 - agent

    def text(self) -> str:
        pct = self.percentages()
        if pct is None:
            return "No speech yet"
        return f"{self._agent_label} {pct[0]}% · {self._customer_label} {pct[1]}%"

    def _refresh_text(self) -> None:
        self.setAccessibleDescription(self.text())
        self.setToolTip(f"Share of the talk time so far: {self.text()}")

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance(f"{self._agent_label} 100% · "
                                          f"{self._customer_label} 100%") * 3 // 2,
                     round(fm.height() * 2.1))

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance(f"{self._agent_label} 100%  "
                                          f"{self._customer_label} 100%"),
                     round(fm.height() * 2.1))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: ARG002 - Qt signature
        pal = self.palette()
        fm = self.fontMetrics()
        r = QRectF(self.rect())
        text_h = fm.height()
        bar_h = max(4.0, fm.height() * 0.7)
        bar = QRectF(r.left() + 1, r.top() + text_h + fm.height() * 0.2, r.width() - 2, bar_h)
        text_row = QRectF(r.left() + 1, r.top(), r.width() - 2, text_h)
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, True)
        radius = bar_h / 2
        pct = self.percentages()
        p.setPen(Qt.NoPen)
        if pct is None:
            empty = QColor(MUTED_COLOR)
            empty.setAlpha(70)
            p.setBrush(empty)
            p.drawRoundedRect(bar, radius, radius)
            p.setPen(QColor(MUTED_COLOR))
            p.drawText(text_row, Qt.AlignLeft | Qt.AlignVCenter, self.text())
            p.end()
            return
        split = bar.left() + bar.width() * self._agent_s / (self._agent_s + self._customer_s)
        p.setClipRect(QRectF(bar.left(), bar.top(), split - bar.left(), bar.height()))
        p.setBrush(AGENT_COLOR)
        p.drawRoundedRect(bar, radius, radius)
        p.setClipRect(QRectF(split, bar.top(), bar.right() - split, bar.height()))
        p.setBrush(CUSTOMER_COLOR)
        p.drawRoundedRect(bar, radius, radius)
        p.setClipping(False)
        if bar.left() < split < bar.right():  # a thin gap so the split reads at 50/50 too
            p.fillRect(QRectF(split - 1, bar.top(), 2, bar.height()), pal.color(QPalette.Window))
        p.setPen(pal.color(QPalette.WindowText))
        p.drawText(text_row, Qt.AlignLeft | Qt.AlignVCenter, f"{self._agent_label} {pct[0]}%")
        p.drawText(text_row, Qt.AlignRight | Qt.AlignVCenter,
                   f"{self._customer_label} {pct[1]}%")
        p.end()
