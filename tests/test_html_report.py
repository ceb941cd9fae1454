"""The self-contained HTML scorecard: everything a person needs, nothing fetched."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from desktop.html_report import render_html

CHECKS = [("greeting", True), ("used_name", True), ("no_interruptions", False),
          ("calm_voice", True), ("apologized", False), ("empathized", True),
          ("summarized", False), ("next_steps", True), ("offered_more_help", True),
          ("thanked", True), ("no_calm_down", False), ("no_blame", True),
          ("responsive", True)]


def report(agent_only: bool = False, score: int | None = 64) -> dict:
    return {
        "schema": 1, "recording": "calls/angry <call>.wav", "duration_s": 62.0,
        "agent_channel": "left", "channels": "agent-only" if agent_only else "stereo",
        "model": "tiny.en", "notes": ["mono recording: analysing the agent only"]
        if agent_only else [], "skipped_kinds": ["interruption"] if agent_only else [],
        "transcript": [
            {"speaker": "agent", "start": 1.0, "end": 3.0, "text": "Thank you for calling."},
            {"speaker": "customer", "start": 4.0, "end": 9.0,
             "text": "This is ridiculous <script>alert(1)</script>"},
            {"speaker": "agent", "start": 8.0, "end": 11.0, "text": "Calm down, sir."},
        ],
        "speech_turns": [{"speaker": "agent", "start": 1.0, "end": 3.0},
                         {"speaker": "customer", "start": 4.0, "end": 9.0},
                         {"speaker": "agent", "start": 8.0, "end": 11.0}],
        "events": [
            {"kind": "interruption", "speaker": "agent", "start": 8.0, "end": 11.0,
             "prompt": "Listen - let them finish", "reason": "you kept talking for 3.0 s",
             "prompted": True},
            {"kind": "forbidden_phrase", "speaker": "agent", "start": 8.0, "end": 8.6,
             "prompt": "Acknowledge how they feel instead", "reason": 'you said "calm down"',
             "prompted": False}],
        "scorecard": {
            "score": score,
            "checks": [{"id": i, "passed": p, "applicable": True, "category": "Listen",
                        "label": f"Label {i}", "detail": f"detail {i}", "weight": 1.0,
                        "evidence": [{"t": 8.0, "text": "Calm down, sir."}]}
                       for i, p in CHECKS],
            "metrics": {"agent_talk_ratio": 0.5, "interruptions": 1, "agent_wpm": None},
            "breakdown": {"Listen": {"earned": 8, "possible": 13, "passed": [], "failed": []}},
            "notes": []},
    }


TRACKS = {"t": [0.5 * i for i in range(124)], "agent_dbfs": [-30.0] * 124,
          "customer_dbfs": [-35.0] * 124, "agent_pitch_hz": [120.0, None] * 62}


def svg_of(page: str) -> ET.Element:
    match = re.search(r"<svg.*?</svg>", page, re.S)
    assert match, "no timeline"
    # The SVG must be well-formed XML: an unclosed element hides everything after it.
    return ET.fromstring(match.group(0).replace("<svg ", "<svg xmlns='x' ", 1))


def test_the_page_holds_score_checks_events_and_transcript() -> None:
    page = render_html(report(), TRACKS)
    assert "64<small>/100" in page
    for check_id, _ in CHECKS:
        assert f"Label {check_id}" in page
    assert "Listen - let them finish" in page and "Acknowledge how they feel" in page
    assert "Thank you for calling." in page and "held back" in page
    assert "Interruptions" in page and "\u2014" in page  # a null metric shows a dash
    svg = svg_of(page)
    markers = [g for g in svg.iter("{x}g") if g.get("class") == "marker"]
    assert len(markers) == 2
    assert len(list(svg.iter("{x}polyline"))) == 2 and list(svg.iter("{x}circle"))


def test_user_text_is_escaped_and_nothing_is_fetched() -> None:
    page = render_html(report(), TRACKS)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "angry &lt;call&gt;.wav" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_without_tracks_the_turns_and_markers_still_show() -> None:
    svg = svg_of(render_html(report()))
    assert len(list(svg.iter("{x}rect"))) == 3
    assert not list(svg.iter("{x}polyline"))


def test_agent_only_and_no_speech() -> None:
    page = render_html(report(agent_only=True))
    assert "agent only" in page and "Not computed without the customer" in page
    assert "No speech found" in render_html(report(score=None))
