"""The self-contained HTML scorecard: everything a person needs on one page, nothing fetched.

The report is a hand-written schema-1 document shaped like `callcoach analyze` output (a
billing complaint: 6 utterances, 3 events, the 13 checks, a metric that is null), so
these tests need no audio and no model. The page is parsed with the standard library's
HTMLParser, not searched as text, wherever structure matters.
"""

from __future__ import annotations

import copy
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from desktop.reports.html_report import render_html

_VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "wbr", "source"}

UTTERANCES = [
    ("agent", 1.2, 4.8, "Thank you for calling Northwind, my name is Sam."),
    ("customer", 5.6, 13.9, "Hi, this is Maria. I was charged twice for my plan this month."),
    ("agent", 12.8, 15.9, "Okay, can I have your account number?"),
    ("customer", 16.4, 18.0, "It is 4 4 2 1 9."),
    ("agent", 22.7, 27.5, "I am so sorry about the double charge, Maria."),
    ("agent", 28.1, 34.0, "I have issued the refund; you will see it within three days."),
]

EVENTS = [
    {"kind": "prompt_apologize", "speaker": "agent", "start": 5.6, "end": 13.9,
     "prompt": "Apologize", "reason": 'the customer said "charged twice" at 9.1 s; no apology yet',
     "detected_at": 13.9, "priority": 60, "evidence": "charged twice", "measures": {},
     "prompted": True},
    {"kind": "interruption", "speaker": "agent", "start": 12.8, "end": 15.9,
     "prompt": "Listen - let them finish",
     "reason": "you started over the customer and kept talking for 3.1 s (1.1 s of overlap)",
     "detected_at": 13.7, "priority": 90, "evidence": "", "measures": {"overlap_s": 1.1},
     "prompted": True},
    {"kind": "slow_response", "speaker": "agent", "start": 18.0, "end": 22.7,
     "prompt": "Let them know you heard them", "reason": "the customer waited 4.7 s for an answer",
     "detected_at": 21.0, "priority": 50, "evidence": "", "measures": {"gap_s": 4.7},
     "prompted": False},
]

# id, category, label, passed, applicable, weight, detail, evidence
CHECKS = [
    ("greeting", "Now", "Greeted the caller", True, True, 1.0, "opened the call with a greeting",
     [(1.2, UTTERANCES[0][3])]),
    ("used_name", "Empathize", "Used their name", True, True, 1.0,
     "addressed the customer by name", [(22.7, UTTERANCES[4][3])]),
    ("no_interruptions", "Listen", "Let them finish", False, True, 2.0,
     "talked over the customer", [(12.8, EVENTS[1]["reason"])]),
    ("calm_voice", "Empathize", "Kept a calm voice", True, True, 2.0,
     "voice stayed near your usual level", []),
    ("apologized", "Apologize", "Apologized", True, True, 1.0, "apologized",
     [(22.7, UTTERANCES[4][3])]),
    ("empathized", "Empathize", "Showed empathy", False, True, 1.0,
     "no words acknowledging how the customer felt", []),
    ("summarized", "Listen", "Summarized what they heard", False, True, 1.0,
     "never summarized the customer's points back", []),
    ("next_steps", "Resolve", "Told them what happens next", True, True, 1.5,
     "told them what happens next and when", [(28.1, UTTERANCES[5][3])]),
    ("offered_more_help", "Now", "Asked if there is anything else", False, True, 1.0,
     "never asked if there was anything else", []),
    ("thanked", "Now", "Thanked the customer", False, True, 1.0, "never thanked the customer", []),
    ("no_calm_down", "Empathize", 'Never said "calm down"', True, True, 2.0,
     "never told the customer to calm down", []),
    ("no_blame", "Apologize", "No blame or deflection", True, True, 1.5,
     'no blame, no "company policy" deflection', []),
    ("responsive", "Listen", "Answered promptly", False, False, 1.0,
     "judged only on calls longer than a minute", []),
]


def make_report(agent_only: bool = False, no_speech: bool = False) -> dict:
    """A realistic schema-1 document; `agent_only` and `no_speech` give the two variants."""
    checks = [{"id": i, "category": cat, "label": label, "passed": ok and not no_speech,
               "applicable": applicable and not no_speech, "weight": w,
               "detail": "no speech was found" if no_speech else detail,
               "evidence": [] if no_speech else [{"t": t, "text": x} for t, x in ev]}
              for i, cat, label, ok, applicable, w, detail, ev in CHECKS]
    utterances = [] if no_speech else [
        {"speaker": s, "start": a, "end": b, "text": x, "words": []} for s, a, b, x in UTTERANCES
        if not (agent_only and s == "customer")]
    breakdown = {cat: {"earned": sum(c["weight"] for c in checks if c["category"] == cat
                                     and c["applicable"] and c["passed"]),
                       "possible": sum(c["weight"] for c in checks if c["category"] == cat
                                       and c["applicable"]),
                       "passed": [], "failed": []}
                 for cat in ("Listen", "Empathize", "Apologize", "Resolve", "Now")}
    return {
        "schema": 1, "recording": "calls/2024-05-02 billing.wav", "duration_s": 36.4,
        "agent_channel": "left", "channels": "agent-only" if agent_only else "stereo",
        "model": "tiny.en",
        "notes": ["mono recording: only the agent was analysed"] if agent_only else [],
        "skipped_kinds": ["interruption", "slow_response"] if agent_only else [],
        "transcript": utterances,
        "speech_turns": [{"speaker": u["speaker"], "start": u["start"], "end": u["end"]}
                         for u in utterances],
        "events": [] if no_speech else [e for e in copy.deepcopy(EVENTS)
                                        if not (agent_only and e["kind"] != "prompt_apologize")],
        "scorecard": {
            "score": None if no_speech else 64, "checks": checks, "breakdown": breakdown,
            "metrics": {"agent_talk_ratio": 0.46, "interruptions": 1,
                        "customer_interruptions": 0, "raised_voice_s": 0.0,
                        "longest_customer_turn_s": 8.3, "dead_air_s": 0.0,
                        "longest_silence_s": 4.7, "mean_response_gap_s": 1.43,
                        "max_response_gap_s": 4.7, "agent_wpm": None, "agent_words": 48,
                        "customer_words": 19, "events": 3, "prompts_shown": 2},
            "notes": ["no speech was found"] if no_speech else []},
    }


def make_tracks(agent_only: bool = False) -> dict[str, list]:
    """Loudness and pitch at 5 points a second: loud inside each party's utterances."""
    t = [round(0.1 + 0.2 * i, 2) for i in range(182)]

    def speaking(who: str, x: float) -> bool:
        return any(s == who and a <= x <= b for s, a, b, _ in UTTERANCES)

    tracks: dict[str, list] = {
        "t": t,
        "agent_dbfs": [-22.0 - 3 * math.sin(x) if speaking("agent", x) else -68.0 for x in t],
        "agent_pitch_hz": [140 + 15 * math.sin(x) if speaking("agent", x) else None for x in t],
    }
    tracks["agent_pitch_hz"][10] = float("nan")  # what numpy leaves where nothing is voiced
    if not agent_only:
        tracks["customer_dbfs"] = [-26.0 if speaking("customer", x) else -66.0 for x in t]
    return tracks


class Page(HTMLParser):
    """Parses the page, checking that every element is closed in order, and keeps what the
    tests look at: ids, links, elements by class, the text and the SVG source."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.classes: dict[str, int] = {}
        self.text: list[str] = []
        self.errors: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attrs(attrs)
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attrs(attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] not in ("style", "title"):
            self.text.append(data)

    def _attrs(self, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        for key in ("href", "src"):
            if a.get(key) is not None:
                self.links.append(a[key] or "")
        for cls in (a.get("class") or "").split():
            self.classes[cls] = self.classes.get(cls, 0) + 1

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(html: str) -> Page:
    page = Page(html)
    assert not page.errors, page.errors[:5]
    assert not page.stack, f"unclosed: {page.stack}"
    return page


def svg_of(html: str) -> ET.Element:
    """The timeline as XML: an unclosed SVG element would hide everything after it."""
    match = re.search(r'<svg class="timeline".*?</svg>', html, re.S)
    assert match, "no timeline"
    return ET.fromstring(match.group(0))


def markers(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter("g") if g.get("class") == "marker"]


def test_the_page_holds_score_checks_metrics_events_and_transcript() -> None:
    html = render_html(make_report(), make_tracks())
    page = parse(html)
    text = page.plain
    assert html.startswith("<!doctype html>")
    assert re.search(r'class="num">64<', html)
    assert "2024-05-02 billing.wav" in text and "0:36" in text and "tiny.en" in text
    for _, category, label, *_ in CHECKS:
        assert label in text
        assert category in text
    assert page.classes["check"] == 13
    assert page.classes["pass"] == 7 and page.classes["fail"] == 5 and page.classes["na"] == 1
    for e in EVENTS:
        assert e["prompt"] in text and e["reason"] in text
    assert page.classes["utt"] == 6 and page.classes["cue"] == 3
    for _, _, _, words in UTTERANCES:
        assert words in text
    assert "No, held back" in text


def test_the_timeline_draws_loudness_pitch_turns_and_one_marker_per_event() -> None:
    html = render_html(make_report(), make_tracks())
    svg = svg_of(html)
    assert len(markers(svg)) == len(EVENTS)
    titles = [g.find("title").text for g in markers(svg)]
    assert all(e["prompt"] in t and e["reason"] in t for e, t in zip(EVENTS, titles, strict=True))
    assert [p.get("class") for p in svg.iter("path")].count("loud") == 2
    assert any(p.get("class") == "pitch" for p in svg.iter("path"))
    assert len([r for r in svg.iter("rect") if r.get("class") == "turn"]) == 6


def test_without_tracks_the_turns_and_markers_still_show() -> None:
    html = render_html(make_report())
    parse(html)
    svg = svg_of(html)
    assert len(markers(svg)) == 3
    assert len([r for r in svg.iter("rect") if r.get("class") == "turn"]) == 6
    assert not [p for p in svg.iter("path") if p.get("class") in ("loud", "pitch")]


def test_metrics_have_human_labels_and_units() -> None:
    text = parse(render_html(make_report())).plain
    assert "Agent talk share 46%" in text
    assert "Average wait for an answer 1.4 s" in text
    assert "Agent speaking rate \u2014" in text  # null shows a dash, not "None"
    assert "Agent interruptions 1" in text
    assert "None" not in text and "nan" not in text.lower().split()


def test_evidence_quotes_words_and_states_figures_and_links_to_the_transcript() -> None:
    html = render_html(make_report(), make_tracks())
    page = parse(html)
    assert f"\u201c{UTTERANCES[4][3]}\u201d" in page.plain
    assert f"\u201c{EVENTS[1]['reason']}" not in page.plain  # a measured figure, not speech
    assert "0:22" in page.plain
    internal = [h for h in page.links if h.startswith("#")]
    assert "#t-22.7" in internal
    assert set(h[1:] for h in internal) <= set(page.ids), "a link points nowhere"
    assert len(set(page.ids)) == len(page.ids)


def test_event_badges_sit_before_the_line_they_are_about() -> None:
    html = render_html(make_report())
    # The interruption belongs to the agent's line that talked over, the slow answer to the
    # line that ended the silence, the apology prompt to the complaint.
    placed = {}
    for badge in re.finditer(r'class="badge"[^>]*>([^<]+)</span>', html):
        line = re.search(r'class="utt [a-z]+" id="([^"]+)"', html[badge.end():])
        assert line
        placed[badge.group(1)] = line.group(1)
    assert placed == {"Apologize": "t-5.6", "Listen - let them finish": "t-12.8",
                      "Let them know you heard them": "t-22.7"}


def test_agent_only_recording_renders_plainly() -> None:
    html = render_html(make_report(agent_only=True), make_tracks(agent_only=True))
    page = parse(html)
    assert "Agent only" in page.plain
    assert "mono recording: only the agent was analysed" in page.plain
    assert "Not looked for without the customer's channel: interruption, slow response" \
        in page.plain
    svg = svg_of(html)
    assert [p.get("class") for p in svg.iter("path")].count("loud") == 1
    assert "Customer" not in [t.text for t in svg.iter("text")]
    assert len(markers(svg)) == 1


def test_no_speech_says_so_instead_of_a_score() -> None:
    html = render_html(make_report(no_speech=True))
    page = parse(html)
    assert "No speech found" in page.plain and "out of 100" not in page.plain
    assert "Nothing was transcribed." in page.plain
    assert page.classes["na"] == 13 and page.classes.get("pass", 0) == 0
    assert len(markers(svg_of(html))) == 0


def test_user_text_is_escaped() -> None:
    doc = make_report()
    doc["recording"] = "calls/<img src=x onerror=alert(1)>.wav"
    doc["transcript"][1]["text"] = "This is ridiculous <script>alert('hi')</script> & more"
    doc["events"][0]["reason"] = 'said "<b>charged</b>"'
    doc["scorecard"]["checks"][0]["label"] = "Greeted <i>the</i> caller"
    html = render_html(doc, make_tracks())
    page = parse(html)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;" in html and "&lt;b&gt;charged" in html
    assert "This is ridiculous <script>alert('hi')</script> & more" in page.plain
    assert "<i>the</i>" not in html
    svg_of(html)  # the escaped reason in the marker title keeps the SVG well-formed


@pytest.mark.parametrize("tracks", [None, make_tracks()])
def test_nothing_is_fetched_from_anywhere(tracks: dict | None) -> None:
    html = render_html(make_report(), tracks)
    page = parse(html)
    assert all(link.startswith("#") for link in page.links), page.links
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(" not in html and "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
