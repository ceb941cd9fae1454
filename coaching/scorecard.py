"""The scorecard an agent reads after a call: checks with evidence, metrics, a score.

Every check says in one line why it passed or failed and points at the moment (the words
and their time, or the measured figure). The score is 100 x the weight of the applicable
checks passed over the weight of all applicable checks, rounded half up, broken down by
L.E.A.R.N. (Listen, Empathize, Apologize, Resolve, Now).

A check that cannot be judged is not applicable rather than guessed, and does not count:

- with no speech at all, nothing is (score None, note "no speech was found");
- with speech but no transcript, the phrase checks are not;
- without the customer's channel (agent-only), the checks about their side are not;
- a check whose situation never arose is *not needed*, says why, and does not count:
  `apologized` needs a complaint (the playbook's complaint phrases: something went
  wrong), `empathized` needs feelings (distress phrases, or the customer's raised
  voice), `summarized` needs the customer to have talked for `summary_after_customer_s`.
  Apologizing to a content customer neither earns nor costs points, so the score does
  not reward sprinkling "sorry" over a calm call; the check still shows the evidence.
  A failed check's evidence is what made it needed (the complaint, the upset words). In
  agent-only mode the reason cannot be known, so they are not judged either.
- `used_name` needs a name: one the customer gave ("my name is Maria"), or one the agent
  used with a title ("Ms. Lopez", which passes even when the customer never said it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from coaching.acknowledgement import substantive
from coaching.metrics import call_metrics
from coaching.phrase_rules import Said, find_said, forbidden_set, said_at
from coaching.playbook import Playbook, normalize_text
from coaching.redaction_config import MARKERS
from coaching.talk_speed import talk_turns
from coaching.timeline import AGENT, CUSTOMER, CallTimeline, Event, Utterance

__all__ = ["CATEGORIES", "CHECKS", "Evidence", "Check", "Scorecard", "build_scorecard"]

CATEGORIES = ("Listen", "Empathize", "Apologize", "Resolve", "Now")
# id -> (L.E.A.R.N. category, label, weight). The order is the order on the card.
CHECKS: dict[str, tuple[str, str, float]] = {
    "greeting": ("Now", "Greeted the caller", 1.0),
    "used_name": ("Empathize", "Used their name", 1.0),
    "no_interruptions": ("Listen", "Let them finish", 2.0),
    "calm_voice": ("Empathize", "Kept a calm voice", 2.0),
    "apologized": ("Apologize", "Apologized", 1.5),
    "empathized": ("Empathize", "Showed empathy", 1.5),
    "summarized": ("Listen", "Summarized what they said", 1.0),
    "next_steps": ("Resolve", "Said what happens next, and when", 1.5),
    "offered_more_help": ("Now", "Asked if there is anything else", 1.0),
    "thanked": ("Now", "Thanked the customer", 1.0),
    "no_calm_down": ("Empathize", 'Never said "calm down"', 2.0),
    "no_blame": ("Apologize", "No blame or deflection", 1.5),
    "responsive": ("Now", "Kept the line alive", 1.0),
}
_NEEDS_TRANSCRIPT = {"greeting", "used_name", "apologized", "empathized", "summarized",
                     "next_steps", "offered_more_help", "thanked", "no_calm_down", "no_blame"}
_NEEDS_CUSTOMER = "needs the customer's channel"
_MAX_EVIDENCE = 3
_STEP_TIME_WINDOW_S = 20.0  # a time said this soon after a next step goes with it
# Words the name patterns can catch that are not names ("hey, it's ridiculous").
_NOT_NAMES = frozenset("""
a about again all also always an and any appointment account back because broken but
by called calling can cant could done down for from fine going good great having here
how i if im in is it its just looking me my never nice no not nothing now of okay ok on
one only or order out over please problem really right ridiculous service so someone
sorry speaking still sure that the there this today tomorrow too trying up very waiting
was well what when who why with wrong yes you your
""".split())


@dataclass(frozen=True)
class Evidence:
    """A moment that supports a check: call time (s), the words or figure, and for words
    why they count (`why`: the phrase set's pattern, or the example sentence they were
    close to and how close)."""

    t: float
    text: str
    why: str = ""


@dataclass(frozen=True)
class Check:
    """One judged behaviour. `passed` is meaningful only when `applicable`; a check that
    is not applicable was either `not_needed` (its situation never arose) or could not be
    judged (no transcript, no customer channel)."""

    id: str
    passed: bool
    category: str
    label: str
    detail: str
    evidence: tuple[Evidence, ...] = ()
    applicable: bool = True
    weight: float = 1.0
    not_needed: bool = False

    @property
    def status(self) -> str:
        """"passed", "failed", "not needed" or "not judged"."""
        if self.applicable:
            return "passed" if self.passed else "failed"
        return "not needed" if self.not_needed else "not judged"


@dataclass(frozen=True)
class Scorecard:
    """The judged call: `score` is None when nothing could be judged."""

    score: int | None
    checks: tuple[Check, ...]
    metrics: dict[str, Any]
    breakdown: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def check(self, check_id: str) -> Check:
        return next(c for c in self.checks if c.id == check_id)

    def to_dict(self) -> dict[str, Any]:
        """The `scorecard` object of the analyze JSON contract (schema 1)."""
        return {
            "score": self.score,
            "checks": [{"id": c.id, "passed": c.passed, "applicable": c.applicable,
                        "status": c.status, "category": c.category, "label": c.label,
                        "detail": c.detail, "weight": c.weight,
                        "evidence": [{"t": round(e.t, 2), "text": e.text}
                                     | ({"why": e.why} if e.why else {})
                                     for e in c.evidence]}
                       for c in self.checks],
            "metrics": dict(self.metrics),
            "breakdown": {k: dict(v) for k, v in self.breakdown.items()},
            "notes": list(self.notes),
        }


def _make(cid: str, passed: bool, detail: str, evidence: Sequence[Evidence] = (),
          applicable: bool = True, not_needed: bool = False) -> Check:
    category, label, weight = CHECKS[cid]
    return Check(cid, passed, category, label, detail, tuple(evidence[:_MAX_EVIDENCE]),
                 applicable and not not_needed, weight, not_needed)


def _ev(said: Said) -> Evidence:
    return Evidence(round(said.start, 2), said.quote, said.how)


def _event_ev(event: Event) -> Evidence:
    return Evidence(round(event.start, 2), event.reason)


class _Call:
    """One call's transcript and events, and the questions the checks ask of them."""

    def __init__(self, timeline: CallTimeline, events: Sequence[Event], playbook: Playbook):
        self.tl = timeline
        self.pb = playbook
        self.events = list(events)
        self.agent = sorted(timeline.utterances_of(AGENT), key=lambda u: u.start)
        self.customer = sorted(timeline.utterances_of(CUSTOMER), key=lambda u: u.start)

    def said(self, name: str, utterances: Sequence[Utterance]) -> list[Said]:
        found = (find_said(self.pb, name, u) for u in utterances)
        return [s for s in found if s is not None]

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def complaints(self) -> list[Evidence]:
        """What the customer said went wrong: the reason an apology is owed."""
        return [Evidence(round(s.start, 2), f'they said "{s.quote}"')
                for s in self.said("complaint", self.customer)]

    def feelings(self) -> list[Evidence]:
        """The customer's upset words and raised voice: the reason empathy is owed."""
        out = [Evidence(round(s.start, 2), f'they said "{s.quote}"')
               for s in self.said("distress", self.customer)]
        out += [Evidence(round(e.start, 2), "they raised their voice: " + e.reason)
                for e in self.of_kind("customer_raised_voice")]
        return sorted(out, key=lambda e: e.t)

    def _names(self, name_set: str, u: Utterance) -> list[tuple[str, Said]]:
        """Names the set captures in `u`, without common words and, where the transcript
        has Whisper's casing, only capitalized ones."""
        norm = normalize_text(u.text)
        cased = u.text != u.text.lower() and u.text != u.text.upper()
        capitalized = {normalize_text(w) for w in u.text.split() if w[:1].isupper()}
        out = []
        for pat in self.pb.patterns(name_set):
            for m in pat.finditer(norm):
                name = (m.groupdict().get("name") or "").strip()
                if (len(name) > 1 and name not in _NOT_NAMES
                        and (not cased or name in capitalized)):
                    out.append((name, said_at(u, m)))
        return out

    def customer_name(self) -> tuple[str, Said] | None:
        for u in self.customer:
            names = self._names("name_intro", u)
            if names:
                return names[0]
            redacted = _redacted_name(u)
            if redacted is not None:  # the name they gave, taken out of the transcript
                return _NAME_MARKER, redacted
        return None

    def name_used(self, name: str | None) -> list[Said]:
        """Agent utterances that address the customer: their name, or a title and name."""
        out = []
        for u in self.agent:
            titled = self._names("name_address", u)
            own = {n for n, _ in self._names("name_intro", u)}  # "my name is ..." is theirs
            if titled:
                out.append(titled[0][1])
            elif name == _NAME_MARKER:  # redacted: the customer's name wherever it is said
                redacted = _redacted_name(u)
                if redacted is not None:
                    out.append(redacted)
            elif name and name not in own:
                m = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", normalize_text(u.text))
                if m:
                    out.append(said_at(u, m))
        return out


def _greeting(c: _Call) -> Check:
    limit = c.pb.thresholds.greeting_within_s
    said = c.said("greeting", c.agent)
    early = [s for s in said if s.start <= limit]
    if early:
        return _make("greeting", True, "opened the call with a greeting", [_ev(early[0])])
    if said:
        return _make("greeting", False, f"greeted only at {said[0].start:.0f} s (expected "
                     f"within {limit:.0f} s)", [_ev(said[0])])
    return _make("greeting", False, f"no greeting in the first {limit:.0f} s")


_NAME_MARKER = MARKERS["name"]


def _redacted_name(u: Utterance) -> Said | None:
    """Where the customer's redacted name stands in `u` (the redactor puts the marker
    wherever either party says the name the customer gave)."""
    if _NAME_MARKER not in u.text:
        return None
    word = next((w for w in u.words if w.text.startswith(_NAME_MARKER)), None)
    start, end = (word.start, word.end) if word is not None else (u.start, u.end)
    sentence = next(s for s in re.split(r"(?<=[.!?])\s+", u.text) if _NAME_MARKER in s)
    return Said(_NAME_MARKER, sentence.strip(), start, end, "their name, redacted")


def _used_name(c: _Call) -> Check:
    given = c.customer_name()
    used = c.name_used(given[0] if given else None)
    if used:
        return _make("used_name", True, f'addressed the customer by name: "{used[0].quote}"',
                     [_ev(s) for s in used])
    if given:
        name, said = given
        shown = "redacted" if name == _NAME_MARKER else name.title()
        return _make("used_name", False, f"the customer gave their name ({shown}, at "
                     f"{said.start:.0f} s) but it was never used", [_ev(said)])
    if not c.tl.has_customer:
        return _make("used_name", False, _NEEDS_CUSTOMER + " to hear their name",
                     applicable=False)
    return _make("used_name", False, "the customer never gave a name", applicable=False)


def _interruptions(c: _Call) -> Check:
    if not c.tl.has_customer:
        return _make("no_interruptions", False, _NEEDS_CUSTOMER, applicable=False)
    found = c.of_kind("interruption")
    if not found:
        return _make("no_interruptions", True, "never talked over the customer")
    return _make("no_interruptions", False, f"talked over the customer {len(found)} "
                 f"time{'s' if len(found) > 1 else ''}", [_event_ev(e) for e in found])


def _calm_voice(c: _Call) -> Check:
    found = c.of_kind("raised_voice")
    if not found:
        return _make("calm_voice", True, "your voice stayed near your usual level")
    peak = max(e.measures.get("excess_db", 0.0) for e in found)
    return _make("calm_voice", False, f"your voice rose up to +{peak:.1f} dB over your usual "
                 f"level ({len(found)} time{'s' if len(found) > 1 else ''})",
                 [_event_ev(e) for e in found])


def _owed(c: _Call, cid: str, sets: Sequence[str], reasons: Callable[[], list[Evidence]],
          not_needed: str, good: str, bad: str) -> Check:
    """apologized / empathized: judged only when the customer gave a reason."""
    done = sorted((s for name in sets for s in c.said(name, c.agent)), key=lambda s: s.start)
    evidence = [_ev(s) for s in done]
    if not c.tl.has_customer:
        return _make(cid, bool(done), _NEEDS_CUSTOMER + " to know whether it was needed",
                     evidence, applicable=False)
    why = reasons()
    if not why:
        return _make(cid, bool(done), "not needed: " + not_needed, evidence, not_needed=True)
    if done:
        return _make(cid, True, good, evidence)
    first = why[0]
    return _make(cid, False, f"{bad} ({first.text} at {first.t:.0f} s)", why)


def _apologized(c: _Call) -> Check:
    return _owed(c, "apologized", ("apology",), c.complaints,
                 "the customer did not complain (nothing went wrong to apologize for)",
                 "apologized for the trouble", "the customer complained and heard no apology")


def _empathized(c: _Call) -> Check:
    return _owed(c, "empathized", ("empathy",), c.feelings,
                 "the customer did not sound upset", "acknowledged how the customer felt",
                 "no words acknowledged how the customer felt")


def _said_by_agent(c: _Call, cid: str, phrases: str, good: str, bad: str) -> Check:
    """Passed when the agent said any phrase of the set, with every time they did."""
    said = c.said(phrases, c.agent)
    return _make(cid, bool(said), good if said else bad, [_ev(s) for s in said])


def _summarized(c: _Call) -> Check:
    """Needed once the customer has told enough story to play back: talk turns of at
    least `summary_turn_s` adding up to `summary_after_customer_s`, as the prompt judges."""
    th = c.pb.thresholds
    turns = talk_turns(c.tl.utterances, CUSTOMER, th.talk_pause_s,
                       lambda u: substantive(c.pb, u.text))
    story = sum(t.talk_s for t in turns if t.talk_s >= th.summary_turn_s)
    check = _said_by_agent(c, "summarized", "summary",
                           "played the customer's points back to them",
                           "never summarized the customer's points back")
    if story >= th.summary_after_customer_s or not c.tl.has_customer:
        return check
    return _make("summarized", check.passed, f"not needed: the customer told {story:.0f} s "
                 f"of story (a summary is due after {th.summary_after_customer_s:.0f} s)",
                 check.evidence, not_needed=True)


def _next_steps(c: _Call) -> Check:
    """A next step and a time that goes with it ("today" in "how can I help you today" is
    not an estimate), or a step already done (`done_now`: no "when" is owed): said in the
    same utterance or within `_STEP_TIME_WINDOW_S` after."""
    steps = [(u, s) for u in c.agent if (s := find_said(c.pb, "next_steps", u))]
    times = [(u, s) for u in c.agent
             if (s := find_said(c.pb, "time_estimate", u) or find_said(c.pb, "done_now", u))]
    for su, step in steps:
        for tu, time in times:
            if tu is su or 0 <= tu.start - su.end <= _STEP_TIME_WINDOW_S:
                return _make("next_steps", True, "told them what happens next and when",
                             [_ev(step)] + ([_ev(time)] if time != step else []))
    if steps:
        return _make("next_steps", False, "said what happens next but not when",
                     [_ev(s) for _, s in steps])
    return _make("next_steps", False, "never told them what happens next")


def _offered_more_help(c: _Call) -> Check:
    return _said_by_agent(c, "offered_more_help", "anything_else",
                          "asked if there was anything else",
                          "never asked if there was anything else")


def _thanked(c: _Call) -> Check:
    """"Thank you for calling" in the opening line is the greeting, not thanks."""
    limit = c.pb.thresholds.greeting_within_s
    opening = next((u for u in c.agent if u.start <= limit
                    and find_said(c.pb, "greeting", u)), None)
    said = c.said("thanks", [u for u in c.agent if u is not opening])
    if said:
        return _make("thanked", True, "thanked the customer", [_ev(s) for s in said])
    return _make("thanked", False, "never thanked the customer"
                 + (" after the greeting" if opening and c.said("thanks", [opening]) else ""))


def _forbidden(c: _Call, cid: str, sets: Sequence[str], good: str, bad: str) -> Check:
    found = [e for e in c.of_kind("forbidden_phrase") if forbidden_set(e) in sets]
    if not found:
        return _make(cid, True, good)
    said = ", ".join(f'"{e.evidence}"' for e in found[:_MAX_EVIDENCE])
    return _make(cid, False, f"{bad}: {said}",
                 [Evidence(round(e.start, 2), e.evidence or e.reason) for e in found])


def _no_calm_down(c: _Call) -> Check:
    return _forbidden(c, "no_calm_down", ("calm_down",), "never told the customer to calm down",
                      "told the customer to calm down")


def _no_blame(c: _Call) -> Check:
    return _forbidden(c, "no_blame", ("blame", "deflection"),
                      'no blame, no "not my department" or "company policy"',
                      "blamed the customer or deflected")


def _responsive(c: _Call) -> Check:
    if not c.tl.has_customer:
        return _make("responsive", False, _NEEDS_CUSTOMER, applicable=False)
    slow, dead = c.of_kind("slow_response"), c.of_kind("dead_air")
    if not slow and not dead:
        return _make("responsive", True, "answered promptly, no dead air")
    parts = ([f"{len(slow)} slow answer{'s' if len(slow) > 1 else ''}"] if slow else []) + (
        [f"{len(dead)} silence{'s' if len(dead) > 1 else ''} of up to "
         f"{max(e.end - e.start for e in dead):.0f} s"] if dead else [])
    return _make("responsive", False, "left the customer waiting: " + ", ".join(parts),
                 [_event_ev(e) for e in sorted(slow + dead, key=lambda e: e.start)])


_JUDGES: tuple[Callable[[_Call], Check], ...] = (
    _greeting, _used_name, _interruptions, _calm_voice, _apologized, _empathized, _summarized,
    _next_steps, _offered_more_help, _thanked, _no_calm_down, _no_blame, _responsive)


def _not_judged(check: Check, why: str) -> Check:
    return Check(check.id, False, check.category, check.label, why, (), False, check.weight,
                 False)


def _breakdown(checks: Sequence[Check]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cat in CATEGORIES:
        mine = [c for c in checks if c.category == cat and c.applicable]
        out[cat] = {"earned": round(sum(c.weight for c in mine if c.passed), 2),
                    "possible": round(sum(c.weight for c in mine), 2),
                    "passed": [c.id for c in mine if c.passed],
                    "failed": [c.id for c in mine if not c.passed]}
    return out


def _score(checks: Sequence[Check]) -> int | None:
    possible = sum(c.weight for c in checks if c.applicable)
    if possible <= 0:
        return None
    earned = sum(c.weight for c in checks if c.applicable and c.passed)
    return math.floor(100 * earned / possible + 0.5)


def build_scorecard(timeline: CallTimeline, events: Sequence[Event],
                    playbook: Playbook) -> Scorecard:
    """Judge one call from its timeline and the events the rules found in it.

    Args:
        timeline: the call (turns and transcript are what is judged).
        events: the engine's events for it (`coaching.engine.run_rules`).
        playbook: phrase sets and thresholds.

    Returns:
        Every check of `CHECKS`, always all of them, in that order.
    """
    call = _Call(timeline, events, playbook)
    checks = [judge(call) for judge in _JUDGES]
    notes: list[str] = []
    if not timeline.turns and not timeline.utterances:
        checks = [_not_judged(c, "no speech was found") for c in checks]
        notes.append("no speech was found")
    elif not timeline.utterances:
        why = "nothing was transcribed"
        checks = [_not_judged(c, why) if c.id in _NEEDS_TRANSCRIPT else c for c in checks]
        notes.append("speech was found but none of it was transcribed: the checks on "
                     "what was said were not judged")
    return Scorecard(_score(checks), tuple(checks), call_metrics(timeline, events, playbook),
                     _breakdown(checks), tuple(notes))
