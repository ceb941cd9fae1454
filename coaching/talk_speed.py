"""Talk speed as contact-center analytics report it: words per minute of talk time.

Talk time is a speaker's turns from the first word of each to its last, the short pauses
inside a turn counted: the pace a listener lives through, not the rate of the syllables
between breaths. A turn goes on across a pause shorter than `talk_pause_s` unless the
other party took the floor in between (more than a backchannel). The scorecard's metric
and the live prompt use this one definition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from coaching.timeline import Utterance

__all__ = ["TalkTurn", "TalkTurns", "words_in", "talk_rate", "talk_turns"]


def words_in(u: Utterance) -> int:
    return len(u.words) or len(u.text.split())


def _span(u: Utterance) -> tuple[float, float]:
    """From the first word to the last (the utterance's edges when it has no word times)."""
    if u.words:
        return u.words[0].start, u.words[-1].end
    return u.start, u.end


@dataclass
class TalkTurn:
    start: float
    end: float
    words: int

    @property
    def talk_s(self) -> float:
        return max(0.0, self.end - self.start)


class TalkTurns:
    """One speaker's talk turns, built utterance by utterance (live or replayed).

    Args:
        pause_s: a pause at least this long ends a turn.
        took_floor: whether an utterance of the other party took the floor (not a
            backchannel); such an utterance between two of the speaker's ends a turn.
    """

    def __init__(self, pause_s: float, took_floor: Callable[[Utterance], bool]) -> None:
        self.pause_s = pause_s
        self._took_floor = took_floor
        self.turns: list[TalkTurn] = []
        self._floor_taken_at: float | None = None  # start of the other party's last turn

    def other(self, u: Utterance) -> None:
        """An utterance of the other party."""
        if self._took_floor(u):
            self._floor_taken_at = u.start

    def add(self, u: Utterance) -> TalkTurn | None:
        """One of the speaker's utterances; returns the turn it went into."""
        words = words_in(u)
        if words == 0:
            return None
        start, end = _span(u)
        last = self.turns[-1] if self.turns else None
        if (last is not None and start - last.end < self.pause_s
                and not (self._floor_taken_at is not None
                         and last.end <= self._floor_taken_at < start)):
            last.end = max(last.end, end)
            last.words += words
            return last
        self.turns.append(TalkTurn(start, end, words))
        return self.turns[-1]


def talk_rate(turns: Sequence[TalkTurn]) -> tuple[float | None, float, int]:
    """(words per minute of talk time or None, talk seconds, words) over `turns`."""
    talk = sum(t.talk_s for t in turns)
    words = sum(t.words for t in turns)
    return (words / talk * 60.0 if talk > 0 else None), talk, words


def talk_turns(utterances: Sequence[Utterance], speaker: str, pause_s: float,
               took_floor: Callable[[Utterance], bool]) -> list[TalkTurn]:
    """One speaker's talk turns over a whole call."""
    turns = TalkTurns(pause_s, took_floor)
    for u in sorted(utterances, key=lambda u: (u.start, u.speaker)):
        if u.speaker == speaker:
            turns.add(u)
        else:
            turns.other(u)
    return turns.turns
