"""The scorecard an agent reads after a call: checks with evidence, metrics, a score.

Every check says why it passed or failed and points at the moment (the words, the time,
or the measured figure). The score is the weighted share of applicable checks passed,
broken down by L.E.A.R.N. (Listen, Empathize, Apologize, Resolve, Now). A check that
cannot be judged (no customer channel, nothing to apologize for, no speech at all) is
not applicable rather than guessed, and does not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from coaching.metrics import call_metrics
from coaching.playbook import Playbook, normalize_text
from coaching.timeline import AGENT, CUSTOMER, CallTimeline, Event, Utterance

__all__ = ["Evidence", "Check", "Scorecard", "build_scorecard", "CATEGORIES"]

CATEGORIES = ("Listen", "Empathize", "Apologize", "Resolve", "Now")
_STEP_TIME_WINDOW_S = 20.0


@dataclass(frozen=True)
class Evidence:
    t: float
    text: str


@dataclass(frozen=True)
class Check:
    id: str
    passed: bool
    category: str
    label: str
    detail: str
    evidence: tuple[Evidence, ...] = ()
    applicable: bool = True
    weight: float = 1.0


@dataclass(frozen=True)
class Scorecard:
    score: int | None
    checks: tuple[Check, ...]
    metrics: dict[str, Any]
    breakdown: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def check(self, check_id: str) -> Check:
        return next(c for c in self.checks if c.id == check_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "checks": [{"id": c.id, "passed": c.passed, "applicable": c.applicable,
                        "category": c.category, "label": c.label, "detail": c.detail,
                        "weight": c.weight,
                        "evidence": [{"t": round(e.t, 2), "text": e.text} for e in c.evidence]}
                       for c in self.checks],
            "metrics": dict(self.metrics),
            "breakdown": self.breakdown,
            "notes": list(self.notes),
        }


class _Judge:
    """Builds the checks from one call's transcript and events."""

    def __init__(self, timeline: CallTimeline, events: Sequence[Event], playbook: Playbook):
        self.tl = timeline
        self.pb = playbook
        self.events = list(events)
        self.agent = timeline.utterances_of(AGENT)
        self.customer = timeline.utterances_of(CUSTOMER)

    def said(self, phrase_set: str, utterances: Sequence[Utterance], before: float | None = None
             ) -> list[Evidence]:
        out = []
        for u in utterances:
            if before is not None and u.start > before:
                break
            m = self.pb.find(phrase_set, u.text)
            if m:
                out.append(Evidence(u.start, u.text.strip()))
        return out

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    @staticmethod
    def check(cid: str, category: str, label: str, evidence: list[Evidence], good: str,
              bad: str, weight: float = 1.0) -> Check:
        return Check(cid, bool(evidence), category, label, good if evidence else bad,
                     tuple(evidence[:3]), True, weight)

    @staticmethod
    def absent(cid: str, category: str, label: str, events: list[Event], good: str,
               bad: str, weight: float = 1.0) -> Check:
        ev = tuple(Evidence(e.start, e.reason) for e in events[:5])
        return Check(cid, not events, category, label, good if not events else bad, ev, True,
                     weight)

    @staticmethod
    def na(cid: str, category: str, label: str, why: str, weight: float = 1.0) -> Check:
        return Check(cid, False, category, label, why, (), False, weight)

    def customer_name(self) -> str | None:
        for u in self.customer:
            for pat in self.pb.patterns("name_intro"):
                m = pat.search(normalize_text(u.text))
                if m and m.groupdict().get("name"):
                    return m.group("name")
        return None

    def checks(self) -> list[Check]:
        th = self.pb.thresholds
        has_customer = self.tl.has_customer
        needs = "needs the customer's channel (agent-only recording)"
        complained = self.said("complaint", self.customer) or self.said("distress",
                                                                          self.customer)
        out: list[Check] = []
        out.append(self.check("greeting", "Now", "Greeted the caller",
                              self.said("greeting", self.agent, before=th.greeting_within_s),
                              "opened the call with a greeting",
                              f"no greeting in the first {th.greeting_within_s:.0f} s"))
        name = self.customer_name()
        used = [Evidence(u.start, u.text.strip()) for u in self.agent
                if name and name in normalize_text(u.text).split()]
        used += self.said("name_address", self.agent)
        if name or used:
            out.append(self.check("used_name", "Empathize", "Used their name", used,
                                  "addressed the customer by name",
                                  f"the customer said their name ({name}) but the agent "
                                  "never used it"))
        else:
            out.append(self.na("used_name", "Empathize", "Used their name",
                               "the customer never gave a name"))
        if has_customer:
            out.append(self.absent("no_interruptions", "Listen", "Let them finish",
                                   self.of_kind("interruption"),
                                   "never talked over the customer",
                                   "talked over the customer", weight=2.0))
        else:
            out.append(self.na("no_interruptions", "Listen", "Let them finish", needs, 2.0))
        out.append(self.absent("calm_voice", "Empathize", "Kept a calm voice",
                               self.of_kind("raised_voice"),
                               "voice stayed near your usual level",
                               "voice rose well over your usual level", weight=2.0))
        if complained or self.said("apology", self.agent):
            out.append(self.check("apologized", "Apologize", "Apologized",
                                  self.said("apology", self.agent), "apologized",
                                  "the customer complained and heard no apology"))
        else:
            out.append(self.na("apologized", "Apologize", "Apologized",
                               "nothing to apologize for: no complaint was heard"))
        if complained or self.said("empathy", self.agent):
            out.append(self.check("empathized", "Empathize", "Showed empathy",
                                  self.said("empathy", self.agent),
                                  "acknowledged how the customer felt",
                                  "no words acknowledging how the customer felt"))
        else:
            out.append(self.na("empathized", "Empathize", "Showed empathy",
                               "the customer expressed no frustration"))
        out.append(self.check("summarized", "Listen", "Summarized what they heard",
                              self.said("summary", self.agent),
                              "played the customer's points back to them",
                              "never summarized the customer's points back"))
        steps = self.said("next_steps", self.agent)
        # The "when" must go with the "what": a time said with or soon after a next step
        # ("today" in "how can I help you today" is not an estimate).
        timed = [e for e in self.said("time_estimate", self.agent)
                 if any(0 <= e.t - s.t <= _STEP_TIME_WINDOW_S for s in steps)]
        ok = steps and timed
        detail = ("told them what happens next and when" if ok else
                  "said what happens next but not when" if steps else
                  "never told them what happens next")
        evidence = steps[:2] + [e for e in timed[:2] if e not in steps[:2]] if ok else steps[:2]
        out.append(Check("next_steps", bool(ok), "Resolve", "Told them what happens next",
                         detail, tuple(evidence[:3]), True, 1.5))
        out.append(self.check("offered_more_help", "Now", "Asked if there is anything else",
                              self.said("anything_else", self.agent),
                              "asked if there was anything else",
                              "never asked if there was anything else"))
        # "Thank you for calling" in the opening lines is the greeting, not thanks.
        opening = {u.start for u in self.agent[:2] if self.pb.find("greeting", u.text)}
        out.append(self.check("thanked", "Now", "Thanked the customer",
                              [e for e in self.said("thanks", self.agent)
                               if e.t not in opening],
                              "thanked the customer",
                              "never thanked the customer"))
        forbidden = self.of_kind("forbidden_phrase")
        calm = [e for e in forbidden if "(calm down)" in e.reason]
        blame = [e for e in forbidden if "(calm down)" not in e.reason]
        out.append(self.absent("no_calm_down", "Empathize", 'Never said "calm down"', calm,
                               'never told the customer to calm down',
                               'told the customer to "calm down"', weight=2.0))
        out.append(self.absent("no_blame", "Apologize", "No blame or deflection", blame,
                               "no blame, no \"company policy\" deflection",
                               "blamed the customer or deflected", weight=1.5))
        if has_customer:
            out.append(self.absent("responsive", "Listen", "Answered promptly",
                                   self.of_kind("slow_response", "dead_air"),
                                   "answered promptly, no dead air",
                                   "left the customer waiting in silence"))
        else:
            out.append(self.na("responsive", "Listen", "Answered promptly", needs))
        return out


def _breakdown(checks: Sequence[Check]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cat in CATEGORIES:
        mine = [c for c in checks if c.category == cat and c.applicable]
        out[cat] = {"earned": round(sum(c.weight for c in mine if c.passed), 2),
                    "possible": round(sum(c.weight for c in mine), 2),
                    "passed": [c.id for c in mine if c.passed],
                    "failed": [c.id for c in mine if not c.passed]}
    return out


def build_scorecard(timeline: CallTimeline, events: Sequence[Event],
                    playbook: Playbook) -> Scorecard:
    """Judge one call. With no speech at all, nothing is judged and the score is None."""
    metrics = call_metrics(timeline, events)
    if not timeline.turns and not timeline.utterances:
        checks = tuple(Check(c.id, False, c.category, c.label, "no speech was found", (),
                             False, c.weight)
                       for c in _Judge(timeline, events, playbook).checks())
        return Scorecard(None, checks, metrics, _breakdown(checks), ("no speech was found",))
    checks = tuple(_Judge(timeline, events, playbook).checks())
    applicable = [c for c in checks if c.applicable]
    possible = sum(c.weight for c in applicable)
    score = round(100 * sum(c.weight for c in applicable if c.passed) / possible) \
        if possible else None
    notes = () if timeline.utterances else ("speech was found but none of it was "
                                            "transcribed",)
    return Scorecard(score, checks, metrics, _breakdown(checks), notes)
