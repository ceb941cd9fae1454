"""A self-contained HTML scorecard for one analysed call (`callcoach analyze --html`).

One file with no external CSS, scripts, fonts or images, so it can be mailed to an agent,
opened from a shared folder offline and printed. It is built only from the schema-1 JSON
document (plus the optional loudness/pitch tracks), so any tool holding the JSON can
render it, and it never imports Qt: the CLI writes it headless. Every piece of text that
came from the call or the user (transcript, file name, reasons) goes through `escape`.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import PurePath
from typing import Any

from desktop.reports.html_svg import (
    AGENT_COLOUR,
    CUSTOMER_COLOUR,
    PITCH_COLOUR,
    anchor_id,
    clock,
    event_line,
    finite,
    kind_colour,
    nearest_utterance,
    timeline_svg,
)
from desktop.reports.scorecard_text import metric_groups, report_notes

__all__ = ["render_html"]

_DASH = "\u2014"
_LEARN = ("Listen", "Empathize", "Apologize", "Resolve", "Now")

_CSS = f"""
:root{{--ink:#1d2430;--muted:#6b7585;--line:#e5e8ed;--bg:#f5f6f8;--good:#1f8a5b;
--warn:#c98a06;--bad:#c8412f;--link:#2457a6}}
*{{box-sizing:border-box}}
body{{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
-webkit-print-color-adjust:exact;print-color-adjust:exact}}
main{{max-width:1080px;margin:0 auto;padding:28px 24px 40px}}
section{{background:#fff;border:1px solid var(--line);border-radius:12px;
padding:20px 24px;margin:0 0 16px}}
h1{{font-size:24px;line-height:1.25;margin:2px 0 6px;word-break:break-word}}
h2{{font-size:17px;margin:0 0 12px}}h3{{font-size:14px;margin:0 0 6px;color:var(--muted);
text-transform:uppercase;letter-spacing:.04em}}
a{{color:var(--link);text-decoration:none}}a:hover{{text-decoration:underline}}
.eyebrow{{font-size:12px;font-weight:600;letter-spacing:.08em;text-transform:uppercase;
color:var(--muted)}}
.muted{{color:var(--muted)}}.small{{font-size:13px}}
.head{{display:flex;justify-content:space-between;align-items:flex-start;gap:24px}}
.facts{{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:14px;color:var(--muted)}}
.facts b{{color:var(--ink);font-weight:600}}
.note{{margin-top:10px;padding:8px 12px;border-radius:8px;background:#f1f5fb;
border-left:3px solid var(--link);font-size:14px}}
.score{{display:flex;align-items:center;gap:14px;flex:none}}
.score .num{{font-size:56px;font-weight:700;line-height:1;font-variant-numeric:tabular-nums}}
.score .of{{font-size:14px;color:var(--muted)}}
.score .none{{font-size:22px;font-weight:600;color:var(--muted)}}
.learn{{display:grid;grid-template-columns:repeat(5,1fr);gap:16px;margin-top:20px;
padding-top:16px;border-top:1px solid var(--line)}}
.learn .top{{display:flex;flex-wrap:wrap;justify-content:space-between;column-gap:6px;
font-size:14px}}
.bar{{height:8px;margin-top:6px;border-radius:4px;background:#e9ecf1;overflow:hidden}}
.bar i{{display:block;height:100%;border-radius:4px}}
.cols{{display:grid;grid-template-columns:1fr 1fr;gap:16px}}
.cols{{margin-bottom:16px}}.cols>section{{margin:0}}
.na-list{{display:grid;grid-template-columns:1fr 1fr;column-gap:32px}}
.na-list .check:nth-of-type(2){{border-top:0}}
.check{{display:grid;grid-template-columns:24px 1fr;gap:0 8px;padding:10px 0;
border-top:1px solid var(--line);break-inside:avoid}}
.check:first-of-type{{border-top:0}}
.icon{{width:20px;height:20px;border-radius:50%;color:#fff;font-size:12px;font-weight:700;
display:flex;align-items:center;justify-content:center;margin-top:2px}}
.pass .icon{{background:var(--good)}}.fail .icon{{background:var(--bad)}}
.na .icon{{background:#b9c0ca}}.na{{color:var(--muted)}}
.check .label{{font-weight:600}}.cat{{font-size:12px;color:var(--muted);margin-left:6px}}
.ev{{font-size:13.5px;margin-top:3px}}.ev a{{font-variant-numeric:tabular-nums;
margin-right:6px}}
.quote{{font-style:italic}}
.empty{{color:var(--muted);font-size:14px;margin:0}}
table{{border-collapse:collapse;width:100%;font-size:14px}}
th,td{{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}}
th{{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);
font-weight:600}}
td.v{{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}}
td.nw,th{{white-space:nowrap}}
.metrics{{display:grid;grid-template-columns:repeat(3,1fr);gap:20px}}
.legend{{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:13px;color:var(--muted);
margin-top:8px}}
.sw{{display:inline-block;width:14px;height:4px;border-radius:2px;vertical-align:middle;
margin-right:6px}}
.utt{{display:grid;grid-template-columns:52px 86px 1fr;gap:10px;padding:5px 10px;
border-left:3px solid transparent;border-radius:4px;scroll-margin-top:12px}}
.utt:target{{background:#fff7d6}}
.utt.agent{{border-left-color:{AGENT_COLOUR}}}.utt.customer{{border-left-color:{CUSTOMER_COLOUR};
background:#fdf8f2}}
.who{{font-weight:600;font-size:14px}}.agent .who{{color:{AGENT_COLOUR}}}
.customer .who{{color:#b4640f}}
.time{{font-variant-numeric:tabular-nums;color:var(--muted);font-size:14px}}
.cue{{margin:8px 0 4px 62px;font-size:13.5px;display:flex;gap:8px;align-items:baseline}}
.badge{{display:inline-block;color:#fff;border-radius:10px;padding:1px 9px;font-size:12px;
font-weight:600;white-space:nowrap}}
.kind{{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}}
.yes{{color:var(--good);font-weight:600}}.held{{color:var(--muted)}}
footer{{text-align:center;font-size:12px;color:var(--muted);margin-top:24px}}
@media screen and (max-width:760px){{.cols,.metrics,.na-list{{grid-template-columns:1fr}}
.learn{{grid-template-columns:repeat(3,1fr)}}.head{{flex-direction:column}}}}
@media print{{body{{background:#fff;zoom:.8}}main{{max-width:none;padding:0}}
section{{border-color:#d5d9e0;padding:14px 18px;break-inside:auto}}
.head,.learn,tr,.utt,.cue{{break-inside:avoid}}
a{{color:inherit}}@page{{margin:14mm}}}}
"""


def _band(fraction: float) -> str:
    """Green, amber or red, the same cut-offs for the score and the L.E.A.R.N. bars."""
    return "var(--good)" if fraction >= 0.8 else "var(--warn)" if fraction >= 0.5 else \
        "var(--bad)"


def _anchors(transcript: Sequence[Mapping[str, Any]]) -> list[str]:
    """One unique id per transcript line (two lines starting in the same 0.1 s differ)."""
    seen: dict[str, int] = {}
    out = []
    for u in transcript:
        base = anchor_id(finite(u.get("start")) or 0.0)
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def _time_link(t: float | None, transcript: Sequence[Mapping[str, Any]],
               anchors: Sequence[str], near: int | None = None) -> str:
    if near is None and t is not None:
        near = nearest_utterance(transcript, t)
    if near is None:
        return f'<span class="time">{clock(t)}</span>'
    return f'<a class="time" href="#{anchors[near]}">{clock(t)}</a>'


def _ring(score: int) -> str:
    """The score as a ring: the arc is the share of the weighted checks passed."""
    r, c = 30, 2 * math.pi * 30
    return (f'<svg width="76" height="76" viewBox="0 0 76 76" aria-hidden="true">'
            f'<circle cx="38" cy="38" r="{r}" fill="none" stroke="#e9ecf1" stroke-width="9"/>'
            f'<circle cx="38" cy="38" r="{r}" fill="none" stroke="{_band(score / 100)}" '
            f'stroke-width="9" stroke-linecap="round" transform="rotate(-90 38 38)" '
            f'stroke-dasharray="{c * min(max(score, 0), 100) / 100:.1f} {c:.1f}"/></svg>')


def _header(doc: Mapping[str, Any]) -> str:
    card = doc.get("scorecard") or {}
    score = card.get("score")
    recording = str(doc.get("recording") or "")
    name = PurePath(recording).name or recording or "recording"
    if score is None:
        big = '<div class="score"><div class="none">No speech found</div></div>'
    else:
        big = (f'<div class="score">{_ring(int(score))}<div><div class="num">{int(score)}'
               f'</div><div class="of">out of 100</div></div></div>')
    if doc.get("channels") == "agent-only":
        channels = "Agent only (the customer was not recorded)"
    else:
        channels = f"Stereo, agent on the {escape(str(doc.get('agent_channel') or 'left'))}"
    generated = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    facts = (f'<span>Length <b>{clock(finite(doc.get("duration_s")))}</b></span>'
             f'<span>Channels <b>{channels}</b></span>'
             f'<span>Model <b>{escape(str(doc.get("model") or _DASH))}</b></span>'
             f'<span>Generated <b>{generated}</b></span>')
    path = (f'<div class="muted small">{escape(recording)}</div>'
            if recording and recording != name else "")
    notes = report_notes(doc)
    note_html = "".join(f'<div class="note">{escape(str(n))}</div>' for n in notes)
    return (f'<section class="header"><div class="head"><div><div class="eyebrow">Call '
            f'scorecard</div><h1>{escape(name)}</h1>{path}<div class="facts">{facts}</div>'
            f'{note_html}</div>{big}</div>{_learn(card.get("breakdown") or {})}</section>')


def _learn(breakdown: Mapping[str, Mapping[str, Any]]) -> str:
    cats = [c for c in _LEARN if c in breakdown] + [c for c in breakdown if c not in _LEARN]
    cells = []
    for cat in cats:
        earned = finite(breakdown[cat].get("earned")) or 0.0
        possible = finite(breakdown[cat].get("possible")) or 0.0
        if possible > 0:
            frac = earned / possible
            figure = f"{earned:g} / {possible:g}"
            bar = f'<i style="width:{100 * frac:.0f}%;background:{_band(frac)}"></i>'
        else:
            figure, bar = "not judged", ""
        cells.append(f'<div class="cat-bar"><div class="top"><b>{escape(cat)}</b>'
                     f'<span class="muted">{figure}</span></div>'
                     f'<div class="bar">{bar}</div></div>')
    return f'<div class="learn">{"".join(cells)}</div>' if cells else ""


def _evidence(ev: Mapping[str, Any], doc: Mapping[str, Any], anchors: Sequence[str]) -> str:
    """A time and the words said (quoted), or the measured figure (not quoted): evidence
    that is the text of a transcript line is speech, anything else is a rule's reason."""
    transcript = doc.get("transcript") or []
    text = str(ev.get("text") or "").strip()
    spoken = {str(u.get("text") or "").strip().casefold() for u in transcript}
    shown = (f'<span class="quote">\u201c{escape(text)}\u201d</span>'
             if text.casefold() in spoken else escape(text))
    return f'<div class="ev">{_time_link(finite(ev.get("t")), transcript, anchors)}{shown}</div>'


def _check(c: Mapping[str, Any], doc: Mapping[str, Any], anchors: Sequence[str]) -> str:
    state = "na" if not c.get("applicable", True) else "pass" if c.get("passed") else "fail"
    icon = {"pass": "\u2713", "fail": "!", "na": "\u2013"}[state]
    ev = "".join(_evidence(e, doc, anchors) for e in c.get("evidence") or [])
    weight = finite(c.get("weight")) or 1.0
    counts = f" \u00b7 counts \u00d7{weight:g}" if weight != 1 and state != "na" else ""
    return (f'<div class="check {state}"><span class="icon">{icon}</span><div>'
            f'<span class="label">{escape(str(c.get("label") or c.get("id") or ""))}</span>'
            f'<span class="cat">{escape(str(c.get("category") or ""))}{counts}</span>'
            f'<div class="small muted">{escape(str(c.get("detail") or ""))}</div>{ev}</div></div>')


def _checks(doc: Mapping[str, Any], anchors: Sequence[str]) -> str:
    checks = (doc.get("scorecard") or {}).get("checks") or []
    judged = [c for c in checks if c.get("applicable", True)]
    good = [c for c in judged if c.get("passed")]
    bad = sorted((c for c in judged if not c.get("passed")),
                 key=lambda c: -(finite(c.get("weight")) or 1.0))
    na = [c for c in checks if not c.get("applicable", True)]

    def column(title: str, items: list, empty: str) -> str:
        body = "".join(_check(c, doc, anchors) for c in items) or f'<p class="empty">{empty}</p>'
        count = f'<span class="muted">({len(items)})</span>'
        return f"<section><h2>{title} {count}</h2>{body}</section>"

    out = ""
    if judged:
        out = ('<div class="cols">'
               + column("What went well", good, "None of the checks was passed.")
               + column("What to change", bad, "Nothing: every check that applied was passed.")
               + "</div>")
    if na:
        out += ('<section><h2>Not judged on this call <span class="muted">'
                f'({len(na)})</span></h2><div class="na-list">'
                f'{"".join(_check(c, doc, anchors) for c in na)}</div></section>')
    return out


def _metrics(doc: Mapping[str, Any]) -> str:
    tables = []
    for group, rows in metric_groups(doc):
        body = "".join(f'<tr><td>{escape(r.label)}</td><td class="v">{escape(r.value)}</td>'
                       '</tr>' for r in rows)
        tables.append(f'<div><h3>{group}</h3><table>{body}</table></div>')
    body = "".join(tables) or '<p class="empty">No figures.</p>'
    return f'<section><h2>Metrics</h2><div class="metrics">{body}</div></section>'


def _timeline(doc: Mapping[str, Any], tracks: Mapping[str, Sequence[Any]] | None,
              anchors: Sequence[str]) -> str:
    legend = [(AGENT_COLOUR, "Agent loudness (dBFS)"), (PITCH_COLOUR, "Agent pitch (Hz)")]
    if tracks and tracks.get("customer_dbfs"):
        legend.insert(1, (CUSTOMER_COLOUR, "Customer loudness"))
    if not (tracks and tracks.get("t")):
        legend = [(AGENT_COLOUR, "Agent speaking"), (CUSTOMER_COLOUR, "Customer speaking")]
    keys = "".join(f'<span><i class="sw" style="background:{c}"></i>{t}</span>'
                   for c, t in legend)
    keys += '<span>Events: hover a marker for the prompt and the reason, click to read</span>'
    return (f'<section><h2>Timeline</h2>{timeline_svg(doc, tracks, anchors)}'
            f'<div class="legend">{keys}</div></section>')


def _event_label(e: Mapping[str, Any]) -> str:
    return str(e.get("prompt") or str(e.get("kind") or "event").replace("_", " ").capitalize())


def _transcript(doc: Mapping[str, Any], anchors: Sequence[str]) -> str:
    transcript = doc.get("transcript") or []
    cues: dict[int, list[str]] = {}
    for e in doc.get("events") or []:
        near = event_line(transcript, e)
        if near is not None:
            colour = kind_colour(str(e.get("kind", "")))
            cues.setdefault(near, []).append(
                f'<div class="cue"><span class="badge" style="background:{colour}">'
                f'{escape(_event_label(e))}</span><span class="muted">'
                f'{clock(finite(e.get("start")))} \u00b7 {escape(str(e.get("reason") or ""))}'
                f'</span></div>')
    rows = []
    for i, u in enumerate(transcript):
        speaker = u.get("speaker") if u.get("speaker") in ("agent", "customer") else "other"
        rows.append("".join(cues.get(i, [])))
        rows.append(f'<div class="utt {speaker}" id="{anchors[i]}">'
                    f'<a class="time" href="#{anchors[i]}">{clock(finite(u.get("start")))}</a>'
                    f'<span class="who">{escape(str(u.get("speaker") or ""))}</span>'
                    f'<span class="text">{escape(str(u.get("text") or "").strip())}</span>'
                    f'</div>')
    body = "".join(rows) or '<p class="empty">Nothing was transcribed.</p>'
    return f'<section><h2>Transcript</h2>{body}</section>'


def _events(doc: Mapping[str, Any], anchors: Sequence[str]) -> str:
    transcript = doc.get("transcript") or []
    rows = []
    for e in doc.get("events") or []:
        start = finite(e.get("start"))
        kind = str(e.get("kind") or "")
        live = ('<span class="yes">Yes</span>' if e.get("prompted")
                else '<span class="held">No, held back</span>')
        link = _time_link(start, transcript, anchors, event_line(transcript, e))
        rows.append(f'<tr><td class="nw">{link}</td>'
                    f'<td class="nw"><i class="kind" style="background:{kind_colour(kind)}"></i>'
                    f'{escape(kind.replace("_", " "))}</td>'
                    f'<td>{escape(str(e.get("speaker") or ""))}</td>'
                    f'<td>{escape(str(e.get("prompt") or _DASH))}</td>'
                    f'<td>{escape(str(e.get("reason") or ""))}</td><td class="nw">{live}</td></tr>')
    table = ('<table><thead><tr><th>Time</th><th>Kind</th><th>Who</th><th>Prompt</th>'
             f'<th>Why</th><th>Shown live</th></tr></thead><tbody>{"".join(rows)}</tbody>'
             '</table>' if rows else '<p class="empty">No events on this call.</p>')
    skipped = doc.get("skipped_kinds") or []
    note = (f'<p class="muted small">Not looked for without the customer\'s channel: '
            f'{escape(", ".join(str(k).replace("_", " ") for k in skipped))}.</p>'
            if skipped else "")
    return f'<section><h2>Events</h2>{table}{note}</section>'


def render_html(report: Mapping[str, Any],
                tracks: Mapping[str, Sequence[Any]] | None = None) -> str:
    """The whole page for one schema-1 report.

    Args:
        report: the `callcoach analyze` JSON document (fields beyond schema 1 are used
            when present: `speech_turns`, `notes`, `skipped_kinds`, check labels).
        tracks: optional plot data from `audio.analysis.loudness_tracks`: `t`,
            `agent_dbfs`, `customer_dbfs` (absent for agent-only), `agent_pitch_hz`
            (None or NaN where unvoiced).

    Returns:
        One HTML document as text, with everything it needs inline.
    """
    anchors = _anchors(report.get("transcript") or [])
    name = PurePath(str(report.get("recording") or "")).name
    body = (_header(report) + _checks(report, anchors) + _metrics(report)
            + _timeline(report, tracks, anchors) + _transcript(report, anchors)
            + _events(report, anchors))
    footer = ("<footer>Made by callcoach on this computer. Nothing on this page was fetched "
              "from or sent to the network.</footer>")
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="generator" content="callcoach">'
            f'<title>Call scorecard: {escape(name)}</title><style>{_CSS}</style></head>'
            f'<body><main>{body}{footer}</main></body></html>\n')
