"""The numbers of a call: talk share, turns, silences, response gaps, talk speed.

Computed from speech turns, utterances and events; None where a figure needs the
customer's channel and there is none. Talk speed is words per minute of talk time
(`coaching.talk_speed`), the field's definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coaching.acknowledgement import substantive
from coaching.playbook import Playbook
from coaching.talk_speed import talk_rate, talk_turns, words_in
from coaching.timeline import AGENT, CUSTOMER, CallTimeline, Event, Speaker

__all__ = ["call_metrics"]


def _silences(timeline: CallTimeline) -> list[float]:
    """Stretches where neither party is in a turn, between the first and last speech."""
    spans = sorted((t.start, t.end) for t in timeline.turns)
    gaps = []
    if not spans:
        return gaps
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start > reach:
            gaps.append(start - reach)
        reach = max(reach, end)
    return gaps


def _floor_turns(timeline: CallTimeline, speaker: str, pause_s: float = 1.5,
                 takeover_s: float = 1.0) -> list[float]:
    """Conversational turns: one speaker's VAD turns merged across pauses shorter than
    `pause_s`, unless the other party took the floor (spoke `takeover_s` or longer) in
    between; a backchannel does not end a turn."""
    mine = sorted(timeline.turns_of(speaker), key=lambda t: t.start)
    theirs = [t for t in timeline.turns if t.speaker != speaker and t.duration >= takeover_s]
    spans: list[list[float]] = []
    for t in mine:
        if spans and t.start - spans[-1][1] < pause_s and not any(
                spans[-1][1] <= o.start < t.start for o in theirs):
            spans[-1][1] = t.end
        else:
            spans.append([t.start, t.end])
    return [e - s for s, e in spans]


def _response_gaps(timeline: CallTimeline) -> list[float]:
    """For each customer turn the agent answers, the silence before the answer."""
    gaps = []
    agent = timeline.turns_of(AGENT)
    for turn in timeline.turns_of(CUSTOMER):
        nxt = next((a for a in agent if a.start >= turn.end - 0.05), None)
        if nxt is None:
            continue
        other = [c for c in timeline.turns_of(CUSTOMER) if turn.end < c.start < nxt.start]
        if not other and nxt.start - turn.end < 30:
            gaps.append(max(0.0, nxt.start - turn.end))
    return gaps


def _talk_speed(timeline: CallTimeline, speaker: Speaker, playbook: Playbook
                ) -> tuple[float | None, float]:
    """Words per minute of talk time over the call (`coaching.talk_speed`) and the talk
    seconds it is measured over."""
    turns = talk_turns(timeline.utterances, speaker, playbook.thresholds.talk_pause_s,
                       lambda u: substantive(playbook, u.text))
    wpm, talk_s, _ = talk_rate(turns)
    return wpm, talk_s


def call_metrics(timeline: CallTimeline, events: Sequence[Event],
                 playbook: Playbook) -> dict[str, Any]:
    kinds = [e.kind for e in events]
    agent_s = sum(t.duration for t in timeline.turns_of(AGENT))
    customer_s = sum(t.duration for t in timeline.turns_of(CUSTOMER))
    agent_words = sum(words_in(u) for u in timeline.utterances_of(AGENT))
    agent_wpm, agent_talk_s = _talk_speed(timeline, AGENT, playbook)
    customer_wpm, customer_talk_s = _talk_speed(timeline, CUSTOMER, playbook)
    has_c = timeline.has_customer
    silences = _silences(timeline) if has_c else []
    gaps = _response_gaps(timeline) if has_c else []
    r = lambda v, d=2: None if v is None else round(v, d)  # noqa: E731
    return {
        "agent_talk_ratio": r(agent_s / (agent_s + customer_s))
        if has_c and agent_s + customer_s > 0 else None,
        "interruptions": kinds.count("interruption") if has_c else None,
        "customer_interruptions": kinds.count("customer_interruption") if has_c else None,
        "raised_voice_s": r(sum(e.end - e.start for e in events if e.kind == "raised_voice"),
                            1),
        "longest_customer_turn_s": r(max(_floor_turns(timeline, CUSTOMER), default=0.0), 1)
        if has_c else None,
        "dead_air_s": r(sum(e.end - e.start for e in events if e.kind == "dead_air"), 1)
        if has_c else None,
        "longest_silence_s": r(max(silences, default=0.0), 1) if has_c else None,
        "mean_response_gap_s": r(sum(gaps) / len(gaps)) if gaps else None,
        "max_response_gap_s": r(max(gaps)) if gaps else None,
        "agent_wpm": r(agent_wpm, 0) if agent_talk_s >= 5 else None,
        "customer_wpm": r(customer_wpm, 0) if has_c and customer_talk_s >= 5 else None,
        "agent_talk_s": r(agent_talk_s, 1),
        "agent_words": agent_words,
        "customer_words": sum(words_in(u) for u in timeline.utterances_of(CUSTOMER)),
        "agent_speech_s": r(agent_s, 1),
        "customer_speech_s": r(customer_s, 1) if has_c else None,
        "events": len(events),
        "prompts_shown": sum(1 for e in events if e.prompted and e.prompt),
    }
