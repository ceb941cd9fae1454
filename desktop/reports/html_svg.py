"""The timeline of the HTML scorecard, drawn as one inline SVG (no script, no fonts).

Loudness of both parties (dBFS, left scale), the agent's pitch (Hz, right scale), the
speech turns of each speaker as bars, and one marker per event. Kept apart from the page
so the geometry can change without touching the report, and so it stays testable as XML.
Without loudness tracks the turns and markers are still drawn: a trainer can always see
where the moments were.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["AGENT_COLOUR", "CUSTOMER_COLOUR", "PITCH_COLOUR", "kind_colour", "timeline_svg",
           "clock", "anchor_id", "nearest_utterance", "event_line", "finite"]

AGENT_COLOUR = "#2f6fd1"
CUSTOMER_COLOUR = "#dd8a2e"
PITCH_COLOUR = "#179c6b"
_INK, _MUTED, _GRID = "#1d2430", "#6b7585", "#e7eaef"

# Event kinds grouped by what the agent should do about them; unknown kinds are grey.
_KIND_GROUPS = {
    "#d0453b": ("interruption", "customer_interruption", "long_monologue"),
    "#c98a06": ("raised_voice", "customer_raised_voice", "fast_speech"),
    "#7357c2": ("dead_air", "slow_response"),
    "#b42361": ("forbidden_phrase",),
}
_PROMPT_COLOUR, _OTHER_COLOUR = "#0f8790", "#6b7280"
_SILENCE_KINDS = ("dead_air", "slow_response")

_W, _LEFT, _RIGHT = 1000, 78, 50
_PANEL_TOP, _PANEL_H, _LANE_H, _LANE_GAP = 26.0, 140, 14, 8
_DB_FLOOR = -70.0
_MAX_POINTS = 1600


def kind_colour(kind: str) -> str:
    """One colour per family of event, shared by the timeline and the transcript badges."""
    for colour, kinds in _KIND_GROUPS.items():
        if kind in kinds:
            return colour
    return _PROMPT_COLOUR if kind.startswith("prompt_") else _OTHER_COLOUR


def clock(seconds: float | None) -> str:
    """m:ss, truncated like a media player's clock (0:59.8 is still 0:59)."""
    if seconds is None or not math.isfinite(seconds):
        return "\u2014"
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"


def anchor_id(t: float) -> str:
    """The id of a transcript line; evidence and markers link to `#t-12.3`."""
    return f"t-{t:.1f}"


def nearest_utterance(transcript: Sequence[Mapping[str, Any]], start: float,
                      end: float | None = None, speaker: str | None = None) -> int | None:
    """Index of the transcript line closest to the span `start`..`end`: the nearest one,
    then the one overlapping it most, then the line of `speaker` (the event's own party)."""
    end = start if end is None else max(start, end)
    best: tuple[float, float, int, int] | None = None
    for i, u in enumerate(transcript):
        us, ue = finite(u.get("start")), finite(u.get("end"))
        if us is None:
            continue
        ue = us if ue is None else max(us, ue)
        gap = max(0.0, us - end, start - ue)
        overlap = max(0.0, min(end, ue) - max(start, us))
        key = (round(gap, 2), -round(overlap, 2), 0 if u.get("speaker") == speaker else 1, i)
        if best is None or key < best:
            best = key
    return None if best is None else best[3]


def event_line(transcript: Sequence[Mapping[str, Any]], event: Mapping[str, Any]) -> int | None:
    """The transcript line an event belongs to. A silence (dead air, a slow answer) belongs
    to the line that broke it; anything else to the speech it overlaps most."""
    start = finite(event.get("start")) or 0.0
    end = finite(event.get("end"))
    if event.get("kind") in _SILENCE_KINDS and end is not None:
        start = end
    return nearest_utterance(transcript, start, end, event.get("speaker"))


def finite(value: Any) -> float | None:
    """A finite float or None: JSON nulls, NaN pitch and strings all become None."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _tick_step(duration: float) -> int:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800):
        if duration / step <= 10:
            return step
    return 3600


def _pitch_range(values: Iterable[float]) -> tuple[float, float]:
    """A round range covering the agent's voiced pitch (5th to 95th percentile)."""
    v = sorted(values)
    if not v:
        return 50.0, 350.0
    lo, hi = v[int(0.05 * (len(v) - 1))], v[int(0.95 * (len(v) - 1))]
    lo, hi = math.floor(lo / 50) * 50, math.ceil(hi / 50) * 50
    if hi - lo < 100:
        lo, hi = max(0, lo - 50), hi + 50
    return float(max(0, lo)), float(hi)


class _Scale:
    """Maps seconds to x and values to y within one call's drawing."""

    def __init__(self, duration: float) -> None:
        self.duration = max(duration, 1.0)

    def x(self, t: float) -> float:
        t = min(max(t, 0.0), self.duration)
        return _LEFT + (_W - _LEFT - _RIGHT) * t / self.duration


def _series(t: Sequence[Any], values: Sequence[Any] | None) -> list[tuple[float, float] | None]:
    """(t, value) pairs with None where the value is missing, thinned to a drawable count."""
    if not values:
        return []
    stride = max(1, math.ceil(len(t) / _MAX_POINTS))
    out: list[tuple[float, float] | None] = []
    for i in range(0, min(len(t), len(values)), stride):
        ti, vi = finite(t[i]), finite(values[i])
        out.append(None if ti is None or vi is None else (ti, vi))
    return out


def _path(points: list[tuple[float, float] | None]) -> str:
    """An SVG path that lifts the pen across gaps (unvoiced frames, missing values)."""
    d, pen_down = [], False
    for p in points:
        if p is None:
            pen_down = False
            continue
        d.append(f"{'L' if pen_down else 'M'}{p[0]:.1f} {p[1]:.1f}")
        pen_down = True
    return "".join(d)


def _break_jumps(points: list[tuple[float, float] | None], ratio: float = 1.45
                 ) -> list[tuple[float, float] | None]:
    """Lift the pen where pitch leaps by more than a fifth between two points: that is a
    tracker's octave error or a new phrase, and a line across it would read as a glide."""
    out: list[tuple[float, float] | None] = []
    for p in points:
        prev = out[-1] if out else None
        if p is not None and prev is not None and max(p[1], prev[1]) > ratio * min(p[1], prev[1]):
            out.append(None)
        out.append(p)
    return out


def _area(points: list[tuple[float, float] | None], base: float) -> str:
    """Each unbroken run of points as a closed shape down to the floor of the plot."""
    d: list[str] = []
    run: list[tuple[float, float]] = []
    for p in [*points, None]:
        if p is not None:
            run.append(p)
            continue
        if len(run) > 1:
            d.append(f"M{run[0][0]:.1f} {base:.1f}" + "".join(f"L{x:.1f} {y:.1f}" for x, y in run)
                     + f"L{run[-1][0]:.1f} {base:.1f}Z")
        run = []
    return "".join(d)


def _loudness_panel(tracks: Mapping[str, Sequence[Any]], sc: _Scale) -> list[str]:
    top, bottom = _PANEL_TOP, _PANEL_TOP + _PANEL_H

    def y_db(db: float) -> float:
        return top + (bottom - top) * min(max(db, _DB_FLOOR), 0.0) / _DB_FLOOR

    t = tracks.get("t") or []
    out = [f'<text x="{_LEFT - 8}" y="{top - 10:.0f}" text-anchor="end" class="ax">dBFS</text>']
    for db in (0, -20, -40, -60):
        y = y_db(db)
        out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{_GRID}"/><text x="{_LEFT - 8}" y="{y + 4:.1f}" '
                   f'text-anchor="end" class="ax">{db}</text>')
    out.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{bottom}" y2="{bottom}" '
               f'stroke="#cfd5dd"/>')
    for key, colour in (("customer_dbfs", CUSTOMER_COLOUR), ("agent_dbfs", AGENT_COLOUR)):
        pts = [None if p is None else (sc.x(p[0]), y_db(p[1]))
               for p in _series(t, tracks.get(key))]
        if any(pts):
            out.append(f'<path d="{_area(pts, bottom)}" fill="{colour}" fill-opacity="0.13"/>'
                       f'<path class="loud" d="{_path(pts)}" fill="none" stroke="{colour}" '
                       f'stroke-width="1.2" stroke-linejoin="round"/>')
    pitch = _series(t, tracks.get("agent_pitch_hz"))
    voiced = [p[1] for p in pitch if p is not None]
    if voiced:
        lo, hi = _pitch_range(voiced)

        def y_hz(hz: float) -> float:
            return bottom - (bottom - top) * (min(max(hz, lo), hi) - lo) / (hi - lo)

        pts = [None if p is None else (sc.x(p[0]), y_hz(p[1])) for p in _break_jumps(pitch)]
        out.append(f'<path class="pitch" d="{_path(pts)}" fill="none" stroke="{PITCH_COLOUR}" '
                   f'stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>')
        xr = _W - _RIGHT + 8
        out.append(f'<text x="{xr}" y="{top - 10:.0f}" class="ax">Hz</text>')
        for hz in (lo, (lo + hi) / 2, hi):
            out.append(f'<text x="{xr}" y="{y_hz(hz) + 4:.1f}" class="ax" '
                       f'style="fill:{PITCH_COLOUR}">{hz:.0f}</text>')
    return out


def _turn_lanes(turns: Sequence[Mapping[str, Any]], speakers: Sequence[str], y0: float,
                sc: _Scale) -> list[str]:
    out = []
    for i, spk in enumerate(speakers):
        y = y0 + i * (_LANE_H + _LANE_GAP)
        colour = AGENT_COLOUR if spk == "agent" else CUSTOMER_COLOUR
        out.append(f'<text x="{_LEFT - 8}" y="{y + 11:.0f}" text-anchor="end" '
                   f'class="lane">{spk.capitalize()}</text>'
                   f'<rect x="{_LEFT}" y="{y:.0f}" width="{_W - _LEFT - _RIGHT}" '
                   f'height="{_LANE_H}" fill="#f3f5f8" rx="3"/>')
        for turn in turns:
            s, e = finite(turn.get("start")), finite(turn.get("end"))
            if turn.get("speaker") != spk or s is None:
                continue
            x0, x1 = sc.x(s), sc.x(e if e is not None else s)
            out.append(f'<rect class="turn" x="{x0:.1f}" y="{y:.0f}" '
                       f'width="{max(1.5, x1 - x0):.1f}" height="{_LANE_H}" rx="3" '
                       f'fill="{colour}"/>')
    return out


def _markers(doc: Mapping[str, Any], top: float, lane_y: float, sc: _Scale,
             anchors: Sequence[str]) -> list[str]:
    """One `<g class="marker">` per event: a hairline over the plot and a tick in the
    events lane, titled with the prompt and the reason, linking to the transcript."""
    out = []
    transcript = doc.get("transcript") or []
    for e in doc.get("events") or []:
        s = finite(e.get("start")) or 0.0
        end = finite(e.get("end"))
        colour = kind_colour(str(e.get("kind", "")))
        x0 = sc.x(s)
        width = max(4.0, sc.x(end if end is not None else s) - x0)
        what = e.get("prompt") or str(e.get("kind", "")).replace("_", " ")
        title = escape(f"{clock(s)}  {what}: {e.get('reason', '')}")
        near = event_line(transcript, e)
        link = f'<a href="#{anchors[near]}">' if near is not None else "<a>"
        out.append(f'<g class="marker"><title>{title}</title>{link}'
                   f'<line x1="{x0:.1f}" x2="{x0:.1f}" y1="{top:.0f}" y2="{lane_y:.0f}" '
                   f'stroke="{colour}" stroke-opacity="0.55" stroke-width="1.2"/>'
                   f'<rect x="{x0 - 2:.1f}" y="{lane_y:.0f}" width="{width:.1f}" '
                   f'height="{_LANE_H}" rx="3" fill="{colour}"/></a></g>')
    return out


def timeline_svg(doc: Mapping[str, Any], tracks: Mapping[str, Sequence[Any]] | None,
                 anchors: Sequence[str]) -> str:
    """The whole timeline. `anchors[i]` is the id of transcript line i (for marker links).

    Turn bars come from the VAD `speech_turns` when the document has them (they exist even
    where nothing was transcribed), otherwise from the transcript's utterances.
    """
    transcript = doc.get("transcript") or []
    turns = doc.get("speech_turns") or transcript
    ends = [finite(x.get("end")) for x in [*turns, *(doc.get("events") or [])]]
    duration = finite(doc.get("duration_s")) or max([e for e in ends if e is not None] or [1.0])
    sc = _Scale(duration)
    has_tracks = bool(tracks and tracks.get("t"))
    customer = (doc.get("channels") != "agent-only"
                or any(t.get("speaker") == "customer" for t in turns))
    speakers = ["agent", "customer"] if customer else ["agent"]
    y0 = _PANEL_TOP + _PANEL_H + 18 if has_tracks else 8.0
    events_y = y0 + len(speakers) * (_LANE_H + _LANE_GAP)
    height = events_y + _LANE_H + 30
    parts = [f'<svg class="timeline" viewBox="0 0 {_W} {height:.0f}" width="100%" '
             f'role="img" aria-label="Loudness, pitch, speech turns and events over the call">']
    parts.append(f'<style>.ax{{font-size:11px;fill:{_MUTED}}}'
                 f'.lane{{font-size:12px;fill:{_INK};font-weight:600}}'
                 f'.marker:hover rect{{stroke:{_INK};stroke-width:1}}</style>')
    if has_tracks and tracks is not None:
        parts += _loudness_panel(tracks, sc)
    parts += _turn_lanes(turns, speakers, y0, sc)
    parts.append(f'<text x="{_LEFT - 8}" y="{events_y + 11:.0f}" text-anchor="end" '
                 f'class="lane">Events</text><rect x="{_LEFT}" y="{events_y:.0f}" '
                 f'width="{_W - _LEFT - _RIGHT}" height="{_LANE_H}" fill="#f3f5f8" rx="3"/>')
    parts += _markers(doc, _PANEL_TOP if has_tracks else y0, events_y, sc, anchors)
    step, axis_y = _tick_step(sc.duration), events_y + _LANE_H + 8
    for s in range(0, int(sc.duration) + 1, step):
        x = sc.x(s)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y:.0f}" y2="{axis_y + 4:.0f}" '
                     f'stroke="#b8c0cb"/><text x="{x:.1f}" y="{axis_y + 16:.0f}" '
                     f'text-anchor="middle" class="ax">{clock(s)}</text>')
    parts.append("</svg>")
    return "".join(parts)
