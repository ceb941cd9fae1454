"""The shape every coaching rule has, so the engine can run any set of them.

A rule is fed the call hop by hop (both parties' frames at the same moment) and utterance
by utterance (as transcripts arrive), in time order, live or replayed. It returns the
events it detects at that moment. To extend an event it already returned (an interruption
that goes on), it returns an updated copy with the same `Event.key`; the engine replaces
the earlier copy and does not prompt again.
"""

from __future__ import annotations

from dataclasses import dataclass

from coaching.playbook import Playbook
from coaching.timeline import Event, Frame, Speaker, Utterance

__all__ = ["Hop", "Rule", "make_event"]


@dataclass(frozen=True, slots=True)
class Hop:
    """Both parties' frames for one hop. `customer` is None in agent-only mode."""

    t: float
    agent: Frame
    customer: Frame | None


class Rule:
    """Base class: override what the rule needs. Instances hold the rule's running state.

    Class attributes:
        kinds: the event kinds the rule can emit.
        needs_customer: True if the rule cannot run without the customer's channel
            (agent-only mode then skips it instead of guessing).
        transcript_expected: whether transcripts will come (the engine sets it): a rule
            that waits for the words before judging a moment judges by timing alone
            when none will come (`--no-transcribe`, or no speech model).
    """

    kinds: tuple[str, ...] = ()
    needs_customer: bool = False
    transcript_expected: bool = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        self.playbook = playbook
        self.th = playbook.thresholds
        self.hop_s = hop_s

    def on_hop(self, hop: Hop) -> list[Event]:
        return []

    def on_utterance(self, utterance: Utterance, now: float) -> list[Event]:
        """`now` is the call time at which the transcript became available."""
        return []

    def finish(self, end_t: float) -> list[Event]:
        """The call ended at `end_t`: close anything still open."""
        return []

    def event(self, kind: str, speaker: Speaker, start: float, end: float, reason: str,
              detected_at: float, evidence: str = "",
              measures: dict[str, float] | None = None) -> Event:
        return make_event(self.playbook, kind, speaker, start, end, reason, detected_at,
                          evidence, measures)


def make_event(playbook: Playbook, kind: str, speaker: Speaker, start: float, end: float,
               reason: str, detected_at: float, evidence: str = "",
               measures: dict[str, float] | None = None) -> Event:
    """An event with the prompt text and priority the playbook gives its kind."""
    spec = playbook.prompt_for(kind)
    return Event(kind=kind, speaker=speaker, start=round(start, 3), end=round(end, 3),
                 prompt=spec.text, reason=reason, detected_at=round(detected_at, 3),
                 priority=spec.priority, evidence=evidence, measures=dict(measures or {}))
