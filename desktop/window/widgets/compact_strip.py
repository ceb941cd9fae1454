"""A small always-on-top strip: the prompt and the two meters, nothing else.

For agents whose screen is mostly softphone and CRM: the strip stays above them, costs a
sliver of the screen, and still says "Lower your voice" the moment it matters.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.window.theme import AGENT_COLOR, CUSTOMER_COLOR, MUTED_COLOR, urgency_color
from desktop.window.widgets.level_meter import LevelMeter, align_labels

__all__ = ["CompactStrip"]

_TYPICAL_PROMPT = "Listen - let them finish"


class CompactStrip(QWidget):
    """Fed by the live page; `expandRequested` goes back to the full window."""

    expandRequested = Signal()

    def __init__(self, on_top: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.Tool)
        self.setWindowTitle("callcoach")
        self.set_on_top(on_top)
        self.prompt = QLabel("Listening\u2026", objectName="compact_prompt")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.prompt.setFont(font)
        self.prompt.setAccessibleName("Current prompt")
        self.reason = QLabel(objectName="compact_reason")
        self.agent_meter = LevelMeter("You", AGENT_COLOR)
        self.customer_meter = LevelMeter("Customer", CUSTOMER_COLOR)
        align_labels(self.agent_meter, self.customer_meter)
        expand = QPushButton("\u2922", objectName="compact_expand")
        expand.setToolTip("Back to the full window (Ctrl+M)")
        expand.setAccessibleName("Back to the full window")
        expand.clicked.connect(self.expandRequested)
        QShortcut(QKeySequence("Ctrl+M"), self, activated=self.expandRequested.emit)

        top = QHBoxLayout()
        top.addWidget(self.prompt, 1)
        top.addWidget(expand)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.reason)
        layout.addWidget(self.agent_meter)
        layout.addWidget(self.customer_meter)
        self.reason.setWordWrap(True)
        # One width whatever the prompt: a strip that jumps as prompts come and go would
        # pull the eye for the wrong reason (wide enough for a typical prompt).
        self.setMinimumWidth(QFontMetrics(font).horizontalAdvance(_TYPICAL_PROMPT)
                             + expand.sizeHint().width() + 40)
        self.show_idle()

    def set_on_top(self, on_top: bool) -> None:
        self.setWindowFlag(Qt.WindowStaysOnTopHint, on_top)

    def show_prompt(self, text: str, reason: str, priority: int) -> None:
        self.prompt.setText(text)
        self.prompt.setStyleSheet(f"color: {urgency_color(priority).name()};")
        self.reason.setText(reason)

    def show_idle(self) -> None:
        self.prompt.setText("Listening\u2026")
        self.prompt.setStyleSheet(f"color: {MUTED_COLOR.name()};")
        self.reason.setText("")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Closing the strip brings the window back rather than hiding the coach."""
        event.accept()
        self.expandRequested.emit()
