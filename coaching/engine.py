"""The coaching engine: every rule, fed hop by hop and utterance by utterance.

Live, the audio worker calls `on_hop` every 16 ms and `on_utterance` when a transcript
arrives. Replay (`run_rules`) feeds a stored timeline the same way, delivering each
utterance at the moment it ends, so a recorded call gives the cues an agent would have
seen. The engine is pure: the same timeline and playbook always give the same events,
which is also what lets a trainer ask "what if" with other thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from coaching.overlap_rules import CustomerInterruptionRule, InterruptionRule
from coaching.playbook import Playbook
from coaching.prompt_policy import PromptPolicy
from coaching.rule import Hop, Rule
from coaching.timeline import CallTimeline, Event, Frame, Utterance
from coaching.timing_rules import DeadAirRule, LongMonologueRule, SlowResponseRule
from coaching.voice_rules import CustomerRaisedVoiceRule, RaisedVoiceRule

__all__ = ["ACOUSTIC_RULES", "CoachingEngine", "default_rules", "run_rules", "skipped_kinds"]

ACOUSTIC_RULES: tuple[type[Rule], ...] = (
    InterruptionRule, CustomerInterruptionRule, RaisedVoiceRule, CustomerRaisedVoiceRule,
    DeadAirRule, SlowResponseRule, LongMonologueRule,
)


def default_rules() -> list[type[Rule]]:
    """The acoustic rules and the transcript-phrase rules, in a fixed order."""
    try:
        from coaching.phrase_rules import PHRASE_RULES as phrase_rules
    except ImportError:  # the engine and the acoustic rules work without them
        phrase_rules = []
    return [*ACOUSTIC_RULES, *phrase_rules]


def skipped_kinds(has_customer: bool, rules: Sequence[type[Rule]] | None = None
                  ) -> tuple[str, ...]:
    """Event kinds a call without the customer's channel cannot have computed."""
    if has_customer:
        return ()
    return tuple(k for cls in (default_rules() if rules is None else rules)
                 if cls.needs_customer for k in cls.kinds)


class CoachingEngine:
    """Runs the rules, merges event updates, and asks the prompt policy what to show.

    Attributes:
        policy: the prompt policy; the desktop snoozes kinds and reads the card from it.
        now: the call time the engine has reached (end of the last hop).
    """

    def __init__(self, playbook: Playbook, hop_s: float, has_customer: bool,
                 rules: Sequence[type[Rule]] | None = None,
                 transcript_expected: bool = True) -> None:
        self.playbook = playbook
        self.hop_s = hop_s
        self.has_customer = has_customer
        classes = default_rules() if rules is None else list(rules)
        self.rules = [cls(playbook, hop_s) for cls in classes
                      if has_customer or not cls.needs_customer]
        for rule in self.rules:
            rule.transcript_expected = transcript_expected
        self._skipped = skipped_kinds(has_customer, classes)
        # Only the rules that look at hops are called per hop (16 ms, the hot path).
        self._hop_rules = [r.on_hop for r in self.rules if type(r).on_hop is not Rule.on_hop]
        self.policy = PromptPolicy(playbook.policy)
        self._events: dict[tuple[str, str, float], Event] = {}
        self.now = 0.0

    @property
    def skipped_kinds(self) -> tuple[str, ...]:
        """Event kinds not computed because the customer's channel is missing."""
        return self._skipped

    def _take(self, found: list[Event]) -> list[Event]:
        """Record events; return the new ones. An update (same key) replaces the earlier
        copy silently: it keeps the first copy's `prompted` and `detected_at`. Prompts
        due at the same moment are offered most important first, so the card shows that
        one and the lesser waits (or is held back) rather than the other way round."""
        new: list[Event] = []
        for event in sorted(found, key=lambda e: -e.priority):
            earlier = self._events.get(event.key)
            if earlier is not None:
                event = replace(event, prompted=earlier.prompted,
                                detected_at=earlier.detected_at)
                self._events[event.key] = event
                self.policy.update(event)
                continue
            event = replace(event, prompted=self.policy.offer(event, self.now))
            self._events[event.key] = event
            new.append(event)
        return new

    def on_hop(self, agent: Frame, customer: Frame | None) -> list[Event]:
        """One hop of both channels (customer None in agent-only mode); the new events."""
        if not self.has_customer:
            customer = None
        elif customer is None:  # the customer's channel ran short: silence, not a crash
            customer = Frame(agent.t, -100.0, math.nan, 0.0, False, False)
        hop = Hop(agent.t, agent, customer)
        self.now = agent.t + self.hop_s
        found: list[Event] = []
        for on_hop in self._hop_rules:
            got = on_hop(hop)
            if got:
                found += got
        return self._take(found) if found else []

    def on_utterance(self, utterance: Utterance, now: float) -> list[Event]:
        """A transcript became available at call time `now`."""
        self.now = max(self.now, now)
        found: list[Event] = []
        for rule in self.rules:
            found += rule.on_utterance(utterance, now)
        return self._take(found) if found else []

    def finish(self, end_t: float) -> list[Event]:
        """The call ended: close open events."""
        self.now = max(self.now, end_t)
        found: list[Event] = []
        for rule in self.rules:
            found += rule.finish(end_t)
        return self._take(found)

    @property
    def events(self) -> tuple[Event, ...]:
        """Every event so far, updates applied, in order of start."""
        return tuple(sorted(self._events.values(), key=lambda e: (e.start, e.kind)))


def run_rules(timeline: CallTimeline, playbook: Playbook,
              rules: Sequence[type[Rule]] | None = None) -> tuple[Event, ...]:
    """Replay a stored timeline through a fresh engine, as a live call would have run.

    Hops go in time order; each utterance is delivered at the first hop whose start is at
    or after the utterance's end (as if its transcript came then), any left at the end
    before `finish`. A timeline without any transcript is judged by timing alone. The
    same timeline and playbook always give the same events, so a trainer can re-run a
    call with other thresholds ("what if").
    """
    engine = CoachingEngine(playbook, timeline.hop_s, timeline.has_customer, rules,
                            transcript_expected=bool(timeline.utterances))
    pending = sorted(timeline.utterances, key=lambda u: (u.end, u.start))
    # The customer's frames walked alongside the agent's (None past the end of them,
    # or in agent-only mode): iterating, not indexing, keeps a compact FrameTrack fast.
    customer = iter(timeline.customer_frames or ())
    k = 0
    for agent in timeline.agent_frames:
        while k < len(pending) and pending[k].end <= agent.t:
            engine.on_utterance(pending[k], agent.t)
            k += 1
        engine.on_hop(agent, next(customer, None))
    for u in pending[k:]:
        engine.on_utterance(u, max(u.end, timeline.duration_s))
    engine.finish(timeline.duration_s)
    return engine.events
