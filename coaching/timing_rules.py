"""Silence and holding the floor: `dead_air`, `slow_response`, `long_monologue`.

A customer left in silence feels ignored; one talked at for a minute feels unheard. All
three measure from the end of actual voice, not from the end of the hang-over.
"""

from __future__ import annotations

from coaching.rule import Hop, Rule
from coaching.timeline import AGENT, Event

__all__ = ["DeadAirRule", "SlowResponseRule", "LongMonologueRule"]

_CUSTOMER_TAKES_FLOOR_S = 1.0  # a customer turn this long ends the agent's monologue


class DeadAirRule(Rule):
    """Neither party speaks for `dead_air_s` (only once the call has started)."""

    kinds = ("dead_air",)
    needs_customer = True

    def __init__(self, playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._voice_end: float | None = None
        self._silence_start = 0.0
        self._event: Event | None = None

    def on_hop(self, hop: Hop) -> list[Event]:
        a, c = hop.agent, hop.customer
        t = hop.t
        if a.voice or c.voice:
            if self._event is not None:  # someone speaks: the silence ends here
                event, self._event = self._make(t), None
                self._voice_end = t + self.hop_s
                return [event]
            self._voice_end = t + self.hop_s
        if a.in_turn or c.in_turn:
            return []
        if self._voice_end is None:
            return []
        silent = t + self.hop_s - self._voice_end
        if self._event is None and silent > self.th.dead_air_s:
            self._silence_start = self._voice_end
            self._event = self._make(t + self.hop_s)
            return [self._event]
        return []

    def _make(self, end: float) -> Event:
        start = self._silence_start
        detected = self._event.detected_at if self._event else end
        return self.event("dead_air", AGENT, start, end,
                          f"{end - start:.1f} s of silence on the line", detected,
                          measures={"silence_s": round(end - start, 2)})

    def finish(self, end_t: float) -> list[Event]:
        return [self._make(end_t)] if self._event is not None else []


class SlowResponseRule(Rule):
    """The customer stopped and the agent took more than `slow_response_s` to answer."""

    kinds = ("slow_response",)
    needs_customer = True

    def __init__(self, playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._customer_in_turn = False
        self._customer_voice_end = 0.0
        self._waiting_since: float | None = None
        self._event: Event | None = None

    def on_hop(self, hop: Hop) -> list[Event]:
        a, c = hop.agent, hop.customer
        t = hop.t
        out: list[Event] = []
        if c.voice:
            self._customer_voice_end = t + self.hop_s
        if self._customer_in_turn and not c.in_turn and not a.in_turn:
            self._waiting_since = self._customer_voice_end
        self._customer_in_turn = c.in_turn
        if self._waiting_since is None:
            return out
        if a.voice or c.in_turn:  # answered, or the customer went on
            if self._event is not None:
                out.append(self._make(t))
            self._waiting_since, self._event = None, None
            return out
        gap = t + self.hop_s - self._waiting_since
        if self._event is None and gap > self.th.slow_response_s:
            self._event = self._make(t + self.hop_s)
            out.append(self._event)
        return out

    def _make(self, end: float) -> Event:
        start = self._waiting_since
        detected = self._event.detected_at if self._event else end
        return self.event("slow_response", AGENT, start, end,
                          f"the customer waited {end - start:.1f} s for an answer", detected,
                          measures={"gap_s": round(end - start, 2)})

    def finish(self, end_t: float) -> list[Event]:
        return [self._make(end_t)] if self._event is not None else []


class LongMonologueRule(Rule):
    """The agent holds the floor `long_monologue_s` without a pause for the customer."""

    kinds = ("long_monologue",)
    needs_customer = True

    def __init__(self, playbook, hop_s: float) -> None:
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
            self._customer_turn_since = self._customer_turn_since or t
        else:
            self._customer_turn_since = None
        customer_took_floor = (self._customer_turn_since is not None
                               and t - self._customer_turn_since >= _CUSTOMER_TAKES_FLOOR_S)
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
