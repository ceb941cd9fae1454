"""The call's words in two colours, the cues marked where they happened.

One widget for both pages: the live page appends lines as Whisper delivers them and
keeps the newest in view; the replay page loads the whole call, follows playback, and
seeks when a line is clicked (or chosen with the keyboard and Enter).
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from coaching.timeline import AGENT, CUSTOMER, Event, Utterance
from desktop.window.theme import AGENT_COLOR, CUSTOMER_COLOR, urgency_color

__all__ = ["TranscriptView", "clock"]

_TIME_ROLE = Qt.UserRole + 1
_KIND_ROLE = Qt.UserRole + 2
# Made once, at import: the first QBrush of a process also builds PySide's Python enums
# of QGradient (about 10 ms), which would otherwise land on the showing of a call.
_PARTY_BRUSH = {AGENT: QBrush(AGENT_COLOR), CUSTOMER: QBrush(CUSTOMER_COLOR)}
QListWidgetItem().setData(_TIME_ROLE, 0.0)  # the same for the first float in a QVariant


def clock(t: float) -> str:
    """m:ss for a call time."""
    t = max(0.0, t)
    return f"{int(t // 60)}:{int(t % 60):02d}"


class TranscriptView(QListWidget):
    """Lines in time order; `seekRequested(t)` when one is activated."""

    seekRequested = Signal(float)

    def __init__(self, parent: QWidget | None = None, follow_tail: bool = False) -> None:
        super().__init__(parent)
        self.follow_tail = follow_tail
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setAccessibleName("Transcript")
        self._times: list[float] = []
        self._current: QListWidgetItem | None = None
        self.itemActivated.connect(self._activated)
        self.itemClicked.connect(self._activated)

    def _activated(self, item: QListWidgetItem) -> None:
        t = item.data(_TIME_ROLE)
        if t is not None:
            self.seekRequested.emit(float(t))

    def _insert(self, t: float, item: QListWidgetItem) -> None:
        item.setData(_TIME_ROLE, t)
        row = bisect.bisect_right(self._times, t)
        self._times.insert(row, t)
        self.insertItem(row, item)
        if self.follow_tail and row == self.count() - 1:
            self.scrollToBottom()

    def add_utterance(self, u: Utterance) -> None:
        who = "You" if u.speaker == AGENT else "Customer"
        item = QListWidgetItem(f"{clock(u.start)}  {who}: {u.text}")
        item.setForeground(_PARTY_BRUSH[AGENT if u.speaker == AGENT else CUSTOMER])
        item.setData(_KIND_ROLE, "utterance")
        item.setToolTip(f"{u.speaker}, {u.start:.1f}-{u.end:.1f} s")
        self._insert(u.start, item)

    def add_event(self, e: Event) -> None:
        label = e.prompt or e.kind.replace("_", " ")
        held = "" if e.prompted else "  (held back by cooldown)"
        item = QListWidgetItem(f"{clock(e.start)}  \u25b6 {label} \u2014 {e.reason}{held}")
        font = QFont(self.font())
        font.setItalic(True)
        item.setFont(font)
        item.setForeground(QBrush(urgency_color(e.priority)))
        item.setData(_KIND_ROLE, e.kind)
        self._insert(e.start, item)

    def set_call(self, utterances: tuple[Utterance, ...] | list[Utterance],
                 events: tuple[Event, ...] | list[Event]) -> None:
        """Replace everything (a replayed call, or the what-if's new cues)."""
        self.setUpdatesEnabled(False)
        self.clear()
        self._times = []
        self._current = None
        for u in utterances:
            self.add_utterance(u)
        for e in events:
            self.add_event(e)
        self.setUpdatesEnabled(True)

    def set_events(self, events: tuple[Event, ...] | list[Event]) -> None:
        """Replace the cue lines only (the what-if): the words stay where they are."""
        self.setUpdatesEnabled(False)
        for row in reversed(self.event_rows()):
            item = self.takeItem(row)
            if item is self._current:
                self._current = None
            del self._times[row]
        for e in events:
            self.add_event(e)
        self.setUpdatesEnabled(True)

    def clear(self) -> None:  # noqa: D102 - keeps the time index in step
        super().clear()
        self._times = []
        self._current = None

    def utterance_rows(self) -> list[int]:
        return [i for i in range(self.count()) if self.item(i).data(_KIND_ROLE) == "utterance"]

    def event_rows(self) -> list[int]:
        return [i for i in range(self.count())
                if self.item(i).data(_KIND_ROLE) not in (None, "utterance")]

    def follow(self, t: float) -> None:
        """Mark the line being played at `t` and keep it in view: the words being said
        (a cue line that starts with them, or inside them, does not take the mark)."""
        row = bisect.bisect_right(self._times, t) - 1
        words = row
        while words >= 0 and self.item(words).data(_KIND_ROLE) != "utterance":
            words -= 1
        row = words if words >= 0 else row
        item = self.item(row) if row >= 0 else None
        if item is self._current:
            return
        if self._current is not None:
            font = self._current.font()
            font.setBold(False)
            self._current.setFont(font)
        self._current = item
        if item is not None:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            self.scrollToItem(item, QAbstractItemView.EnsureVisible)

    @property
    def current_row(self) -> int:
        return self.row(self._current) if self._current is not None else -1
