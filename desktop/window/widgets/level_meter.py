"""A level meter for one party of the call (dBFS, -60 to 0), with ballistics and peak hold.

The page feeds it raw per-hop loudness. A bar that jumped to every 20 ms value would be
unreadable, so the bar rises fast and falls with a ~300 ms time constant (the classic
meter response), and a peak tick holds ~1.5 s so a short shout stays visible long enough
to notice. The smoothing is computed from elapsed time, never from how often values
arrive, so a busy GUI thread or a different hop size does not change what the agent sees.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.window.theme import MUTED_COLOR

__all__ = ["LevelMeter", "align_labels", "MIN_DB", "MAX_DB"]

MIN_DB = -60.0
MAX_DB = 0.0
_TICKS_DB = (-40.0, -20.0, -10.0)


def _clamp_db(dbfs: float) -> float:
    if dbfs is None or math.isnan(dbfs):
        return MIN_DB
    return min(MAX_DB, max(MIN_DB, float(dbfs)))


class LevelMeter(QWidget):
    """One party's level, labelled, in the party's colour; greyed out when there is no source.

    Args:
        label: short name drawn beside the bar ("You", "Customer").
        color: the party's colour (from `desktop.window.theme`).
        orientation: `Qt.Horizontal` (label left, bar to the right) or `Qt.Vertical`
            (bar rising, label below).
        attack_s / release_s: time constants of the bar when the level rises / falls.
        peak_hold_s: how long the peak tick stays put before it falls.
        peak_fall_db_per_s: how fast it falls after that.
        inactive_text: what the greyed-out meter says (see `set_active`).
    """

    def __init__(self, label: str, color: QColor, parent: QWidget | None = None, *,
                 orientation: Qt.Orientation = Qt.Horizontal, attack_s: float = 0.05,
                 release_s: float = 0.3, peak_hold_s: float = 1.5,
                 peak_fall_db_per_s: float = 20.0,
                 inactive_text: str = "no customer source") -> None:
        super().__init__(parent)
        self._label = label
        self._label_ref = label  # the text whose width the label column takes (see align_labels)
        self._color = QColor(color)
        self._orientation = orientation
        self._attack_s = max(1e-3, attack_s)
        self._release_s = max(1e-3, release_s)
        self._peak_hold_s = peak_hold_s
        self._peak_fall = peak_fall_db_per_s
        self._inactive_text = inactive_text
        self._active = True
        self._level = MIN_DB
        self._peak = MIN_DB        # value the tick was last set to
        self._peak_t = 0.0         # when it was set
        self._peak_now = MIN_DB    # where it is drawn now (after hold and fall)
        self._last_t: float | None = None
        if orientation == Qt.Horizontal:
            self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        else:
            self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Expanding)
        self.setAccessibleName(f"{label} level meter")
        self.setToolTip(self._tooltip())

    # -- feeding ---------------------------------------------------------------------------
    def set_level(self, dbfs: float, now_s: float | None = None) -> None:
        """Feed one loudness value; the bar moves toward it by the time since the last value.

        Ignored while the meter is inactive (see `set_active`).
        """
        if not self._active:
            return
        now = time.monotonic() if now_s is None else float(now_s)
        target = _clamp_db(dbfs)
        dt = 0.0 if self._last_t is None else max(0.0, now - self._last_t)
        self._last_t = now
        before = (self._level, self._peak_now)
        tau = self._attack_s if target > self._level else self._release_s
        self._level += (target - self._level) * (1.0 - math.exp(-dt / tau))
        self._peak_now = self._peak_at(now)
        if target >= self._peak_now:
            self._peak, self._peak_t, self._peak_now = target, now, target
        if abs(before[0] - self._level) > 0.02 or abs(before[1] - self._peak_now) > 0.02:
            self.update()  # a steady level costs no repaint

    def reset(self) -> None:
        """Back to silence (a new call): bar and peak at the floor."""
        self._level = self._peak = self._peak_now = MIN_DB
        self._last_t = None
        self.update()

    def set_active(self, active: bool, text: str | None = None) -> None:
        """Grey the meter out (no source for this party) with a short reason, or bring it back."""
        if text is not None:
            self._inactive_text = text
        if active != self._active:
            self._active = active
            self.reset()
        self.setToolTip(self._tooltip())
        self.update()

    def _peak_at(self, now: float) -> float:
        fall_t = now - self._peak_t - self._peak_hold_s
        peak = self._peak - self._peak_fall * fall_t if fall_t > 0 else self._peak
        return max(peak, self._level, MIN_DB)

    def _tooltip(self) -> str:
        if not self._active:
            return f"{self._label}: {self._inactive_text}"
        return f"{self._label}: loudness in dBFS (-60 to 0). The tick holds the recent peak."

    # -- state for the page and tests ------------------------------------------------------
    @property
    def level_db(self) -> float:
        """Where the bar is drawn (after ballistics)."""
        return self._level

    @property
    def peak_db(self) -> float:
        """Where the peak tick is drawn."""
        return self._peak_now

    @property
    def is_active(self) -> bool:
        return self._active

    @property
    def label(self) -> str:
        return self._label

    # -- geometry and painting -------------------------------------------------------------
    def _bar_thickness(self) -> int:
        return max(6, round(self.fontMetrics().height() * 0.8))

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        if self._orientation == Qt.Horizontal:
            return QSize(fm.horizontalAdvance(self._label_ref) + fm.averageCharWidth() * 30,
                         round(fm.height() * 1.4))
        return QSize(max(fm.horizontalAdvance(self._label) + 8, self._bar_thickness() * 2),
                     fm.height() * 10)

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        if self._orientation == Qt.Horizontal:
            return QSize(fm.horizontalAdvance(self._label_ref) + fm.averageCharWidth() * 10,
                         round(fm.height() * 1.2))
        return QSize(self._bar_thickness() + 4, fm.height() * 5)

    def _frac(self, db: float) -> float:
        return (db - MIN_DB) / (MAX_DB - MIN_DB)

    def _layout(self) -> tuple[QRectF, QRectF]:
        """(label rect, bar track rect) for the current orientation and font."""
        fm = self.fontMetrics()
        r = QRectF(self.rect())
        pad = max(2.0, fm.height() * 0.2)
        if self._orientation == Qt.Horizontal:
            label_w = fm.horizontalAdvance(self._label_ref) + fm.averageCharWidth() * 1.5
            thick = min(self._bar_thickness(), r.height() - 2)
            track = QRectF(r.left() + label_w, r.center().y() - thick / 2,
                           r.width() - label_w - pad, thick)
            return QRectF(r.left(), r.top(), label_w, r.height()), track
        label_h = fm.height() + pad
        thick = min(self._bar_thickness() * 1.5, r.width() - 2)
        track = QRectF(r.center().x() - thick / 2, r.top() + pad, thick,
                       r.height() - label_h - pad)
        return QRectF(r.left(), r.bottom() - label_h, r.width(), label_h), track

    def _slice(self, track: QRectF, lo_db: float, hi_db: float) -> QRectF:
        """The part of the track between two levels."""
        a, b = self._frac(lo_db), self._frac(hi_db)
        if self._orientation == Qt.Horizontal:
            return QRectF(track.left() + a * track.width(), track.top(),
                          (b - a) * track.width(), track.height())
        return QRectF(track.left(), track.bottom() - b * track.height(), track.width(),
                      (b - a) * track.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: ARG002 - Qt signature
        pal = self.palette()
        label_rect, track = self._layout()
        if track.width() <= 0 or track.height() <= 0:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, False)
        text_color = pal.color(QPalette.WindowText) if self._active else QColor(MUTED_COLOR)
        p.setPen(text_color)
        align = (Qt.AlignVCenter | Qt.AlignLeft) if self._orientation == Qt.Horizontal \
            else Qt.AlignCenter
        p.drawText(label_rect, align, self._label)

        trough = QColor(pal.color(QPalette.Base))
        p.fillRect(track, trough)
        border = QColor(pal.color(QPalette.Mid))
        border.setAlpha(160)
        p.setPen(QPen(border, 1))
        p.drawRect(track.adjusted(0, 0, -1, -1))
        if not self._active:
            p.setPen(QColor(MUTED_COLOR))
            box = QRectF(track)
            if self._orientation == Qt.Vertical:  # read bottom-to-top along the bar
                p.translate(track.center())
                p.rotate(-90)
                box = QRectF(-track.height() / 2, -track.width() / 2, track.height(),
                             track.width())
            text = self.fontMetrics().elidedText(self._inactive_text, Qt.ElideRight,
                                                 int(box.width()) - 4)
            p.drawText(box, Qt.AlignCenter | Qt.TextSingleLine, text)
            p.end()
            return

        inner = track.adjusted(1, 1, -1, -1)
        fill = QColor(self._color)
        if self._level > MIN_DB:
            p.fillRect(self._slice(inner, MIN_DB, self._level), fill)
        grid = QColor(pal.color(QPalette.Mid))
        grid.setAlpha(110)
        for db in _TICKS_DB:
            s = self._slice(inner, MIN_DB, db)
            if self._orientation == Qt.Horizontal:
                p.fillRect(QRectF(s.right(), inner.top(), 1, inner.height()), grid)
            else:
                p.fillRect(QRectF(inner.left(), s.top(), inner.width(), 1), grid)
        if self._peak_now > MIN_DB + 0.5:
            s = self._slice(inner, MIN_DB, self._peak_now)
            w = max(2.0, self.fontMetrics().height() / 8)
            tick = fill.darker(150) if pal.color(QPalette.Base).lightness() > 128 \
                else fill.lighter(150)
            if self._orientation == Qt.Horizontal:
                p.fillRect(QRectF(min(s.right(), inner.right() - w), inner.top(), w,
                                  inner.height()), tick)
            else:
                p.fillRect(QRectF(inner.left(), max(s.top(), inner.top()), inner.width(), w),
                           tick)
        p.end()


def align_labels(*meters: LevelMeter) -> None:
    """Give meters stacked in a column one label width, so their bars start at the same x."""
    if not meters:
        return
    fm = meters[0].fontMetrics()
    longest = max((m.label for m in meters), key=fm.horizontalAdvance)
    for m in meters:
        m._label_ref = longest
        m.updateGeometry()
        m.update()
