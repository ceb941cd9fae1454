"""The scorecard as the HTML subset QTextDocument lays out, for the PDF export.

QTextDocument understands tables, `bgcolor`, widths and a little CSS (colour, size,
weight), not flexbox or grid, so this is a second, simpler rendering than
`html_report`: tables only, bars as coloured table cells, the score ring as an image
resource. The words, labels and units come from `scorecard_text`, the same as the window.
`write_pdf` lays that page out with QTextDocument and writes it with QPdfWriter (both in
QtGui, no widgets and no extra module): A4, page numbers in the footer.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from desktop.reports.export import ExportError
from desktop.reports.html_svg import clock, event_line, finite, kind_colour
from desktop.reports.scorecard_text import (
    NOT_SCORED,
    band,
    call_facts,
    call_title,
    evidence_lines,
    learn_tallies,
    metric_groups,
    report_notes,
    score_of,
    split_checks,
)
from desktop.window.theme import AGENT_COLOR, FAIL_COLOR, MUTED_COLOR, PASS_COLOR, URGENCY_COLORS

__all__ = ["RING_URL", "report_html", "ring_image", "write_pdf"]

RING_URL = "callcoach://score-ring.png"
_RING_PX = 60  # CSS pixels on the page
_MARGINS_MM = QMarginsF(16, 14, 16, 14)
_RESOLUTION = 300
_FONT_PT = 9.5
_INK, _MUTED, _LINE, _TRACK = "#1d2430", "#5f6672", "#dfe3e8", "#e6e9ee"
_LINK = AGENT_COLOR.name()
_BAND = {"good": PASS_COLOR.name(), "warn": URGENCY_COLORS["soon"].name(),
         "bad": FAIL_COLOR.name(), "none": MUTED_COLOR.name()}
_STATE = {"pass": ("\u2713", PASS_COLOR.name()), "fail": ("!", FAIL_COLOR.name()),
          "na": ("\u2013", MUTED_COLOR.name())}
# QTextDocument drops a heading's top margin after a table: a small empty line instead.
_GAP = '<p style="font-size:5pt;margin:0">&nbsp;</p>'
_WHO = {"agent": ("Agent", "#2a66b0"), "customer": ("Customer", "#b4640f")}


def ring_image(score: int | None, scale: int = 4) -> QImage:
    """The score's ring (the arc is its share of 100) drawn at `scale` x its page size so it
    stays sharp in print. The number itself is text beside it, so it can be searched."""
    side = _RING_PX * scale
    img = QImage(side, side, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    pen_w = side * 0.16
    box = QRectF(pen_w / 2, pen_w / 2, side - pen_w, side - pen_w)
    p.setPen(QPen(QColor(_TRACK), pen_w))
    p.drawEllipse(box)
    if score is not None:
        frac = min(max(score, 0), 100) / 100
        p.setPen(QPen(QColor(_BAND[band(frac)]), pen_w, Qt.SolidLine, Qt.RoundCap))
        p.drawArc(box, 90 * 16, round(-360 * 16 * frac))
    p.end()
    return img


def _muted(text: str, size: str = "") -> str:
    style = f"color:{_MUTED};" + (f"font-size:{size};" if size else "")
    return f'<span style="{style}">{text}</span>'


def _header(doc: Mapping[str, Any], when: datetime.datetime | None) -> str:
    score = score_of(doc)
    facts = call_facts(doc, when)
    model = doc.get("model")
    if model:
        facts.append(f"model {model}")
    facts.append("exported " + datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    if score is None:
        figure = (f'<span style="font-size:15pt;font-weight:bold;color:{_MUTED}">'
                  f'{NOT_SCORED.replace(" ", "&nbsp;")}</span>')
    else:
        figure = (f'<span style="font-size:30pt;font-weight:bold">{score}</span><br>'
                  f'{_muted("out of 100", "8.5pt")}')
    recording = str(doc.get("recording") or "")
    path = _muted(escape(recording), "8pt") + "<br>" if recording != call_title(doc) else ""
    notes = report_notes(doc)
    note_html = "".join(f"<p style=\"margin-top:4px\">{escape(str(n))}</p>" for n in notes)
    return (f'<table width="100%" cellspacing="0" cellpadding="0"><tr>'
            f'<td valign="top">{_muted("<b>CALL SCORECARD</b>", "8pt")}<br>'
            f'<span style="font-size:17pt;font-weight:bold">{escape(call_title(doc))}</span><br>'
            f'{path}{_muted(escape(" · ".join(facts)))}{note_html}</td>'
            f'<td width="{_RING_PX + 12}" align="right" valign="middle">'
            f'<img src="{RING_URL}" width="{_RING_PX}" height="{_RING_PX}"></td>'
            f'<td width="110" valign="middle" style="padding-left:10px">{figure}</td>'
            f'</tr></table>{_learn(doc)}')


def _bar(fraction: float | None) -> str:
    """A bar as a one-row table: a coloured cell `fraction` wide, a grey one for the rest."""
    cells = ""
    pct = round(100 * min(max(fraction or 0.0, 0.0), 1.0))
    if pct > 0:
        cells += f'<td width="{pct}%" bgcolor="{_BAND[band(fraction)]}"></td>'
    if pct < 100:
        cells += f'<td width="{100 - pct}%" bgcolor="{_TRACK}"></td>'
    return (f'<table width="100%" cellspacing="0" cellpadding="0" style="font-size:3pt">'
            f"<tr>{cells}</tr></table>")


def _learn(doc: Mapping[str, Any]) -> str:
    tallies = learn_tallies(doc)
    if not any(t.total for t in tallies):
        return ""
    cells = []
    for tally in tallies:
        figure = f"{tally.passed}/{tally.total}" if tally.total else "not judged"
        cells.append(f'<td width="20%" valign="top"><b>{escape(tally.name)}</b> '
                     f'{_muted(figure)}{_bar(tally.fraction if tally.total else None)}</td>')
    return (f'<table width="100%" cellspacing="10" cellpadding="0" style="margin-top:8px">'
            f'<tr>{"".join(cells)}</tr></table>')


def _check(check: Mapping[str, Any], state: str,
           transcript: Sequence[Mapping[str, Any]]) -> str:
    glyph, colour = _STATE[state]
    label_colour = _MUTED if state == "na" else _INK
    category = escape(str(check.get("category") or ""))
    weight = finite(check.get("weight")) or 1.0
    if state != "na" and weight != 1:
        category += f" · counts ×{weight:g}"
    lines = []
    for ev in evidence_lines(check, transcript):
        body = f"<i>“{escape(ev.text)}”</i>" if ev.quoted else escape(ev.text)
        lines.append(f'<br><span style="color:{_LINK};font-weight:bold">{ev.clock}</span>'
                     f"&nbsp;&nbsp;{body}")
    return (f'<tr><td width="18" valign="top" style="color:{colour};font-weight:bold;'
            f'font-size:11pt">{glyph}</td><td valign="top">'
            f'<span style="color:{label_colour};font-weight:bold">'
            f'{escape(str(check.get("label") or check.get("id") or ""))}</span>'
            f'&nbsp;&nbsp;{_muted(category, "8.5pt")}<br>'
            f'{_muted(escape(str(check.get("detail") or "")))}{"".join(lines)}</td></tr>')


def _checks(doc: Mapping[str, Any]) -> str:
    good, bad, na = split_checks(doc)
    transcript = doc.get("transcript") or []
    out = []
    for title, checks, state, empty in (
            ("What went well", good, "pass", "None of the checks was passed."),
            ("What to change", bad, "fail", "Nothing: every check that applied was passed."),
            ("Not judged on this call", na, "na", "")):
        if (not checks and state == "na") or (state != "na" and not good and not bad):
            continue  # nothing judged: no empty "went well / to change" lists
        rows = "".join(_check(c, state, transcript) for c in checks)
        body = (f'<table width="100%" cellspacing="0" cellpadding="3">{rows}</table>' if rows
                else f"<p>{_muted(empty)}</p>")
        out.append(f"{_GAP}<h2>{title} {_muted(f'({len(checks)})')}</h2>{body}")
    return "".join(out)


def _metrics(doc: Mapping[str, Any]) -> str:
    """The groups in two columns, one table row per line, so a page breaks between rows."""
    groups = metric_groups(doc)
    if not groups:
        return f"<h2>The call in figures</h2><p>{_muted('No figures.')}</p>"
    columns: list[list[str]] = [[], []]
    for group, metrics in groups:
        col = min(columns, key=len)
        col.append(f'<td colspan="2" style="padding-top:6px">'
                   f'{_muted(f"<b>{escape(group.upper())}</b>", "8pt")}</td>')
        col += [f'<td width="34%">{escape(m.label)}</td>'
                f'<td width="14%" align="right"><b>{escape(m.value)}</b></td>' for m in metrics]
    gap = '<td width="4%"></td>'
    rows = "".join(f"<tr>{left}{gap}{right}</tr>" for left, right in zip(
        *(c + ['<td colspan="2"></td>'] * (max(map(len, columns)) - len(c)) for c in columns),
        strict=True))
    return (f'{_GAP}<h2>The call in figures</h2>'
            f'<table width="100%" cellspacing="0" cellpadding="2">{rows}</table>')


def _event(e: Mapping[str, Any]) -> str:
    label = str(e.get("prompt") or str(e.get("kind") or "event").replace("_", " ").capitalize())
    colour = kind_colour(str(e.get("kind") or ""))
    return (f'<span style="color:{colour};font-weight:bold">■ {escape(label)}</span> '
            + _muted(f'{clock(finite(e.get("start")))} · {escape(str(e.get("reason") or ""))}',
                     "8.5pt"))


def _transcript(doc: Mapping[str, Any]) -> str:
    transcript = doc.get("transcript") or []
    events = doc.get("events") or []
    cues: dict[int, list[Mapping[str, Any]]] = {}
    loose = []
    for e in events:
        line = event_line(transcript, e)
        if line is None:
            loose.append(e)
        else:
            cues.setdefault(line, []).append(e)
    rows = []
    for i, u in enumerate(transcript):
        for e in cues.get(i, []):
            rows.append(f'<tr><td></td><td colspan="2">{_event(e)}</td></tr>')
        who, colour = _WHO.get(str(u.get("speaker")), (str(u.get("speaker") or ""), _INK))
        rows.append(f'<tr><td width="7%">{_muted(clock(finite(u.get("start"))))}</td>'
                    f'<td width="11%" style="color:{colour};font-weight:bold">{escape(who)}'
                    f'</td><td width="82%">{escape(str(u.get("text") or "").strip())}</td></tr>')
    body = (f'<table width="100%" cellspacing="0" cellpadding="2">{"".join(rows)}</table>'
            if rows else f"<p>{_muted('Nothing was transcribed.')}</p>")
    if loose:
        body += "".join(f"<p>{_event(e)}</p>" for e in loose)
    hint = _muted("Moments flagged during the call are marked ■ before their line.", "8.5pt")
    marked = f'<p style="margin-top:0">{hint}</p>' if events else ""
    return f"{_GAP}<h2>Transcript</h2>{marked}{body}"


def report_html(doc: Mapping[str, Any], when: datetime.datetime | None = None) -> str:
    """The QTextDocument HTML for one schema-1 document; the ring is at `RING_URL`."""
    style = (f"body{{color:{_INK}}} h2{{font-size:12.5pt;margin-top:4px;margin-bottom:4px}}"
             f"td{{vertical-align:top}}")
    return (f"<html><head><style>{style}</style></head><body>{_header(doc, when)}"
            f"{_checks(doc)}{_metrics(doc)}{_transcript(doc)}</body></html>")


def write_pdf(doc: Mapping[str, Any], target: Path, when: datetime.datetime | None) -> None:
    """Lay `doc` out on A4 with page numbers in the footer and write it to `target`."""
    writer = QPdfWriter(str(target))
    writer.setResolution(_RESOLUTION)
    writer.setTitle(f"Call scorecard: {call_title(doc)}")
    writer.setCreator("callcoach")
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait,
                                     _MARGINS_MM, QPageLayout.Millimeter))
    text = QTextDocument()
    text.documentLayout().setPaintDevice(writer)
    text.setDocumentMargin(0)
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.SansSerif)
    font.setPointSizeF(_FONT_PT)
    font.setFeature(QFont.Tag("liga"), 0)  # "fl" stays two letters for search and copy
    text.setDefaultFont(font)
    text.addResource(QTextDocument.ImageResource, QUrl(RING_URL), ring_image(score_of(doc)))
    text.setHtml(report_html(doc, when))

    page = writer.pageLayout().paintRectPixels(_RESOLUTION)
    footer_font = QFont(font)
    footer_font.setPointSizeF(7.5)
    footer_h = round(_RESOLUTION * 0.22)  # about 5.6 mm for the page number line
    body = QSizeF(page.width(), page.height() - footer_h)
    text.setPageSize(body)
    pages = max(1, text.pageCount())
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportError(f"Cannot write {target.name}: the PDF could not be started")
    try:
        for n in range(pages):
            if n:
                writer.newPage()
            painter.save()
            painter.translate(0, -n * body.height())
            text.drawContents(painter, QRectF(0, n * body.height(), body.width(), body.height()))
            painter.restore()
            painter.setFont(footer_font)
            painter.setPen(QColor("#6b7078"))
            foot = QRectF(0, page.height() - footer_h * 0.8, page.width(), footer_h * 0.8)
            painter.drawText(foot, Qt.AlignLeft | Qt.AlignBottom,
                             f"callcoach · {call_title(doc)}")
            painter.drawText(foot, Qt.AlignRight | Qt.AlignBottom, f"page {n + 1} of {pages}")
    finally:
        painter.end()
