"""The words and figures of a scorecard, shared by the on-screen view and the PDF export.

Both read the same schema-1 document and must say the same thing: which checks went well,
which to change, how an evidence line reads, how a metric is labelled and in what unit.
Kept free of Qt so it is plain to test. The HTML report labels its metrics from here too,
so the three renderings (window, PDF, HTML) name every figure alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from desktop.reports.html_svg import clock, finite

__all__ = ["LEARN", "CategoryTally", "EvidenceLine", "MetricRow", "split_checks",
           "learn_tallies", "evidence_lines", "metric_groups", "band", "call_title",
           "call_date", "call_facts", "score_of", "NOT_SCORED", "METRIC_GROUPS", "metric_value",
           "report_notes", "redaction_summary"]

LEARN = ("Listen", "Empathize", "Apologize", "Resolve", "Now")
NOT_SCORED = "not scored"
_DASH = "\u2014"

# (group, [(metric key, human label, unit)]); unit is pct, s, wpm or n.
METRIC_GROUPS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Conversation", (
        ("agent_talk_ratio", "Agent talk share", "pct"),
        ("agent_speech_s", "Agent speaking time", "s"),
        ("customer_speech_s", "Customer speaking time", "s"),
        ("agent_wpm", "Agent speaking rate", "wpm"),
        ("agent_words", "Agent words", "n"),
        ("customer_words", "Customer words", "n"))),
    ("Listening and timing", (
        ("interruptions", "Agent interruptions", "n"),
        ("customer_interruptions", "Customer interruptions", "n"),
        ("longest_customer_turn_s", "Longest customer turn", "s"),
        ("mean_response_gap_s", "Average wait for an answer", "s"),
        ("max_response_gap_s", "Longest wait for an answer", "s"),
        ("longest_silence_s", "Longest silence", "s"),
        ("dead_air_s", "Dead air", "s"))),
    ("Voice and prompts", (
        ("raised_voice_s", "Raised voice", "s"),
        ("events", "Moments flagged", "n"),
        ("prompts_shown", "Prompts shown live", "n"))),
)


_REDACTED_NAMES = {
    "card_number": ("card number", "card numbers"),
    "security_code": ("security code", "security codes"),
    "expiry_date": ("expiry date", "expiry dates"),
    "ssn": ("social security number", "social security numbers"),
    "date_of_birth": ("date of birth", "dates of birth"),
    "bank_account": ("account number", "account numbers"),
    "routing_number": ("routing number", "routing numbers"),
    "email": ("email address", "email addresses"),
    "phone_number": ("phone number", "phone numbers"),
    "name": ("name", "names"),
    "postal_address": ("postal address", "postal addresses"),
}


def redaction_summary(doc: Mapping[str, Any]) -> str | None:
    """"Taken out of the transcript: 1 card number, 2 security codes." (None: nothing)."""
    counts: dict[str, int] = {}
    for r in doc.get("redactions") or []:
        if isinstance(r, Mapping) and r.get("kind") in _REDACTED_NAMES:
            counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    if not counts:
        return None
    parts = [f"{n} {_REDACTED_NAMES[k][n != 1]}" for k, n in counts.items()]
    audio = " and silenced in the kept audio" if doc.get("audio_silenced") else ""
    return (f"Personal data taken out of the transcript{audio}: " + ", ".join(parts)
            + " (shown as [card number] and the like)")


def report_notes(doc: Mapping[str, Any]) -> list[str]:
    """The notes every rendering of a call shows: the call's, the scorecard's, and what
    was redacted (or that payment data was not, which the call's own notes say)."""
    card = doc.get("scorecard") if isinstance(doc.get("scorecard"), Mapping) else {}
    notes = [str(n) for n in [*(doc.get("notes") or []), *(card.get("notes") or [])]]
    summary = redaction_summary(doc)
    return list(dict.fromkeys(notes + ([summary] if summary else [])))


def metric_value(value: Any, unit: str) -> str:
    v = finite(value)
    if v is None:
        return _DASH
    if unit == "pct":
        return f"{100 * v:.0f}%"
    if unit == "s":
        return f"{v:.1f} s"
    if unit == "wpm":
        return f"{v:.0f} wpm"
    return f"{v:.0f}" if v == int(v) else f"{v:.2f}"


@dataclass(frozen=True)
class CategoryTally:
    """One L.E.A.R.N. bar: checks passed of those judged, and the weighted share."""

    name: str
    passed: int
    total: int
    earned: float
    possible: float

    @property
    def fraction(self) -> float | None:
        """Share of the category's weight earned; None when nothing in it was judged."""
        return self.earned / self.possible if self.possible > 0 else None


@dataclass(frozen=True)
class EvidenceLine:
    """A moment behind a check: `quoted` when the text is words said on the call."""

    t: float | None
    text: str
    quoted: bool

    @property
    def clock(self) -> str:
        return clock(self.t)

    def display(self) -> str:
        """'0:17 “I am so sorry”' for speech, '0:14 you took 4.0 s to answer' for a figure."""
        body = f"\u201c{self.text}\u201d" if self.quoted else self.text
        return f"{self.clock} {body}".strip()


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    value: str


def score_of(doc: Mapping[str, Any]) -> int | None:
    score = finite((doc.get("scorecard") or {}).get("score"))
    return None if score is None else int(round(score))


def band(fraction: float | None) -> str:
    """'good', 'warn' or 'bad', with the HTML report's cut-offs (0.8 and 0.5)."""
    if fraction is None:
        return "none"
    return "good" if fraction >= 0.8 else "warn" if fraction >= 0.5 else "bad"


def split_checks(doc: Mapping[str, Any]) -> tuple[list[dict], list[dict], list[dict]]:
    """(went well, to change, not judged). What to change puts the weightiest first."""
    checks = list((doc.get("scorecard") or {}).get("checks") or [])
    judged = [c for c in checks if c.get("applicable", True)]
    good = [c for c in judged if c.get("passed")]
    bad = sorted((c for c in judged if not c.get("passed")),
                 key=lambda c: -(finite(c.get("weight")) or 1.0))
    na = [c for c in checks if not c.get("applicable", True)]
    return good, bad, na


def learn_tallies(doc: Mapping[str, Any]) -> list[CategoryTally]:
    """The five L.E.A.R.N. categories in order (plus any other the document has)."""
    card = doc.get("scorecard") or {}
    breakdown = card.get("breakdown") or {}
    checks = card.get("checks") or []
    names = list(LEARN) + [c for c in breakdown if c not in LEARN]
    out = []
    for name in names:
        mine = [c for c in checks if c.get("category") == name and c.get("applicable", True)]
        entry = breakdown.get(name) or {}
        if mine:
            passed, total = sum(1 for c in mine if c.get("passed")), len(mine)
        else:
            passed, total = len(entry.get("passed") or []), \
                len(entry.get("passed") or []) + len(entry.get("failed") or [])
        out.append(CategoryTally(name, passed, total, finite(entry.get("earned")) or 0.0,
                                 finite(entry.get("possible")) or 0.0))
    return out


def evidence_lines(check: Mapping[str, Any],
                   transcript: Sequence[Mapping[str, Any]]) -> list[EvidenceLine]:
    """The check's evidence; text found in the transcript is speech and gets quotes, a
    rule's measured reason ("you took 4.0 s to answer") does not."""
    spoken = [str(u.get("text") or "").casefold() for u in transcript]
    out = []
    for ev in check.get("evidence") or []:
        text = str(ev.get("text") or "").strip()
        quoted = bool(text) and any(text.casefold() in line for line in spoken)
        out.append(EvidenceLine(finite(ev.get("t")), text, quoted))
    return out


def metric_groups(doc: Mapping[str, Any]) -> list[tuple[str, list[MetricRow]]]:
    """The metrics the document has, grouped and labelled with units as in the HTML."""
    metrics = (doc.get("scorecard") or {}).get("metrics") or {}
    known = {key for _, rows in METRIC_GROUPS for key, _, _ in rows}
    extra = tuple((k, k.replace("_", " ").capitalize(),
                   "s" if k.endswith("_s") else "pct" if k.endswith("_ratio") else "n")
                  for k in metrics if k not in known)
    out = []
    for group, rows in (*METRIC_GROUPS, ("Other", extra)):
        shown = [MetricRow(key, label, metric_value(metrics[key], unit))
                 for key, label, unit in rows if key in metrics]
        if shown:
            out.append((group, shown))
    return out


def call_title(doc: Mapping[str, Any]) -> str:
    recording = str(doc.get("recording") or "")
    return PurePath(recording).name or recording or "Call"


def call_date(doc: Mapping[str, Any]) -> datetime.datetime | None:
    """When the call took place, if the document says: the history store's
    `history.started_at`, or a top-level `recorded_at`, `started_at` or `date` (ISO 8601).
    Schema 1 itself carries no date."""
    history = doc.get("history") if isinstance(doc.get("history"), Mapping) else {}
    candidates = [history.get("started_at")] + [doc.get(k) for k in
                                                ("recorded_at", "started_at", "date")]
    for value in candidates:
        if isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str) and value:
            try:
                return datetime.datetime.fromisoformat(value)
            except ValueError:
                continue
    return None


def call_facts(doc: Mapping[str, Any], when: datetime.datetime | None = None) -> list[str]:
    """Short facts for the header: date, length, channels."""
    facts = []
    when = when or call_date(doc)
    if when is not None:
        facts.append(when.strftime("%Y-%m-%d %H:%M"))
    duration = finite(doc.get("duration_s"))
    if duration is not None:
        facts.append(f"{clock(duration)} long")
    if doc.get("channels") == "agent-only":
        facts.append("agent only (customer not recorded)")
    return facts
