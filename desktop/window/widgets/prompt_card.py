"""The live prompt: one short instruction in large type, why it fired, and a way to snooze it.

An agent glances at this between sentences, so it must be readable in a glance and must
never flicker: the same prompt arriving again (the coach re-confirms it every few hops)
only refreshes the reason line, and a cleared prompt fades out over ~600 ms instead of
vanishing mid-read. The colour strip says how urgent it is without reading a word.
"""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QEvent, QPropertyAnimation, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.window.theme import MUTED_COLOR, urgency_color, urgency_of

__all__ = ["PromptCard", "IDLE_TEXT"]

IDLE_TEXT = "Listening…"
_FADE_OUT_MS = 600
_FADE_IN_MS = 180


class _Body(QWidget):
    """The card's content; paints the urgency tint and strip so they fade with the text."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.color: QColor | None = None

    def strip_width(self) -> float:
        return max(4.0, self.fontMetrics().height() * 0.4)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: ARG002 - Qt signature
        if self.color is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, True)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = self.fontMetrics().height() * 0.3
        tint = QColor(self.color)
        tint.setAlpha(38)
        p.setPen(Qt.NoPen)
        p.setBrush(tint)
        p.drawRoundedRect(r, radius, radius)
        p.setBrush(self.color)
        p.drawRoundedRect(QRectF(r.left(), r.top(), self.strip_width() * 2, r.height()),
                          radius, radius)
        p.drawRect(QRectF(r.left() + self.strip_width(), r.top(), self.strip_width(),
                          r.height()))
        p.end()


class PromptCard(QFrame):
    """The current coaching prompt, or a calm "Listening…" when there is none.

    Signals:
        snoozeRequested(str): the kind of the prompt shown when the agent pressed
            "Snooze for this call"; the card then clears itself.
        promptChanged(str): a different prompt appeared (not emitted for a repeat).
    """

    snoozeRequested = Signal(str)
    promptChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.NoFrame)
        self.idle_text = IDLE_TEXT
        self._kind = ""
        self._text = ""
        self._reason = ""
        self._priority = 0
        self._idle = True
        self._fading_out = False

        self._body = _Body(self)
        self._title = QLabel(self._body)
        self._title.setWordWrap(True)
        self._title.setTextFormat(Qt.PlainText)
        self._reason_label = QLabel(self._body)
        self._reason_label.setWordWrap(True)
        self._reason_label.setTextFormat(Qt.PlainText)
        self._snooze = QPushButton("Snooze for this call", self._body)
        self._snooze.setToolTip("Don't show this kind of prompt again until the call ends")
        self._snooze.setAccessibleName("Snooze this prompt for this call")
        self._snooze.clicked.connect(self._on_snooze)

        text_col = QVBoxLayout()
        text_col.addWidget(self._title)
        text_col.addWidget(self._reason_label)
        self._row = QHBoxLayout(self._body)
        self._row.addLayout(text_col, 1)
        self._row.addWidget(self._snooze, 0, Qt.AlignBottom)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._body)

        self._effect = QGraphicsOpacityEffect(self._body)
        self._effect.setOpacity(1.0)
        self._body.setGraphicsEffect(self._effect)
        self._anim = QPropertyAnimation(self._effect, b"opacity", self)
        self._anim.finished.connect(self._on_anim_finished)

        self.setAccessibleName("Coaching prompt")
        self._apply_fonts()
        self._set_idle()

    # -- public API ------------------------------------------------------------------------
    def show_prompt(self, kind: str, text: str, reason: str, priority: int) -> None:
        """Show a prompt; the same kind and text while it is up only refreshes the reason."""
        if not self._idle and kind == self._kind and text == self._text:
            if self._fading_out:  # it came back before it was gone: stay, no new fade-in
                self._anim.stop()
                self._fading_out = False
                self._effect.setOpacity(1.0)
            self._set_reason(reason)
            return
        self._anim.stop()
        self._fading_out = False
        self._idle = False
        self._kind, self._text, self._priority = kind, text, int(priority)
        self._body.color = urgency_color(self._priority)
        self._title.setText(text)
        self._title.setStyleSheet("")
        self._apply_fonts()
        self._set_reason(reason)
        self._snooze.show()
        self._snooze.setEnabled(True)
        self._body.update()
        self._fade(self._effect.opacity() if self._effect.opacity() < 1.0 else 0.35, 1.0,
                   _FADE_IN_MS)
        self.promptChanged.emit(kind)

    def clear_prompt(self) -> None:
        """Fade the prompt out (~600 ms), then show the idle state."""
        if self._idle or self._fading_out:
            return
        self._anim.stop()
        self._fading_out = True
        self._snooze.setEnabled(False)
        self._fade(self._effect.opacity(), 0.0, _FADE_OUT_MS)

    @property
    def current_kind(self) -> str:
        """Kind of the prompt on show ("" when idle)."""
        return self._kind

    @property
    def current_text(self) -> str:
        return self._text

    @property
    def current_reason(self) -> str:
        return self._reason

    @property
    def is_idle(self) -> bool:
        """True once no prompt is on show (after the fade-out has finished)."""
        return self._idle

    @property
    def is_animating(self) -> bool:
        return self._anim.state() == QPropertyAnimation.Running

    # -- internals -------------------------------------------------------------------------
    def _fade(self, start: float, end: float, ms: int) -> None:
        self._anim.setDuration(ms)
        self._anim.setStartValue(start)
        self._anim.setEndValue(end)
        self._anim.setEasingCurve(QEasingCurve.InOutQuad if end < start else QEasingCurve.OutQuad)
        self._anim.start()

    def _on_anim_finished(self) -> None:
        if self._fading_out:
            self._fading_out = False
            self._set_idle()
            self._fade(0.0, 1.0, _FADE_IN_MS)

    def set_idle_text(self, text: str) -> None:
        """What the empty card says ("Listening…" in a call, a hint between calls)."""
        self.idle_text = text
        if self._idle:
            self._title.setText(text)

    def _set_idle(self) -> None:
        self._idle = True
        self._kind = self._text = ""
        self._body.color = None
        self._title.setText(self.idle_text)
        self._title.setStyleSheet(f"color: {MUTED_COLOR.name()};")
        self._apply_fonts()
        self._set_reason("")
        self._snooze.hide()
        self._body.update()

    def _set_reason(self, reason: str) -> None:
        self._reason = reason
        self._reason_label.setText(reason)
        if self._idle:
            self.setAccessibleDescription("No prompt: listening")
            self.setToolTip("Live coaching prompts appear here")
        else:
            level = urgency_of(self._priority)
            self.setAccessibleDescription(f"{self._text}. {reason}".strip())
            self.setToolTip(f"{level.capitalize()}: {self._text}\n{reason}".strip())

    def _apply_fonts(self) -> None:
        base = self.font()
        big = self.font()
        big.setPointSizeF(base.pointSizeF() * 2.0)
        big.setBold(not self._idle)
        self._title.setFont(big)
        small = self.font()
        small.setPointSizeF(base.pointSizeF() * 0.95)
        self._reason_label.setFont(small)
        # the reason line keeps its height when empty, so the card never jumps in size
        self._reason_label.setMinimumHeight(QFontMetrics(small).height())
        fm = self.fontMetrics()
        pad = round(fm.height() * 0.6)
        self._row.setContentsMargins(pad + round(self._body.strip_width() * 2), pad, pad, pad)
        self._row.setSpacing(pad)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.FontChange:
            self._apply_fonts()
        elif event.type() == QEvent.PaletteChange and self._idle:
            self._title.setStyleSheet(f"color: {MUTED_COLOR.name()};")
        super().changeEvent(event)

    def _on_snooze(self) -> None:
        if self._idle or not self._kind:
            return
        self.snoozeRequested.emit(self._kind)
        self.clear_prompt()
