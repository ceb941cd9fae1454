"""A trainer's marking of a call, and how far the coaching met it.

A marking (`*.trainer.json` beside a recording) says which cues must not fire on the call
and why, how each scorecard check should come out and why, and the least score a trainer
would give it. Comparing the engine's events and scorecard with it gives one line per
expectation: met or missed, and for a miss the moments that missed it (the cue's time and
reason, or the check's detail). The real-call benchmark and its test read calls this way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coaching.scorecard import Scorecard
from coaching.timeline import Event

__all__ = ["Expectation", "compare_with_marking", "least_score"]


@dataclass(frozen=True)
class Expectation:
    """One thing the trainer expects: `what` in words, whether it was `met`, and for a
    miss what the engine did instead (`detail`)."""

    what: str
    met: bool
    detail: str = ""
    why: str = ""  # the trainer's reason


def least_score(text: str | int | float | None) -> int | None:
    """The least score a marking's `score` allows ("... 75 or more out of 100" -> 75)."""
    if isinstance(text, (int, float)):
        return int(text)
    if not text:
        return None
    found = re.search(r"(\d+)\s*(?:or more|\+|and above|or higher)", str(text))
    return int(found.group(1)) if found else None


def _cue(kind: str, why: str, events: Sequence[Event]) -> Expectation:
    fired = [e for e in events if e.kind == kind]
    detail = "; ".join(f"{e.start:.1f} s: {e.reason}" for e in fired)
    return Expectation(f"no {kind}", not fired, detail, why)


def _check(check_id: str, want: Any, why: str, scorecard: Scorecard) -> Expectation:
    try:
        check = scorecard.check(check_id)
    except StopIteration:
        return Expectation(f"{check_id} {'passes' if want else 'fails'}", False,
                           "no such check", why)
    # A check shown as passed counts even where it was not needed (an apology no one
    # owed); a failure must be a judged one.
    met = check.passed if want else (check.applicable and not check.passed)
    detail = "" if met else f"{check.status}: {check.detail}"
    return Expectation(f"{check_id} {'passes' if want else 'fails'}", met, detail, why)


def compare_with_marking(marking: Mapping[str, Any], events: Sequence[Event],
                         scorecard: Scorecard) -> list[Expectation]:
    """Every expectation of `marking` against one analysed call, in the marking's order:
    the cues that must not fire, the checks, then the score."""
    out = [_cue(kind, str(why), events)
           for kind, why in (marking.get("cues_that_must_not_fire") or {}).items()]
    for check_id, value in (marking.get("checks") or {}).items():
        want, why = (value[0], value[1] if len(value) > 1 else "") if isinstance(
            value, (list, tuple)) else (value, "")
        out.append(_check(check_id, bool(want), str(why), scorecard))
    least = least_score(marking.get("score"))
    if least is not None:
        got = scorecard.score
        out.append(Expectation(f"score {least} or more", got is not None and got >= least,
                               "" if got is not None and got >= least else f"scored {got}",
                               str(marking.get("score", ""))))
    return out
