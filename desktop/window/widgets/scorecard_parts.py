"""The painted pieces of the scorecard page: score ring, L.E.A.R.N. bar, trend sparkline,
evidence link and the card behind each section.

Painted rather than styled with style sheets so they follow the light/dark palette and
the font size (every dimension comes from the font's metrics: the page scales at 125% and
150% like the text does). Kept apart from `scorecard_view` so the view is only layout.
"""

from __future__ import annotations

import datetime

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QAbstractButton, QFrame, QSizePolicy, QWidget

from desktop.reports.scorecard_text import EvidenceLine, band
from desktop.window.theme import AGENT_COLOR, FAIL_COLOR, MUTED_COLOR, PASS_COLOR, URGENCY_COLORS

__all__ = ["is_dark", "band_color", "muted_color", "link_color", "track_color", "Card",
           "ScoreRing", "Bar", "Sparkline", "EvidenceLink", "StateIcon"]


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.Window).lightness() < 128


def band_color(fraction: float | None) -> QColor:
    """Green, amber or red as in the HTML report; grey when nothing was judged."""
    return QColor({"good": PASS_COLOR, "warn": URGENCY_COLORS["soon"], "bad": FAIL_COLOR,
                   "none": MUTED_COLOR}[band(fraction)])


def muted_color(palette: QPalette) -> QColor:
    """Secondary text: the theme's grey, a shade darker on light backgrounds to stay legible."""
    return QColor(MUTED_COLOR) if is_dark(palette) else QColor(MUTED_COLOR).darker(135)


def link_color(palette: QPalette) -> QColor:
    """The agent blue (links jump into the call), lighter on dark backgrounds."""
    return QColor(AGENT_COLOR).lighter(135) if is_dark(palette) else QColor(AGENT_COLOR)


def track_color(palette: QPalette) -> QColor:
    """The empty part of a bar or ring: a faint mix of text into the background."""
    base, text = palette.color(QPalette.Base), palette.color(QPalette.Text)
    k = 0.16 if is_dark(palette) else 0.1
    return QColor(round(base.red() + (text.red() - base.red()) * k),
                  round(base.green() + (text.green() - base.green()) * k),
                  round(base.blue() + (text.blue() - base.blue()) * k))


class Card(QFrame):
    """A section of the page: a rounded panel on the window background."""

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        radius = self.fontMetrics().height() * 0.5
        p.setPen(QPen(track_color(self.palette()).darker(108), 1))
        p.setBrush(self.palette().color(QPalette.Base))
        p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)


class ScoreRing(QWidget):
    """The score as a number inside a ring whose arc is the score's share of 100."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._score: int | None = None
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
        self.set_score(None)

    def set_score(self, score: int | None) -> None:
        self._score = score
        self.setAccessibleName("Score: not scored" if score is None
                               else f"Score {score} out of 100")
        self.update()

    def text(self) -> str:
        """The figure drawn in the ring ("83", or a dash when the call was not scored)."""
        return "\u2014" if self._score is None else str(self._score)

    def _diameter(self) -> int:
        return round(self.fontMetrics().height() * 4.6)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        d = self._diameter()
        return QSize(d, d)

    minimumSizeHint = sizeHint

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        d = min(self.width(), self.height())
        pen_w = d * 0.1
        box = QRectF((self.width() - d) / 2, (self.height() - d) / 2, d, d).adjusted(
            pen_w / 2, pen_w / 2, -pen_w / 2, -pen_w / 2)
        p.setPen(QPen(track_color(self.palette()), pen_w, Qt.SolidLine, Qt.FlatCap))
        p.drawEllipse(box)
        if self._score is not None:
            frac = min(max(self._score, 0), 100) / 100
            p.setPen(QPen(band_color(frac), pen_w, Qt.SolidLine, Qt.RoundCap))
            p.drawArc(box, 90 * 16, round(-360 * 16 * frac))
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(max(8, round(d * 0.34)))
        room = box.width() - pen_w * 1.8  # the number stays inside the ring, even "100"
        wide = QFontMetrics(font).horizontalAdvance(self.text())
        if wide > room:
            font.setPixelSize(max(7, int(font.pixelSize() * room / wide)))
        p.setFont(font)
        p.setPen(self.palette().color(QPalette.WindowText) if self._score is not None
                 else muted_color(self.palette()))
        p.drawText(box, Qt.AlignCenter, self.text())


class Bar(QWidget):
    """A thin horizontal bar filled to `fraction` in its band colour (empty when None)."""

    def __init__(self, fraction: float | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fraction = fraction
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 8, max(4, round(fm.height() * 0.45)))

    minimumSizeHint = sizeHint

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.setPen(Qt.NoPen)
        r = QRectF(self.rect())
        radius = r.height() / 2
        p.setBrush(track_color(self.palette()))
        p.drawRoundedRect(r, radius, radius)
        if self.fraction:
            filled = QRectF(r.x(), r.y(), max(r.height(), r.width() * min(self.fraction, 1.0)),
                            r.height())
            p.setBrush(band_color(self.fraction))
            p.drawRoundedRect(filled, radius, radius)


class Sparkline(QWidget):
    """The agent's recent scores as a small line, the latest point marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[tuple[datetime.datetime, int]] = []
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)

    def set_points(self, points: list[tuple[datetime.datetime, int]]) -> None:
        self._points = sorted(points, key=lambda p: p[0])
        lines = [f"{when:%Y-%m-%d %H:%M}  {score}" for when, score in self._points[-12:]]
        self.setToolTip("Your recent scores:\n" + "\n".join(lines))
        if self._points:
            scores = [s for _, s in self._points]
            self.setAccessibleName(f"Score trend over {len(scores)} calls, from {scores[0]} "
                                   f"to {scores[-1]}")
        self.update()

    def points(self) -> list[tuple[datetime.datetime, int]]:
        return list(self._points)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 20, round(fm.height() * 2.4))

    minimumSizeHint = sizeHint

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        if len(self._points) < 2:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        scores = [s for _, s in self._points]
        lo, hi = max(0, min(scores) - 5), min(100, max(scores) + 5)
        span = max(hi - lo, 10)
        dot = max(3.0, self.fontMetrics().height() * 0.2)
        r = QRectF(self.rect()).adjusted(dot, dot, -dot, -dot)
        step = r.width() / (len(scores) - 1)
        pts = [QPointF(r.left() + i * step, r.bottom() - (s - lo) / span * r.height())
               for i, s in enumerate(scores)]
        path = QPainterPath(pts[0])
        for pt in pts[1:]:
            path.lineTo(pt)
        p.setPen(QPen(link_color(self.palette()), max(1.5, dot * 0.5)))
        p.drawPath(path)
        p.setPen(Qt.NoPen)
        p.setBrush(band_color(scores[-1] / 100))
        p.drawEllipse(pts[-1], dot, dot)


class StateIcon(QWidget):
    """A coloured disc with ✓ (passed), ! (to change) or – (not judged)."""

    _GLYPH = {"pass": "\u2713", "fail": "!", "na": "\u2013"}

    def __init__(self, state: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        h = round(self.fontMetrics().height() * 1.15)
        return QSize(h, h)

    minimumSizeHint = sizeHint

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        color = {"pass": PASS_COLOR, "fail": FAIL_COLOR}.get(self.state, MUTED_COLOR)
        d = min(self.width(), self.height())
        box = QRectF(0, 0, d, d)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(color))
        p.drawEllipse(box)
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(max(7, round(d * 0.62)))
        p.setFont(font)
        p.setPen(QColor("#ffffff"))
        p.drawText(box, Qt.AlignCenter, self._GLYPH.get(self.state, "?"))


class EvidenceLink(QAbstractButton):
    """'0:17 “I am so sorry”' as a link: click, Enter or Space asks to seek to that moment.

    A button (so Tab reaches it and screen readers call it one) painted as a link whose
    text wraps, since a quote or a measured reason can be longer than a column.
    """

    activatedAt = Signal(float)

    def __init__(self, line: EvidenceLine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = line
        self.t = line.t
        self.setText(line.display())
        self.setObjectName("evidenceLink")
        self.setFocusPolicy(Qt.StrongFocus)
        self.setCursor(Qt.PointingHandCursor)
        self.setEnabled(line.t is not None)
        self.setToolTip(f"Jump to {line.clock} in the replay" if line.t is not None else "")
        self.setAccessibleName(f"Jump to {line.clock}: {line.text}")
        policy = QSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.clicked.connect(self._emit)

    def _emit(self) -> None:
        if self.t is not None:
            self.activatedAt.emit(float(self.t))

    def _pad(self) -> int:
        return max(2, self.fontMetrics().height() // 6)

    def _time_width(self) -> int:
        fm = self.fontMetrics()
        return max(fm.horizontalAdvance("00:00"), fm.horizontalAdvance(self.line.clock)) + \
            fm.averageCharWidth()

    def _body_font(self) -> QFont:
        font = QFont(self.font())
        font.setItalic(self.line.quoted)
        return font

    def _body(self) -> str:
        return f"\u201c{self.line.text}\u201d" if self.line.quoted else self.line.text

    def _body_rect(self, width: int) -> QRect:
        pad = self._pad()
        text_w = max(1, width - self._time_width() - 2 * pad)
        fm = QFontMetrics(self._body_font())
        return fm.boundingRect(QRect(0, 0, text_w, 100000), Qt.TextWordWrap, self._body())

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt)
        return max(self.fontMetrics().height(), self._body_rect(width).height()) + \
            2 * self._pad()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        fm = QFontMetrics(self._body_font())
        width = min(fm.horizontalAdvance(self._body()), fm.averageCharWidth() * 60)
        width += self._time_width() + 2 * self._pad() + 2
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt)
        width = self._time_width() + self.fontMetrics().averageCharWidth() * 12
        return QSize(width, self.fontMetrics().height() + 2 * self._pad())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt)
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.isEnabled():
            self.animateClick()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        pal, pad = self.palette(), self._pad()
        if self.hasFocus():
            p.setPen(QPen(pal.color(QPalette.Highlight), max(1.5, pad * 0.6)))
            p.setBrush(Qt.NoBrush)
            p.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), pad * 1.5, pad * 1.5)
        hot = self.underMouse() or self.isDown()
        time_font = QFont(self.font())
        time_font.setBold(True)
        time_font.setUnderline(hot)
        p.setFont(time_font)
        p.setPen(link_color(pal) if self.isEnabled() else muted_color(pal))
        p.drawText(QRect(pad, pad, self._time_width(), self.height() - 2 * pad),
                   Qt.AlignLeft | Qt.AlignTop, self.line.clock)
        body = self._body_font()
        body.setUnderline(hot)
        p.setFont(body)
        p.setPen(pal.color(QPalette.WindowText))
        left = pad + self._time_width()
        p.drawText(QRect(left, pad, max(1, self.width() - left - pad), self.height() - 2 * pad),
                   Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap, self._body())
