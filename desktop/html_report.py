"""A self-contained HTML scorecard for one analysed call (`callcoach analyze --html`).

One file, no external CSS, scripts, fonts or images, so it can be mailed to an agent or
opened from a shared folder offline. Built from the schema-1 JSON document (plus the
optional loudness/pitch tracks), so any tool holding the JSON can render it. No Qt here.
"""

from __future__ import annotations

import datetime
import math
from html import escape
from pathlib import Path
from typing import Any

__all__ = ["render_html"]

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;
background:#f5f6f8;margin:0}main{max-width:1040px;margin:0 auto;padding:24px}
section{background:#fff;border-radius:10px;padding:18px 22px;margin:16px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}h1{font-size:22px;margin:0}h2{font-size:17px;margin:0 0 10px}
.meta{color:#5b6675;font-size:13px}.head{display:flex;justify-content:space-between;gap:24px;
align-items:center}.score{font-size:52px;font-weight:700;line-height:1}.score small{font-size:18px;
color:#5b6675}.learn{display:grid;grid-template-columns:repeat(5,1fr);gap:10px;margin-top:14px}
.bar{height:8px;background:#e6e9ee;border-radius:4px;overflow:hidden}.bar i{display:block;
height:100%;background:#2f7d5b}.cols{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.check{padding:6px 0;border-bottom:1px solid #eef0f3}.ok{color:#2f7d5b}.bad{color:#b4442f}
.na{color:#8a94a3}.ev{font-size:13px;color:#5b6675;margin-left:22px}a{color:#2457a6}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{text-align:left;padding:5px 8px;
border-bottom:1px solid #eef0f3}.utt{display:grid;grid-template-columns:60px 90px 1fr;gap:8px;
padding:4px 0}.agent .who{color:#2457a6;font-weight:600}
.customer .who{color:#8a4b08;font-weight:600}
.badge{display:inline-block;background:#fdecea;color:#8c2f1f;border-radius:4px;padding:0 6px;
margin:2px 4px 2px 0;font-size:12px}.t{color:#8a94a3;font-variant-numeric:tabular-nums}
@media print{body{background:#fff}section{box-shadow:none;border:1px solid #ddd}}
"""

_METRICS = [
    ("agent_talk_ratio", "Agent talk share", "pct"), ("interruptions", "Interruptions", "int"),
    ("customer_interruptions", "Customer interruptions", "int"),
    ("raised_voice_s", "Raised voice", "s"), ("longest_customer_turn_s",
                                              "Longest customer turn", "s"),
    ("dead_air_s", "Dead air", "s"), ("longest_silence_s", "Longest silence", "s"),
    ("mean_response_gap_s", "Mean response gap", "s"),
    ("max_response_gap_s", "Longest response gap", "s"), ("agent_wpm", "Agent words/min", "int"),
    ("agent_words", "Agent words", "int"), ("customer_words", "Customer words", "int"),
    ("events", "Events", "int"), ("prompts_shown", "Prompts shown live", "int"),
]


def _t(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "\u2014"
    if unit == "pct":
        return f"{value * 100:.0f}%"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def _anchor(t: float) -> str:
    return f"t-{t:.1f}"


def _nearest_utterance(transcript: list[dict], t: float) -> float | None:
    best = min(transcript, key=lambda u: abs(u["start"] - t), default=None)
    return None if best is None else best["start"]


def _header(doc: dict) -> str:
    card = doc["scorecard"]
    score = card.get("score")
    big = ("<div class=score>No speech found</div>" if score is None
           else f"<div class=score>{score}<small>/100</small></div>")
    bars = []
    for cat, b in card.get("breakdown", {}).items():
        frac = b["earned"] / b["possible"] if b["possible"] else 0
        label = f"{b['earned']:g}/{b['possible']:g}" if b["possible"] else "n/a"
        bars.append(f"<div><b>{escape(cat)}</b> <span class=meta>{label}</span>"
                    f"<div class=bar><i style='width:{frac * 100:.0f}%'></i></div></div>")
    notes = "".join(f"<div class=meta>Note: {escape(n)}</div>" for n in doc.get("notes", []))
    side = ("agent only" if doc.get("channels") == "agent-only"
            else f"stereo, agent on the {escape(doc.get('agent_channel', 'left'))}")
    return (f"<section><div class=head><div><h1>{escape(Path(doc['recording']).name)}</h1>"
            f"<div class=meta>{_t(doc['duration_s'])} &middot; {side} &middot; model "
            f"{escape(str(doc.get('model')))} &middot; generated "
            f"{datetime.date.today().isoformat()}</div>{notes}</div>{big}</div>"
            f"<div class=learn>{''.join(bars)}</div></section>")


def _check_html(c: dict, transcript: list[dict]) -> str:
    mark = ("<span class=ok>&#10003;</span>" if c["passed"] and c["applicable"] else
            "<span class=na>&ndash;</span>" if not c["applicable"] else
            "<span class=bad>&#10007;</span>")
    ev = []
    for e in c.get("evidence", []):
        near = _nearest_utterance(transcript, e["t"])
        link = (f"<a href='#{_anchor(near)}'>{_t(e['t'])}</a>" if near is not None
                else _t(e["t"]))
        ev.append(f"<div class=ev>{link} &ldquo;{escape(e['text'])}&rdquo;</div>")
    return (f"<div class=check>{mark} <b>{escape(c['label'])}</b> "
            f"<span class=meta>{escape(c['detail'])}</span>{''.join(ev)}</div>")


def _checks(doc: dict) -> str:
    checks, tr = doc["scorecard"]["checks"], doc["transcript"]
    good = "".join(_check_html(c, tr) for c in checks if c["applicable"] and c["passed"])
    bad = "".join(_check_html(c, tr) for c in checks if c["applicable"] and not c["passed"])
    na = "".join(_check_html(c, tr) for c in checks if not c["applicable"])
    return (f"<section class=cols><div><h2>What went well</h2>{good or '<p class=meta>-</p>'}"
            f"</div><div><h2>What to change</h2>{bad or '<p class=meta>Nothing.</p>'}</div>"
            f"</section>" + (f"<section><h2>Not judged</h2>{na}</section>" if na else ""))


def _metrics(doc: dict) -> str:
    m = doc["scorecard"]["metrics"]
    rows = "".join(f"<tr><td>{label}</td><td>{_fmt(m.get(key), unit)}</td></tr>"
                   for key, label, unit in _METRICS if key in m)
    return f"<section><h2>Metrics</h2><table>{rows}</table></section>"


def _svg(doc: dict, tracks: dict | None) -> str:
    w, h, pad = 1000, 220, 40
    dur = max(doc["duration_s"] or 1.0, 1e-3)
    x = lambda t: pad + (w - 2 * pad) * t / dur  # noqa: E731
    parts = [f"<svg viewBox='0 0 {w} {h}' width='100%' role='img' "
             "aria-label='loudness, pitch, turns and events over the call'>"]
    y_db = lambda d: 20 + (130 - 20) * (min(0, max(-70, d)) / -70)  # noqa: E731
    for db in (-10, -30, -50, -70):
        parts.append(f"<text x='4' y='{y_db(db) + 4:.0f}' font-size='10' "
                     f"fill='#8a94a3'>{db}</text>")
    if tracks and tracks.get("t"):
        for key, colour in (("customer_dbfs", "#d9a066"), ("agent_dbfs", "#5b8bd6")):
            vals = tracks.get(key) or []
            pts = " ".join(f"{x(t):.1f},{y_db(v):.1f}" for t, v in zip(tracks["t"], vals,
                                                                       strict=False)
                           if v is not None)
            if pts:
                parts.append(f"<polyline points='{pts}' fill='none' stroke='{colour}' "
                             "stroke-width='1.2'/>")
        pitch = [(t, p) for t, p in zip(tracks["t"], tracks.get("agent_pitch_hz") or [],
                                        strict=False)
                 if p is not None and not (isinstance(p, float) and math.isnan(p))]
        for t, p in pitch:
            yp = 130 - (130 - 20) * (min(400, max(50, p)) - 50) / 350
            parts.append(f"<circle cx='{x(t):.1f}' cy='{yp:.1f}' r='1.2' fill='#2f7d5b'/>")
    for i, spk in enumerate(("agent", "customer")):
        y = 150 + i * 16
        parts.append(f"<text x='4' y='{y + 9}' font-size='10' fill='#5b6675'>{spk}</text>")
        colour = "#5b8bd6" if spk == "agent" else "#d9a066"
        for turn in doc.get("speech_turns", []):
            if turn["speaker"] == spk:
                parts.append(f"<rect x='{x(turn['start']):.1f}' y='{y}' height='10' rx='2' "
                             f"width='{max(1.0, x(turn['end']) - x(turn['start'])):.1f}' "
                             f"fill='{colour}'/>")
    for e in doc["events"]:
        parts.append(f"<g class='marker'><line x1='{x(e['start']):.1f}' x2='{x(e['start']):.1f}' "
                     f"y1='14' y2='186' stroke='#c0392b' stroke-width='1.5'/><title>"
                     f"{_t(e['start'])} {escape(e['prompt'] or e['kind'])}: "
                     f"{escape(e['reason'])}</title></g>")
    for s in range(0, int(dur) + 1, max(10, int(dur / 10) // 10 * 10 or 10)):
        parts.append(f"<text x='{x(s):.0f}' y='208' font-size='10' fill='#8a94a3' "
                     f"text-anchor='middle'>{_t(s)}</text>")
    parts.append("</svg>")
    legend = ("<div class=meta>Blue: agent loudness (dBFS); orange: customer; green dots: "
              "agent pitch (50-400 Hz); red lines: events (hover for the reason).</div>")
    return f"<section><h2>Timeline</h2>{''.join(parts)}{legend}</section>"


def _transcript(doc: dict) -> str:
    tr = doc["transcript"]
    badges: dict[float, list[str]] = {}
    for e in doc["events"]:
        near = _nearest_utterance(tr, e["start"])
        if near is not None:
            badges.setdefault(near, []).append(
                f"<span class=badge title='{escape(e['reason'], quote=True)}'>"
                f"{escape(e['prompt'] or e['kind'])}</span>")
    rows = []
    for u in tr:
        marks = "".join(badges.pop(u["start"], []))
        rows.append(f"<div class='utt {escape(u['speaker'])}' id='{_anchor(u['start'])}'>"
                    f"<span class=t>{_t(u['start'])}</span><span class=who>"
                    f"{escape(u['speaker'])}</span><span>{marks}{escape(u['text'])}</span></div>")
    body = "".join(rows) or "<p class=meta>No transcript.</p>"
    return f"<section><h2>Transcript</h2>{body}</section>"


def _events(doc: dict) -> str:
    rows = "".join(
        f"<tr><td class=t>{_t(e['start'])}</td><td>{escape(e['kind'])}</td>"
        f"<td>{escape(e['prompt'] or '-')}</td><td>{escape(e['reason'])}</td>"
        f"<td>{'yes' if e.get('prompted') else 'held back'}</td></tr>" for e in doc["events"])
    skipped = doc.get("skipped_kinds") or []
    note = (f"<p class=meta>Not computed without the customer's channel: "
            f"{escape(', '.join(skipped))}</p>" if skipped else "")
    return (f"<section><h2>Events</h2><table><tr><th>time</th><th>kind</th><th>prompt</th>"
            f"<th>why</th><th>shown live</th></tr>{rows}</table>{note}</section>")


def render_html(report: dict, tracks: dict[str, list] | None = None) -> str:
    """The whole page for one schema-1 report (see the module docstring)."""
    title = escape(f"callcoach scorecard: {Path(report['recording']).name}")
    body = (_header(report) + _checks(report) + _metrics(report) + _svg(report, tracks)
            + _transcript(report) + _events(report))
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<style>{_CSS}</style></head><body><main>{body}</main></body></html>\n")
