"""The agent's loudness and pitch over the last ~30 s, against the agent's own usual level.

"Lower your voice" is relative to the agent's baseline, never an absolute level, so the
plot shows that baseline as a shaded band: a trace that leaves the top of the band is what
the coach calls raised, and the part above it is drawn in the urgent colour. Pitch gets
its own thin lane below (gaps where unvoiced) because rising pitch often comes before
rising volume. Points live in a fixed-size numpy ring, so memory stays flat over a shift,
and painting bins them to at most one point per pixel column, in one-pixel lines, at
most 15 times a second, so repainting stays cheap.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.window.theme import AGENT_COLOR, MUTED_COLOR, urgency_color

__all__ = ["VoiceTracePlot"]

_DB_RANGE = (-60.0, 0.0)
_GAP_S = 0.5  # no points for this long: the line breaks instead of bridging the hole
_LINE_PX = 1.0  # the traces' pen
_MAX_FPS = 15.0  # repaints a second for new points at most


def _on_pixel_rows(ys: np.ndarray) -> np.ndarray:
    """Heights moved to the middle of their pixel row: a one-pixel line between two rows
    would be two half-strength rows, faint where the voice holds steady."""
    return np.floor(ys) + 0.5


def _draw(p: QPainter, poly: QPolygonF) -> None:
    if poly.size() > 1:
        p.drawPolyline(poly)
    else:
        p.drawPoint(poly.at(0))


class VoiceTracePlot(QWidget):
    """Loudness (dBFS, top lane) and pitch (Hz, bottom lane) of the last `window_s` seconds.

    Args:
        window_s: seconds shown, ending at the newest point ("now").
        pitch_range: Hz at the bottom and top of the pitch lane.
        capacity: points kept at most (the ring): 4096 holds 30 s at 100 frames/s.
        color: the trace colour (the agent's by default).
    """

    def __init__(self, parent: QWidget | None = None, *, window_s: float = 30.0,
                 pitch_range: tuple[float, float] = (60.0, 400.0), capacity: int = 4096,
                 color: QColor = AGENT_COLOR) -> None:
        super().__init__(parent)
        self._window_s = float(window_s)
        self._pitch_lo, self._pitch_hi = pitch_range
        self._color = QColor(color)
        self._cap = max(16, int(capacity))
        self._t = np.zeros(self._cap)
        self._db = np.zeros(self._cap)
        self._hz = np.zeros(self._cap)
        self._head = 0   # next slot to write
        self._n = 0      # valid points
        self._baseline: float | None = None
        self._raised_db = 6.0
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAccessibleName("Your voice over the last seconds")
        self._painted_at = 0.0
        self._repaint = QTimer(self, singleShot=True)
        self._repaint.timeout.connect(self.update)
        self.set_window(window_s)

    # -- data ------------------------------------------------------------------------------
    def append(self, t: float, dbfs: float, pitch_hz: float) -> None:
        """Add one frame (pitch NaN when unvoiced). A time that goes backwards starts afresh."""
        if self._n and t < self._newest_t():
            self.clear()
        self._t[self._head], self._db[self._head], self._hz[self._head] = t, dbfs, pitch_hz
        self._head = (self._head + 1) % self._cap
        self._n = min(self._n + 1, self._cap)
        # drop what left the window so the ring holds only the window
        first = (self._head - self._n) % self._cap
        while self._n > 1 and self._t[first] < t - self._window_s:
            first = (first + 1) % self._cap
            self._n -= 1
        self._repaint_soon()

    def set_baseline(self, dbfs: float | None, raised_db: float) -> None:
        """The agent's usual level (None while it is still being learned) and the raise margin."""
        self._baseline = None if dbfs is None or not math.isfinite(dbfs) else float(dbfs)
        self._raised_db = float(raised_db)
        self._repaint_soon()

    def _repaint_soon(self) -> None:
        """New points repaint at most `_MAX_FPS` times a second: the trace moves about a
        pixel per frame at that rate, and each repaint is several ms of the GUI thread
        (more on a busy machine), so the live page's 30 ticks a second would double it
        for nothing a person sees."""
        if self._repaint.isActive():
            return
        wait_ms = 1000.0 / _MAX_FPS - (time.perf_counter() - self._painted_at) * 1000.0
        if wait_ms <= 0:
            self.update()
        else:
            self._repaint.start(int(wait_ms) + 1)

    def clear(self) -> None:
        self._head = self._n = 0
        self.update()

    def set_window(self, window_s: float) -> None:
        """Seconds shown; the ring keeps `capacity` points, so size it for window x rate."""
        self._window_s = max(1.0, float(window_s))
        self.setToolTip(f"Your loudness (dB) and pitch (Hz) over the last {self._window_s:g} s."
                        " The shaded band is your usual level; above it is a raised voice.")
        self.update()

    def points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of (t, dbfs, pitch_hz) of the points held, oldest first."""
        idx = (np.arange(self._n) + self._head - self._n) % self._cap
        return self._t[idx].copy(), self._db[idx].copy(), self._hz[idx].copy()

    def _newest_t(self) -> float:
        return float(self._t[(self._head - 1) % self._cap])

    @property
    def window_s(self) -> float:
        return self._window_s

    # -- geometry --------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 60, fm.height() * 12)

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 25, fm.height() * 7)

    def lanes(self) -> tuple[QRectF, QRectF]:
        """(loudness lane, pitch lane) in widget coordinates."""
        fm = self.fontMetrics()
        left = fm.horizontalAdvance("-60") + fm.averageCharWidth() * 1.5
        right = fm.averageCharWidth() * 1.0
        top, bottom = fm.height() * 0.3, fm.height() * 1.3
        gap = fm.height() * 0.6
        w = max(1.0, self.width() - left - right)
        h = max(2.0, self.height() - top - bottom - gap)
        db_h = h * 0.68
        return (QRectF(left, top, w, db_h), QRectF(left, top + db_h + gap, w, h - db_h))

    def db_to_y(self, dbfs: float) -> float:
        lane = self.lanes()[0]
        lo, hi = _DB_RANGE
        f = (min(hi, max(lo, dbfs)) - lo) / (hi - lo)
        return lane.bottom() - f * lane.height()

    def hz_to_y(self, hz: float) -> float:
        """Pitch lane y of a frequency (log scale: equal steps are equal musical intervals)."""
        lane = self.lanes()[1]
        return float(lane.bottom() - self._hz_frac(np.asarray(hz, dtype=float)) * lane.height())

    def _hz_frac(self, hz: np.ndarray) -> np.ndarray:
        lo, hi = math.log(self._pitch_lo), math.log(self._pitch_hi)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.log(np.clip(hz, self._pitch_lo, self._pitch_hi)) - lo) / (hi - lo)

    # -- painting --------------------------------------------------------------------------
    def _binned(self, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """At most ~one point per pixel column: loudest dB and mean voiced pitch per column."""
        t, db, hz = self.points()
        if len(t) == 0:
            return t, db, hz
        t0 = t[-1] - self._window_s
        keep = t >= t0
        t, db, hz = t[keep], db[keep], hz[keep]
        db = np.where(np.isfinite(db), db, _DB_RANGE[0])
        if len(t) <= width or width < 2:
            return t, db, hz
        col = np.minimum(((t - t0) / self._window_s * width).astype(int), width - 1)
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
        voiced = np.isfinite(hz) & (hz > 0)
        hz_sum = np.add.reduceat(np.where(voiced, hz, 0.0), starts)
        hz_n = np.add.reduceat(voiced.astype(float), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            hz_mean = np.where(hz_n > 0, hz_sum / np.maximum(hz_n, 1), np.nan)
        return t[starts], np.maximum.reduceat(db, starts), hz_mean

    def _runs(self, xs: np.ndarray, ys: np.ndarray, t: np.ndarray) -> list[QPolygonF]:
        """Polylines split at NaN values and at holes in time longer than _GAP_S."""
        ok = np.isfinite(ys)
        starts = np.flatnonzero(np.r_[True, (np.diff(t) > _GAP_S) | ~ok[1:] | ~ok[:-1]])
        xl, yl = xs.tolist(), ys.tolist()
        return [QPolygonF(list(map(QPointF, xl[a:b], yl[a:b])))
                for a, b in zip(starts.tolist(), [*starts[1:].tolist(), len(xl)], strict=True)
                if ok[a]]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: ARG002 - Qt signature
        self._painted_at = time.perf_counter()
        pal = self.palette()
        fm = self.fontMetrics()
        db_lane, hz_lane = self.lanes()
        p = QPainter(self)
        p.fillRect(db_lane.united(hz_lane), pal.color(QPalette.Base))
        grid = QColor(pal.color(QPalette.Mid))
        grid.setAlpha(90)
        small = self.font()
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
        p.setFont(small)
        sfm = p.fontMetrics()
        # axes: dB lane ticks, Hz lane ends, time labels
        for db in (-60.0, -30.0, 0.0):
            p.fillRect(QRectF(db_lane.left(), round(self.db_to_y(db)), db_lane.width(), 1), grid)
        p.setPen(QColor(MUTED_COLOR))
        lab_w = db_lane.left() - fm.averageCharWidth() * 0.5
        ticks = [(db_lane, self.db_to_y(db), txt)
                 for db, txt in ((0.0, "0"), (-30.0, "-30"), (-60.0, "-60"))]
        ticks += [(hz_lane, self.hz_to_y(hz), f"{hz:g}")
                  for hz in (self._pitch_hi, self._pitch_lo)]
        for lane, y, txt in ticks:  # centred on the value, but kept inside its lane
            top = min(max(y - sfm.height() / 2, lane.top() - 1), lane.bottom() - sfm.height() + 1)
            p.drawText(QRectF(0, top, lab_w, sfm.height()), Qt.AlignRight | Qt.AlignVCenter, txt)
        for lane, txt in ((db_lane, "dB"), (hz_lane, "Hz")):
            p.drawText(QRectF(lane.left() + 4, lane.top(), lane.width(), sfm.height()),
                       Qt.AlignLeft | Qt.AlignTop, txt)
        tl = QRectF(db_lane.left(), hz_lane.bottom() + 2, db_lane.width(), sfm.height())
        p.drawText(tl, Qt.AlignLeft | Qt.AlignTop, f"-{self._window_s:g} s")
        p.drawText(tl, Qt.AlignRight | Qt.AlignTop, "now")

        raise_y = None
        if self._baseline is not None:
            band = QColor(self._color)
            band.setAlpha(55)
            top = self.db_to_y(self._baseline + self._raised_db)
            bot = self.db_to_y(self._baseline - self._raised_db)
            p.fillRect(QRectF(db_lane.left(), top, db_lane.width(), bot - top), band)
            edge = QColor(self._color)
            edge.setAlpha(120)
            p.fillRect(QRectF(db_lane.left(), round(self.db_to_y(self._baseline)),
                              db_lane.width(), 1), edge)
            raise_y = top

        t, db, hz = self._binned(int(db_lane.width()))
        if len(t):
            t0 = t[-1] - self._window_s
            xs = db_lane.left() + (t - t0) / self._window_s * db_lane.width()
            lo, hi = _DB_RANGE
            ys = _on_pixel_rows(
                db_lane.bottom() - (np.clip(db, lo, hi) - lo) / (hi - lo) * db_lane.height())
            p.setRenderHint(QPainter.Antialiasing, True)
            # One pixel wide: Qt strokes thin antialiased lines on a fast path; a 2 px pen
            # made a repaint of a lively 30 s trace 50-100 ms, the GUI thread blocked for
            # as long, 30 times a second.
            width = _LINE_PX
            polys = self._runs(xs, ys, t)
            self._draw_clipped(p, polys, db_lane, raise_y, width)
            voiced = np.isfinite(hz) & (hz > 0)
            hys = _on_pixel_rows(np.where(
                voiced, hz_lane.bottom() - self._hz_frac(hz) * hz_lane.height(), np.nan))
            p.setClipRect(hz_lane)
            p.setPen(QPen(self._color, width))
            for poly in self._runs(xs, hys, t):
                _draw(p, poly)
        p.end()

    def _draw_clipped(self, p: QPainter, polys: list[QPolygonF], lane: QRectF,
                      raise_y: float | None, width: float) -> None:
        """The loudness trace: party colour inside/below the band, urgent colour above it."""
        parts = [(lane, self._color)]
        if raise_y is not None and lane.top() < raise_y < lane.bottom():
            parts = [(QRectF(lane.left(), raise_y, lane.width(), lane.bottom() - raise_y),
                      self._color),
                     (QRectF(lane.left(), lane.top(), lane.width(), raise_y - lane.top()),
                      urgency_color(100))]
        for clip, color in parts:
            p.setClipRect(clip)
            p.setPen(QPen(color, width))
            for poly in polys:
                _draw(p, poly)
        p.setClipping(False)
