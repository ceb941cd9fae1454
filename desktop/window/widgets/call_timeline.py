"""The replay page's call timeline: both parties' loudness, their turns and every cue,
and where personal data was redacted.

A pure view: it takes plain numbers (loudness bins, turns, events), not a CallAnalysis,
so the trainer's what-if re-run can swap the markers alone and tests can feed it by hand.
All that depends only on size, zoom, font and data is painted once into a pixmap; a
repaint while the call plays draws it and the playhead, a cost that does not grow with
the call. All sizes derive from the font, so 125%/150% scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from desktop.reports.html_svg import clock
from desktop.window.theme import AGENT_COLOR, CUSTOMER_COLOR, urgency_color
from desktop.window.widgets.lane_layer import lane_layer

__all__ = ["TimelineView", "points_per_second"]

_KEY_STEP_S = 5.0  # Left/Right move the playhead this far
_ZOOM_STEP = 1.25  # per wheel notch
_MIN_SPAN_S = 5.0  # zoomed in no further than this much of the call across the width
_DB_SPAN = 60.0  # loudness shown: the call's peak (+3 dB) down to this many dB below it
_TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
_LANES = ("agent", "customer")
_PARTY = {"agent": AGENT_COLOR, "customer": CUSTOMER_COLOR}


def points_per_second(t: Sequence[float]) -> float:
    """The bin rate of `loudness_tracks(...)["t"]`, from its ends: the times are rounded
    to 10 ms, so the gap between two neighbours is not precise enough."""
    return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 1.0


def _mix(a: QColor, b: QColor, f: float) -> QColor:
    """`a` moved a fraction `f` towards `b`: greys that suit light and dark palettes."""
    return QColor.fromRgbF(*(a.getRgbF()[k] * (1 - f) + b.getRgbF()[k] * f for k in range(3)))


def _alpha(c: QColor, a: int) -> QColor:
    return QColor(c.red(), c.green(), c.blue(), a)


class TimelineView(QWidget):
    """Two lanes (agent above, customer below) over the whole call, with a playhead.

    Signals: seekRequested(float) when the trainer clicks, drags or keys to a time (s);
    eventActivated(int) for a click on the marker of events[index] (with seekRequested).
    """

    seekRequested = Signal(float)
    eventActivated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.setAccessibleName("Call timeline: Left/Right 5 s, Home/End, Ctrl+wheel zooms")
        self._duration, self._pps, self._pos, self._v0, self._span = 0.0, 1.0, 0.0, 0.0, 1.0
        self._db: dict[str, np.ndarray | None] = {"agent": None, "customer": None}
        self._turns, self._events = [], []  # [(speaker, start, end)], the Events shown
        self._redacted: list[tuple[str, float, float]] = []  # personal data taken out
        self._dragging = False
        self._pixmap = self._plot = self._markers = None  # caches, see _invalidate
        self._background: QPixmap | None = None  # the static layer without the flags
        self._fresh = False  # a call just set, not painted yet (see paintEvent)

    def set_call(self, duration_s: float, agent_db: Sequence[float | None],
                 customer_db: Sequence[float | None] | None, points_per_s: float,
                 turns: Sequence[Any], events: Sequence[Any]) -> None:
        """Show a call: loudness bins in dBFS (`points_per_s` a second, the first centred on
        0.5/points_per_s as `loudness_tracks` makes them), speech turns and events
        (`coaching.timeline` types or look-alikes); `customer_db=None`: agent only."""
        self._duration = max(0.0, float(duration_s))
        self._db = {"agent": np.array(agent_db, dtype=float),  # None becomes NaN
                    "customer": None if customer_db is None else np.array(customer_db, float)}
        self._pps = float(points_per_s) if points_per_s > 0 else 1.0
        self._turns = [(t.speaker, float(t.start), float(t.end)) for t in turns]
        self._events = list(events)
        self._pos, self._v0, self._span = 0.0, 0.0, max(self._duration, 1e-3)
        self._fresh = True
        self._invalidate()

    def set_redactions(self, redactions: Sequence[Any]) -> None:
        """Mark where personal data was taken out (hatched in the speaker's lane): the
        transcript says "[card number]" there, kept audio is silent there."""
        self._redacted = [(str(r.speaker), float(r.start), float(r.end)) for r in redactions]
        self._invalidate()

    @property
    def redaction_count(self) -> int:
        return len(self._redacted)

    def set_events(self, events: Sequence[Any]) -> None:
        """Replace the markers (the what-if re-run); loudness, turns and zoom stay, and
        so does their drawing: only the flags are drawn again."""
        self._events = list(events)
        self._pixmap = self._markers = None
        self.update()

    def set_position(self, t: float) -> None:
        """Move the playhead (no signal); a zoomed view pages along to keep it in sight."""
        t = min(max(float(t), 0.0), self._duration)
        if t == self._pos:
            return
        old, self._pos = self._pos, t
        end = self._v0 + self._span
        if self._span < self._duration and not self._v0 <= t <= end and self._v0 <= old <= end:
            return self._set_view(t - 0.1 * self._span, self._span)
        (a, b), h = sorted((self.time_to_x(old), self.time_to_x(t))), self._pad() + 2
        self.update(QRect(int(a) - h, 0, int(b - a) + 2 * h + 1, self.height()))

    @property
    def position(self) -> float:
        return self._pos

    def marker_count(self) -> int:
        return len(self._events)

    def plot_rect(self) -> QRect:
        """Where time runs, left to right: both lanes (the axis sits just below)."""
        if self._plot is None:
            fm, p = self.fontMetrics(), self._pad()
            left = fm.horizontalAdvance("Customer") + 2 * p
            right = self.width() - p - fm.horizontalAdvance("00:00") // 2
            bottom = self.height() - fm.height() - p - p // 2
            self._plot = QRect(QPoint(left, p + 1),
                               QPoint(max(left + 1, right), max(p + 3, bottom)))
        return QRect(self._plot)

    def lane_rect(self, speaker: str) -> QRect:
        plot, gap = self.plot_rect(), max(2, self._pad() // 2)
        h = (plot.height() - gap) // 2
        return QRect(plot.left(), plot.top() if speaker == "agent" else plot.top() + h + gap,
                     plot.width(), h)

    def time_to_x(self, t: float) -> float:
        plot = self.plot_rect()
        return plot.left() + (t - self._v0) / self._span * plot.width()

    def x_to_time(self, x: float) -> float:
        plot = self.plot_rect()
        t = self._v0 + (x - plot.left()) / max(1, plot.width()) * self._span
        return min(max(t, 0.0), self._duration)

    def marker_x(self, index: int) -> float:
        return self._layout()[index][1]

    def marker_rect(self, index: int) -> QRect:
        """The flag of events[index] (the thin line below it is clickable too)."""
        return QRect(self._layout()[index][0])

    def marker_at(self, pos: QPoint) -> int | None:
        """The event whose marker is within a few pixels of `pos` (the topmost), if any."""
        slack = max(3, self.fontMetrics().height() // 5)
        for i in reversed(range(len(self._events))):
            rect, x, lane = self._layout()[i]
            lr = self.lane_rect(lane)
            if (rect.adjusted(-slack, -slack, slack, slack).contains(pos)
                    or abs(pos.x() - x) <= slack and lr.top() <= pos.y() <= lr.bottom()):
                return i
        return None

    def view_range(self) -> tuple[float, float]:
        return self._v0, self._v0 + self._span

    def sizeHint(self) -> QSize:
        return QSize(60, 12) * self.fontMetrics().height()

    def minimumSizeHint(self) -> QSize:
        return QSize(20, 7) * self.fontMetrics().height()

    def _pad(self) -> int:
        return max(5, round(self.fontMetrics().height() * 0.4))

    def _strip(self) -> int:
        return max(3, self.fontMetrics().height() // 5)

    def _layout(self) -> list[tuple[QRect, float, str]]:
        """Flag rectangles; flags that would overlap stack downwards in their lane."""
        if self._markers is None:
            fh = max(6, round(self.fontMetrics().height() * 0.6))
            fw = round(fh * 1.1)
            ends: dict[str, list[float]] = {lane: [] for lane in _LANES}
            marks: list[Any] = [None] * len(self._events)
            for i in sorted(range(len(self._events)), key=lambda i: self._events[i].start):
                e = self._events[i]
                lane = "customer" if e.speaker == "customer" and self._db["customer"] is not None \
                    else "agent"  # an agent-only call has no customer lane
                lr, x = self.lane_rect(lane), self.time_to_x(e.start)
                rows, cap = ends[lane], max(1, (lr.height() - 2) // (fh + 1))
                row = next((r for r, end in enumerate(rows) if end < x), None)
                if row is None:
                    row = len(rows) if len(rows) < cap else int(np.argmin(rows))
                    rows.extend([-math.inf] * (row + 1 - len(rows)))
                rows[row] = x + fw + 1
                marks[i] = (QRect(round(x), lr.top() + 2 + row * (fh + 1), fw + 1, fh), x, lane)
            self._markers = marks
        return self._markers

    def _set_view(self, v0: float, span: float) -> None:
        span = min(max(span, min(_MIN_SPAN_S, self._duration)), self._duration) or 1e-3
        self._v0, self._span = min(max(v0, 0.0), max(0.0, self._duration - span)), span
        self._invalidate()

    def _zoom(self, factor: float, anchor: float) -> None:
        span = self._span / factor if factor > 0 else self._duration
        self._set_view(anchor - (anchor - self._v0) / self._span * span, span)

    def _invalidate(self) -> None:
        """Drop the caches (static layer, plot area, flags): size, zoom, font or data moved."""
        self._pixmap = self._plot = self._markers = self._background = None
        self.update()

    def mousePressEvent(self, ev: Any) -> None:
        if ev.button() != Qt.LeftButton or self._duration <= 0:
            return super().mousePressEvent(ev)
        hit = self.marker_at(ev.position().toPoint())
        self._dragging = False
        if hit is not None:
            start = float(self._events[hit].start)
            self.set_position(start)
            self.eventActivated.emit(hit)
            self.seekRequested.emit(start)
        elif self.plot_rect().left() <= ev.position().x() <= self.plot_rect().right() + 1:
            self._dragging = True
            self._seek(self.x_to_time(ev.position().x()))

    def mouseMoveEvent(self, ev: Any) -> None:
        if self._dragging and ev.buttons() & Qt.LeftButton:
            self._seek(self.x_to_time(ev.position().x()))
        elif not ev.buttons():
            hit = self.marker_at(ev.position().toPoint())
            self.setCursor(Qt.PointingHandCursor if hit is not None else Qt.ArrowCursor)

    def wheelEvent(self, ev: Any) -> None:
        notches = (ev.angleDelta().y() or ev.angleDelta().x()) / 120.0
        if not notches or self._duration <= 0:
            return ev.ignore()
        if ev.modifiers() & Qt.ControlModifier:
            self._zoom(_ZOOM_STEP ** notches, self.x_to_time(ev.position().x()))
        elif self._span < self._duration:
            self._set_view(self._v0 - notches * 0.1 * self._span, self._span)
        else:
            return ev.ignore()  # not zoomed: a scroll area around the view scrolls
        ev.accept()

    def keyPressEvent(self, ev: Any) -> None:
        key, ctrl = ev.key(), bool(ev.modifiers() & Qt.ControlModifier)
        if self._duration <= 0:
            return super().keyPressEvent(ev)
        if ctrl and key in (Qt.Key_Plus, Qt.Key_Equal, Qt.Key_Minus, Qt.Key_0):
            self._zoom(0.0 if key == Qt.Key_0 else 1.6 if key != Qt.Key_Minus else 0.625,
                       self._pos)  # factor 0: all of the call
        elif key in (Qt.Key_Left, Qt.Key_Right):
            self._seek(self._pos + (_KEY_STEP_S if key == Qt.Key_Right else -_KEY_STEP_S))
        elif key in (Qt.Key_Home, Qt.Key_End):
            self._seek(0.0 if key == Qt.Key_Home else self._duration)
        else:
            return super().keyPressEvent(ev)
        ev.accept()

    def _seek(self, t: float) -> None:
        t = min(max(t, 0.0), self._duration)
        self.set_position(t)
        self.seekRequested.emit(t)

    def event(self, ev: QEvent) -> bool:
        if ev.type() == QEvent.ToolTip:
            hit = self.marker_at(ev.pos())
            if hit is None:
                QToolTip.hideText()
                ev.ignore()
            else:
                e = self._events[hit]
                held = "" if getattr(e, "prompted", True) else " - held back, not shown live"
                text = (f"<b>{escape(e.prompt or e.kind.replace('_', ' '))}</b><br>"
                        f"{escape(e.reason)}<br><i>{clock(e.start)} {e.speaker}{held}</i>")
                QToolTip.showText(ev.globalPos(), text, self, self.marker_rect(hit))
            return True
        if ev.type() in (QEvent.PaletteChange, QEvent.FontChange, QEvent.StyleChange,
                         QEvent.Resize):
            self._invalidate()
        return super().event(ev)

    def _needs_background(self) -> bool:
        return (self._background is None
                or self._background.devicePixelRatioF() != self.devicePixelRatioF())

    def _build_background(self) -> None:
        dpr = self.devicePixelRatioF()
        self._background = QPixmap(self.size() * dpr)
        self._background.setDevicePixelRatio(dpr)
        self._background.fill(self.palette().color(QPalette.Window))
        with QPainter(self._background) as p:
            self._paint_static(p)  # rectangles and columns: no antialiasing to pay for
        self._pixmap = None

    def prepare(self) -> None:
        """Build the call's static layer now, if it is not there yet (a step of
        showing a call; a paint that comes first builds it itself)."""
        if self._needs_background():
            self._build_background()
            self.update()

    def grab(self, *args: Any) -> QPixmap:  # noqa: D102 - a grab shows the call at once
        self._fresh = False
        return super().grab(*args)

    def paintEvent(self, ev: Any) -> None:
        if self._needs_background():
            if self._fresh:
                # A new call's first paint: its layer is built in a turn of its own, so
                # the page around it and this build never block the event loop together.
                self._fresh = False
                QTimer.singleShot(1, self.prepare)
                with QPainter(self) as p:
                    p.fillRect(ev.rect(), self.palette().color(QPalette.Window))
                return
            self._build_background()
        dpr = self.devicePixelRatioF()
        if self._pixmap is None:
            self._pixmap = QPixmap(self._background)
            with QPainter(self._pixmap) as p:
                p.setRenderHint(QPainter.Antialiasing)
                self._paint_markers(p, self.palette().color(QPalette.Base))
        p, r = QPainter(self), ev.rect()
        p.drawPixmap(r, self._pixmap, QRect(r.topLeft() * dpr, r.size() * dpr))
        if self._duration > 0:
            self._paint_playhead(p)
        if self.hasFocus():
            p.setPen(QPen(_alpha(self.palette().color(QPalette.Highlight), 160), 1))
            p.setBrush(Qt.NoBrush)
            p.drawRect(self.plot_rect().adjusted(-2, -2, 1, 1))
        p.end()

    def _paint_static(self, p: QPainter) -> None:
        pal = self.palette()
        base, text = pal.color(QPalette.Base), pal.color(QPalette.Text)
        muted, dark = _mix(base, text, 0.55), base.lightness() < 128
        peaks = [np.nanmax(v) for v in self._db.values() if v is not None and np.isfinite(v).any()]
        ceil = min(0.0, max(-40.0, max(peaks, default=-20.0) + 3.0))
        ticks = self._ticks() if self._duration > 0 else []
        strip = self._strip()
        for lane in _LANES:
            r, colour, db = self.lane_rect(lane), _PARTY[lane], self._db[lane]
            p.fillRect(r, pal.color(QPalette.Window) if db is None and self._duration else base)
            p.setPen(_mix(base, text, 0.08))
            for x, _ in ticks:
                p.drawLine(x, r.top() + 1, x, r.bottom() - 1)
            if self._duration <= 0 or db is None:
                p.setPen(muted)
                p.drawText(r, Qt.AlignCenter, "agent only: no customer channel in this call"
                           if self._duration > 0 else "No call loaded" if lane == "agent" else "")
            else:
                p.save()
                p.setClipRect(r)
                x, y = self._envelope(db, r, ceil)
                spans = [(round(self.time_to_x(start)), round(self.time_to_x(end)))
                         for speaker, start, end in self._turns
                         if speaker == lane and end >= self._v0
                         and start <= self._v0 + self._span]
                layer = lane_layer(r, colour, spans, x, y, strip)  # who held the floor, level
                p.drawImage(r, layer.image)
                hatch = QBrush(_mix(base, text, 0.45), Qt.BDiagPattern)
                for speaker, start, end in self._redacted:  # personal data taken out
                    if speaker == lane and end >= self._v0 and start <= self._v0 + self._span:
                        x0 = round(self.time_to_x(start))
                        p.fillRect(QRect(x0, r.top(), max(2, round(self.time_to_x(end)) - x0),
                                         r.height()), hatch)
                p.setRenderHint(QPainter.Antialiasing)  # the outline only
                p.setPen(QPen(colour, 1))
                p.drawPolyline(QPolygonF(list(map(QPointF, x, y))))
                p.restore()
            p.setPen(QPen(_mix(base, text, 0.2), 1))
            p.setBrush(Qt.NoBrush)
            p.drawRect(r.adjusted(0, 0, -1, -1))
            p.setPen(muted if db is None and self._duration > 0
                     else colour.lighter(115) if dark else colour.darker(115))
            p.drawText(QRect(0, r.top(), r.left() - self._pad(), r.height()),
                       Qt.AlignRight | Qt.AlignVCenter, lane.capitalize())
        fm, y, tick = self.fontMetrics(), self.plot_rect().bottom() + 1, self._strip()
        p.setPen(muted)
        for x, label in ticks:
            p.drawLine(x, y, x, y + tick)
            w = fm.horizontalAdvance(label) + 2
            p.drawText(QRect(x - w // 2, y + tick, w, fm.height()), Qt.AlignCenter, label)

    def _ticks(self) -> list[tuple[int, str]]:
        """(x, m:ss) at a round step that leaves room for every label."""
        need = self.fontMetrics().horizontalAdvance("00:00") * 2 * self._span / max(
            1, self.plot_rect().width())
        step = next((s for s in _TICK_STEPS if s >= need), _TICK_STEPS[-1])
        first = math.ceil(self._v0 / step)
        return [(round(self.time_to_x(i * step)), clock(i * step))
                for i in range(first, int((self._v0 + self._span) / step + 1e-6) + 1)]

    def _envelope(self, db: np.ndarray, r: QRect, ceil: float) -> tuple[np.ndarray, ...]:
        """(x, y) of the loudness's top per pixel column: the loudest bin in the column, or
        interpolated between bins when zoomed in; the same work for a call of any length."""
        w, v = r.width(), np.nan_to_num(db, nan=ceil - _DB_SPAN)
        tb = (np.arange(len(v)) + 0.5) / self._pps
        top = np.full(w, -np.inf)
        if self._span * self._pps > w:  # more bins than columns
            col = np.floor((tb - self._v0) / self._span * w).astype(int)
            ok = (col >= 0) & (col < w)
            np.maximum.at(top, col[ok], v[ok])
        elif len(v):
            t = self._v0 + (np.arange(w) + 0.5) / w * self._span
            top = np.where(t <= len(v) / self._pps, np.interp(t, tb, v), -np.inf)
        keep = np.isfinite(top)
        base = r.bottom() - self._strip()
        y = base - np.clip((top[keep] - ceil) / _DB_SPAN + 1.0, 0.0, 1.0) * (base - r.top() - 2)
        return r.left() + np.flatnonzero(keep) + 0.5, y

    def _paint_markers(self, p: QPainter, base: QColor) -> None:
        """A flag and a thin line per event, by urgency; hollow if it was held back."""
        plot = self.plot_rect()
        for i, (rect, x, lane) in enumerate(self._layout()):
            if not plot.left() - 1 <= x <= plot.right():
                continue  # zoomed past it (and off-view polygons cost the most to draw)
            e = self._events[i]
            colour = urgency_color(int(getattr(e, "priority", 50)))
            held = not getattr(e, "prompted", True)
            p.setPen(QPen(colour, 1, Qt.DashLine if held else Qt.SolidLine))
            p.drawLine(QPointF(x, rect.top()), QPointF(x, self.lane_rect(lane).bottom()))
            p.setPen(QPen(colour, 1.5 if held else 1))
            p.setBrush(base if held else colour)
            p.drawPolygon(QPolygonF([QPointF(x, rect.top()), QPointF(x, rect.bottom()),
                                     QPointF(rect.right(), rect.center().y())]))

    def _paint_playhead(self, p: QPainter) -> None:
        x, plot, h = self.time_to_x(self._pos), self.plot_rect(), self._pad()
        if not plot.left() - 1 <= x <= plot.right() + 1:
            return
        colour = self.palette().color(QPalette.WindowText)
        p.setPen(QPen(colour, 2))
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom() + 1))
        p.setPen(Qt.NoPen)
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([QPointF(x - h, plot.top() - h), QPointF(x + h, plot.top() - h),
                                 QPointF(x, plot.top() + 2)]))
