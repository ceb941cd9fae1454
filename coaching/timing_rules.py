"""Silence and holding the floor: `dead_air`, `slow_response`, `long_monologue`.

A customer left in silence feels ignored; one talked at for a minute feels unheard. All
three measure from the end of actual voice, not from the end of the hang-over.
"""

from __future__ import annotations

from coaching.playbook import Playbook
from coaching.rule import Hop, Rule
from coaching.timeline import AGENT, Event

__all__ = ["DeadAirRule", "SlowResponseRule", "LongMonologueRule"]


class DeadAirRule(Rule):
    """Neither party speaks for `dead_air_s` (only once the call has started).

    Speaking means a turn: a click or a cough that never becomes one neither ends the
    silence nor starts a new one.
    """

    kinds = ("dead_air",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._voice_end: float | None = None  # end of the last voiced hop of a turn
        self._run_start = 0.0  # first hop of the latest stretch of voice
        self._was_voice = False
        self._event: Event | None = None

    def on_hop(self, hop: Hop) -> list[Event]:
        a, c = hop.agent, hop.customer
        t = hop.t
        voice = a.voice or c.voice
        if voice and not self._was_voice:
            self._run_start = t
        self._was_voice = voice
        if a.in_turn or c.in_turn:
            if (a.voice and a.in_turn) or (c.voice and c.in_turn):
                self._voice_end = t + self.hop_s
            if self._event is None:
                return []
            # Someone speaks: the silence ended where their voice began.
            event = self._make(max(self._run_start, self._event.start))
            self._event = None
            return [event]
        if self._voice_end is None or self._event is not None:
            return []
        if t + self.hop_s - self._voice_end > self.th.dead_air_s:
            self._event = self._make(t + self.hop_s)
            return [self._event]
        return []

    def _make(self, end: float) -> Event:
        start = self._event.start if self._event else self._voice_end
        detected = self._event.detected_at if self._event else end
        return self.event("dead_air", AGENT, start, end,
                          f"{end - start:.1f} s of silence on the line", detected,
                          measures={"silence_s": round(end - start, 2)})

    def finish(self, end_t: float) -> list[Event]:
        return [self._make(end_t)] if self._event is not None else []


class SlowResponseRule(Rule):
    """The customer stopped and the agent took more than `slow_response_s` to answer.

    The wait runs from the customer's last voiced hop to the start of the agent's answer
    (speech that becomes a turn, not a click). A customer who speaks first and waits is
    waiting too, so this also runs at the start of the call. The wait also ends when the
    customer goes on, or once it has become dead air (that rule reports the rest).
    """

    kinds = ("slow_response",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._customer_in_turn = False
        self._customer_voice_end = 0.0
        self._agent_run_start = 0.0
        self._agent_was_voice = False
        self._waiting_since: float | None = None
        self._event: Event | None = None

    def on_hop(self, hop: Hop) -> list[Event]:
        a, c = hop.agent, hop.customer
        t = hop.t
        if a.voice and not self._agent_was_voice:
            self._agent_run_start = t
        self._agent_was_voice = a.voice
        if c.voice:
            self._customer_voice_end = t + self.hop_s
        if self._customer_in_turn and not c.in_turn:
            self._waiting_since = self._customer_voice_end
        self._customer_in_turn = c.in_turn
        if self._waiting_since is None:
            return []
        if a.voice and a.in_turn:
            answer = max(self._agent_run_start, self._waiting_since)
            return self._stop(answer, "you took {gap:.1f} s to answer")
        if c.in_turn:
            return self._stop(t, "the customer waited {gap:.1f} s, then went on")
        gap = t + self.hop_s - self._waiting_since
        if self._event is None and gap > self.th.slow_response_s:
            self._event = self._make(t + self.hop_s, "the customer has waited {gap:.1f} s "
                                     "for an answer")
            return [self._event]
        if self._event is not None and gap >= self.th.dead_air_s:
            return self._stop(t + self.hop_s, "no answer for {gap:.1f} s: dead air")
        return []

    def _stop(self, end: float, reason: str) -> list[Event]:
        out = [self._make(end, reason)] if self._event is not None else []
        self._waiting_since, self._event = None, None
        return out

    def _make(self, end: float, reason: str) -> Event:
        start = self._waiting_since
        detected = self._event.detected_at if self._event else end
        return self.event("slow_response", AGENT, start, end,
                          reason.format(gap=end - start), detected,
                          measures={"gap_s": round(end - start, 2)})

    def finish(self, end_t: float) -> list[Event]:
        return self._stop(end_t, "no answer for {gap:.1f} s before the call ended")


class LongMonologueRule(Rule):
    """The agent holds the floor `long_monologue_s` without a pause for the customer."""

    kinds = ("long_monologue",)
    needs_customer = True

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._floor_start: float | None = None
        self._voice_end = 0.0
        self._customer_turn_since: float | None = None
        self._event: Event | None = None

    def on_hop(self, hop: Hop) -> list[Event]:
        a, c = hop.agent, hop.customer
        t = hop.t
        out: list[Event] = []
        if c.in_turn:
            if self._customer_turn_since is None:
                self._customer_turn_since = t
        else:
            self._customer_turn_since = None
        # Longer than a backchannel ("mm-hmm") is the customer taking the floor.
        customer_took_floor = (self._customer_turn_since is not None
                               and t - self._customer_turn_since > self.th.backchannel_max_s)
        paused = not a.voice and t - self._voice_end >= self.th.monologue_pause_s
        if self._floor_start is not None and (customer_took_floor or paused):
            if self._event is not None:
                out.append(self._make(self._voice_end))
            self._floor_start, self._event = None, None
        if a.voice:
            self._voice_end = t + self.hop_s
            if self._floor_start is None and not customer_took_floor:
                self._floor_start = t
        if self._floor_start is not None and self._event is None:
            held = t + self.hop_s - self._floor_start
            if held > self.th.long_monologue_s:
                self._event = self._make(t + self.hop_s)
                out.append(self._event)
        return out

    def _make(self, end: float) -> Event:
        start = self._floor_start
        detected = self._event.detected_at if self._event else end
        return self.event("long_monologue", AGENT, start, end,
                          f"you talked for {end - start:.0f} s without a pause for the "
                          "customer", detected, measures={"floor_s": round(end - start, 1)})

    def finish(self, end_t: float) -> list[Event]:
        return [self._make(self._voice_end)] if self._event is not None else []
