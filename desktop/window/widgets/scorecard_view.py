"""The scorecard page an agent reads after every call.

Score first, then the L.E.A.R.N. breakdown, then what went well and what to change with the
moments behind each check (a click jumps the replay there), then the figures. Built from
the schema-1 document alone, so the window shows exactly what `callcoach analyze` and the
exports say. The view is rebuilt on a new document, a theme switch or a font change, which
keeps it simple and lets every size follow the font.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from desktop.reports.scorecard_text import (
    NOT_SCORED,
    call_facts,
    call_title,
    evidence_lines,
    learn_tallies,
    metric_groups,
    report_notes,
    score_of,
    split_checks,
)
from desktop.window.widgets.scorecard_parts import (
    Bar,
    Card,
    EvidenceLink,
    ScoreRing,
    Sparkline,
    StateIcon,
    muted_color,
)

__all__ = ["ScorecardView", "EMPTY_TEXT"]

EMPTY_TEXT = "No call yet \u2014 open the demo call or a recording"
_TWO_COLUMNS_CHARS = 95  # narrower than this many average characters: one column


def _font(base: QFont, scale: float = 1.0, bold: bool = False) -> QFont:
    font = QFont(base)
    if scale != 1.0:
        size = base.pointSizeF()
        if size > 0:
            font.setPointSizeF(size * scale)
        else:
            font.setPixelSize(max(6, round(base.pixelSize() * scale)))
    font.setBold(bold)
    return font


def _label(text: str, parent: QWidget, *, scale: float = 1.0, bold: bool = False,
           color: QColor | None = None, wrap: bool = False, name: str = "") -> QLabel:
    label = QLabel(text, parent)
    label.setTextFormat(Qt.PlainText)
    label.setFont(_font(parent.font(), scale, bold))
    if color is not None:
        pal = label.palette()
        pal.setColor(QPalette.WindowText, color)
        label.setPalette(pal)
    label.setWordWrap(wrap)
    if name:
        label.setObjectName(name)
    return label


class ScorecardView(QWidget):
    """One call's scorecard. Put it in a QScrollArea (widgetResizable) for long calls.

    Signals:
        seekRequested(float): the agent activated an evidence link; seconds into the call.
    """

    seekRequested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scorecardView")
        self._doc: dict[str, Any] | None = None
        self._when: datetime.datetime | None = None
        self._trend: list[tuple[datetime.datetime, int]] = []
        self._content: QWidget | None = None
        self._sparkline: Sparkline | None = None
        self._trend_box: QWidget | None = None
        self._flows: list[QBoxLayout] = []
        self._stack = QStackedLayout(self)
        self._empty = QLabel(EMPTY_TEXT, self)
        self._empty.setObjectName("emptyState")
        self._empty.setAlignment(Qt.AlignCenter)
        self._empty.setWordWrap(True)
        self._stack.addWidget(self._empty)
        self._render()

    # -- public API ---------------------------------------------------------------------

    def set_document(self, doc: Mapping[str, Any],
                     when: datetime.datetime | None = None) -> None:
        """Show one call. `when` is the call's date when the document does not carry one
        (schema 1 has none; the history store knows it)."""
        self._doc = dict(doc)
        self._when = when
        self._render()

    def clear(self) -> None:
        """Back to the empty state (no call analysed yet)."""
        self._doc = None
        self._when = None
        self._render()

    def document(self) -> dict[str, Any] | None:
        return self._doc

    def set_trend(self, points: Sequence[tuple[datetime.datetime, int]]) -> None:
        """The agent's recent (date, score) pairs; the sparkline shows from two calls on."""
        self._trend = [(when, int(score)) for when, score in points if score is not None]
        self._update_trend()

    # -- building -----------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self._reflow()

    def _flow(self, layout: QBoxLayout) -> QBoxLayout:
        """A side-by-side layout that stacks when the page is too narrow for two columns."""
        self._flows.append(layout)
        return layout

    def _reflow(self) -> None:
        narrow = self.width() < self.fontMetrics().averageCharWidth() * _TWO_COLUMNS_CHARS
        direction = QBoxLayout.TopToBottom if narrow else QBoxLayout.LeftToRight
        for layout in self._flows:
            if layout.direction() != direction:
                layout.setDirection(direction)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt)
        super().changeEvent(event)
        if event.type() in (QEvent.PaletteChange, QEvent.FontChange):
            self._render()

    def _render(self) -> None:
        pal = self._empty.palette()
        pal.setColor(QPalette.WindowText, muted_color(self.palette()))
        self._empty.setPalette(pal)
        self._empty.setFont(_font(self.font(), 1.2))
        if self._content is not None:
            self._stack.removeWidget(self._content)
            self._content.hide()
            self._content.setParent(None)  # out of findChild's reach before it is deleted
            self._content.deleteLater()
            self._content = self._sparkline = self._trend_box = None
            self._flows = []
        if self._doc is None:
            self._stack.setCurrentWidget(self._empty)
            return
        self._content = self._build(self._doc)
        self._stack.addWidget(self._content)
        self._stack.setCurrentWidget(self._content)
        self._reflow()
        self._update_trend()

    def _build(self, doc: Mapping[str, Any]) -> QWidget:
        page = QWidget(self)
        page.setObjectName("scorecardContent")
        gap = page.fontMetrics().height()
        v = QVBoxLayout(page)
        v.setContentsMargins(gap, gap, gap, gap)
        v.setSpacing(round(gap * 0.8))
        v.addWidget(self._header(doc, page))
        good, bad, na = split_checks(doc)
        transcript = doc.get("transcript") or []
        if good or bad:  # with nothing judged, two empty columns would only mislead
            cols = self._flow(QBoxLayout(QBoxLayout.LeftToRight))
            cols.setSpacing(round(gap * 0.8))
            cols.addWidget(self._column("wentWell", "What went well", good, "pass", transcript,
                                        "None of the checks was passed.", page), 1, Qt.AlignTop)
            cols.addWidget(self._column("toChange", "What to change", bad, "fail", transcript,
                                        "Nothing: every check that applied was passed.", page),
                           1, Qt.AlignTop)
            v.addLayout(cols)
        if na:
            v.addWidget(self._not_judged(na, transcript, page))
        v.addWidget(self._metrics(doc, page))
        v.addStretch(1)
        return page

    def _card(self, name: str, parent: QWidget) -> tuple[Card, QVBoxLayout]:
        card = Card(parent)
        card.setObjectName(name)
        gap = parent.fontMetrics().height()
        lay = QVBoxLayout(card)
        lay.setContentsMargins(round(gap * 1.1), round(gap * 0.9), round(gap * 1.1),
                               round(gap * 0.9))
        lay.setSpacing(round(gap * 0.5))
        return card, lay

    def _header(self, doc: Mapping[str, Any], parent: QWidget) -> Card:
        card, lay = self._card("header", parent)
        muted = muted_color(self.palette())
        top = QHBoxLayout()
        top.setSpacing(parent.fontMetrics().height())
        score = score_of(doc)
        ring_box = QVBoxLayout()
        ring_box.setSpacing(2)
        ring = ScoreRing(card)
        ring.setObjectName("scoreRing")
        ring.set_score(score)
        ring_box.addWidget(ring, 0, Qt.AlignHCenter)
        caption = "out of 100" if score is not None else NOT_SCORED
        ring_box.addWidget(_label(caption, card, color=muted, name="scoreCaption",
                                  bold=score is None), 0, Qt.AlignHCenter)
        ring_box.addStretch(1)
        top.addLayout(ring_box)
        info = QVBoxLayout()
        info.setSpacing(2)
        info.addWidget(_label("CALL SCORECARD", card, scale=0.85, bold=True, color=muted))
        title = _label(call_title(doc), card, scale=1.6, bold=True, wrap=True, name="callTitle")
        title.setToolTip(str(doc.get("recording") or ""))
        info.addWidget(title)
        info.addWidget(_label(" \u00b7 ".join(call_facts(doc, self._when)), card, color=muted,
                              wrap=True, name="callFacts"))
        for note in report_notes(doc):
            info.addWidget(_label(str(note), card, wrap=True, name="callNote"))
        info.addStretch(1)
        top.addLayout(info, 1)
        top.addWidget(self._trend_widget(card), 0, Qt.AlignTop)
        lay.addLayout(top)
        tallies = learn_tallies(doc)
        if not any(t.total for t in tallies):
            return card
        lay.addSpacing(round(parent.fontMetrics().height() * 0.3))
        learn = QHBoxLayout()
        learn.setSpacing(parent.fontMetrics().height())
        for tally in tallies:
            box = QWidget(card)
            box.setObjectName(f"learn_{tally.name}")
            bv = QVBoxLayout(box)
            bv.setContentsMargins(0, 0, 0, 0)
            bv.setSpacing(3)
            row = QHBoxLayout()
            row.setSpacing(4)
            row.addWidget(_label(tally.name, box, bold=True))
            row.addStretch(1)
            figure = f"{tally.passed}/{tally.total}" if tally.total else "not judged"
            row.addWidget(_label(figure, box, color=muted, name="learnFigure"))
            bv.addLayout(row)
            bv.addWidget(Bar(tally.fraction if tally.total else None, box))
            box.setToolTip(f"{tally.name}: {tally.passed} of {tally.total} checks passed "
                           f"({tally.earned:g} of {tally.possible:g} points)" if tally.total
                           else f"{tally.name}: nothing in this category could be judged")
            learn.addWidget(box, 1)
        lay.addLayout(learn)
        return card

    def _trend_widget(self, parent: QWidget) -> QWidget:
        box = QWidget(parent)
        box.setObjectName("scoreTrend")
        bv = QVBoxLayout(box)
        bv.setContentsMargins(0, 0, 0, 0)
        bv.setSpacing(2)
        bv.addWidget(_label("Your recent calls", box, scale=0.85, bold=True,
                            color=muted_color(self.palette()), name="trendCaption"))
        self._sparkline = Sparkline(box)
        self._sparkline.setObjectName("trendSparkline")
        bv.addWidget(self._sparkline)
        self._trend_box = box
        return box

    def _update_trend(self) -> None:
        if self._sparkline is None or self._trend_box is None:
            return
        self._sparkline.set_points(self._trend)
        caption = self._trend_box.findChild(QLabel, "trendCaption")
        if caption is not None:
            caption.setText(f"Your last {len(self._trend)} calls")
        self._trend_box.setVisible(len(self._trend) >= 2)

    def _column(self, name: str, title: str, checks: list[dict], state: str,
                transcript: Sequence[Mapping[str, Any]], empty: str, parent: QWidget) -> Card:
        card, lay = self._card(name, parent)
        card.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        lay.addWidget(_label(f"{title} ({len(checks)})", card, scale=1.2, bold=True,
                             name=f"{name}Title"))
        for check in checks:
            lay.addWidget(self._check(check, state, transcript, card))
        if not checks:
            lay.addWidget(_label(empty, card, color=muted_color(self.palette()), wrap=True))
        return card

    def _not_judged(self, checks: list[dict], transcript: Sequence[Mapping[str, Any]],
                    parent: QWidget) -> Card:
        card, lay = self._card("notJudged", parent)
        muted = muted_color(self.palette())
        lay.addWidget(_label(f"Not judged on this call ({len(checks)})", card, scale=1.2,
                             bold=True, color=muted, name="notJudgedTitle"))
        halves = self._flow(QBoxLayout(QBoxLayout.LeftToRight))
        halves.setSpacing(parent.fontMetrics().height() * 2)
        split = (len(checks) + 1) // 2  # first half left, so stacked it still reads in order
        for part in (checks[:split], checks[split:]):
            col = QVBoxLayout()
            col.setSpacing(0)
            for check in part:
                col.addWidget(self._check(check, "na", transcript, card))
            col.addStretch(1)
            halves.addLayout(col, 1)
        lay.addLayout(halves)
        return card

    def _check(self, check: Mapping[str, Any], state: str,
               transcript: Sequence[Mapping[str, Any]], parent: QWidget) -> QWidget:
        item = QWidget(parent)
        item.setObjectName(f"check_{check.get('id', '')}")
        muted = muted_color(self.palette())
        fm = parent.fontMetrics()
        grid = QGridLayout(item)
        grid.setContentsMargins(0, round(fm.height() * 0.3), 0, round(fm.height() * 0.3))
        grid.setHorizontalSpacing(round(fm.height() * 0.5))
        grid.setVerticalSpacing(2)
        grid.addWidget(StateIcon(state, item), 0, 0, Qt.AlignTop)
        label = escape(str(check.get("label") or check.get("id") or ""))
        if state == "na":
            label = f'<span style="color:{muted.name()}">{label}</span>'
        weight = check.get("weight") or 1.0
        category = escape(str(check.get("category") or ""))
        if state != "na" and weight != 1:
            category += f" \u00b7 counts \u00d7{weight:g}"
        title = QLabel(f'<b>{label}</b>&nbsp;&nbsp; <small style="color:{muted.name()}">'
                       f"{category}</small>", item)
        title.setObjectName("checkLabel")
        title.setTextFormat(Qt.RichText)
        title.setWordWrap(True)
        grid.addWidget(title, 0, 1)
        row = 1
        detail = str(check.get("detail") or "")
        if detail:
            grid.addWidget(_label(detail, item, color=muted, wrap=True, name="checkDetail"),
                           row, 1)
            row += 1
        for line in evidence_lines(check, transcript):
            link = EvidenceLink(line, item)
            link.activatedAt.connect(self.seekRequested)
            grid.addWidget(link, row, 1)
            row += 1
        grid.setColumnStretch(1, 1)
        return item

    def _metrics(self, doc: Mapping[str, Any], parent: QWidget) -> Card:
        card, lay = self._card("metrics", parent)
        lay.addWidget(_label("The call in figures", card, scale=1.2, bold=True))
        groups = metric_groups(doc)
        if not groups:
            lay.addWidget(_label("No figures.", card, color=muted_color(self.palette())))
            return card
        row = self._flow(QBoxLayout(QBoxLayout.LeftToRight))
        row.setSpacing(parent.fontMetrics().height() * 2)
        muted = muted_color(self.palette())
        for group, metrics in groups:
            box = QVBoxLayout()
            box.setSpacing(round(parent.fontMetrics().height() * 0.4))
            box.addWidget(_label(group.upper(), card, scale=0.85, bold=True, color=muted))
            grid = QGridLayout()
            grid.setVerticalSpacing(round(parent.fontMetrics().height() * 0.3))
            for i, m in enumerate(metrics):
                grid.addWidget(_label(m.label, card, wrap=True), i, 0)
                value = _label(m.value, card, bold=True, name=f"metric_{m.key}")
                value.setAlignment(Qt.AlignRight | Qt.AlignTop)
                grid.addWidget(value, i, 1)
            grid.setColumnStretch(0, 1)
            box.addLayout(grid)
            box.addStretch(1)
            row.addLayout(box, 1)
        lay.addLayout(row)
        return card
