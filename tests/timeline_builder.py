"""Hand-written call timelines for rule tests: the situation, not the audio.

A test says what happens in the call and gets the frames a real analysis would give:

    tl = call(20, speech(CUSTOMER, 1, 8, db=-25), speech(AGENT, 6, 9),
              say(CUSTOMER, 1, 8, "this is ridiculous"))
    tl = call(20, talk(AGENT, 1, 3, "thank you for calling"))   # speech and words at once

or, in the older tuple form (still used by several test modules):

    tl = build(duration=20, speech=[(AGENT, 1, 4), (CUSTOMER, 5, 12, -20)],
               say=[(CUSTOMER, 5, 8, "this is ridiculous")])

Frames follow what `audio.turns.TurnTracker` does live, so rules are tested against
realistic flags: `voice` is on inside a speech span; `in_turn` turns on once a stretch
holds `MIN_SPEECH` of voice (a click is never a turn) and stays on for `HANGOVER` after
the last voiced hop; pitch is NaN unless voiced; silence is at -90 dBFS.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from coaching.timeline import AGENT, CUSTOMER, CallTimeline, Frame, SpeechTurn, Utterance, Word

__all__ = ["HOP", "HANGOVER", "MIN_SPEECH", "SILENCE_DB", "Speech", "Saying", "speech",
           "say", "talk", "call", "build", "words_for", "frames_for", "turns_for"]

HOP = 0.016
HANGOVER = 0.35
MIN_SPEECH = 0.12
SILENCE_DB = -90.0
DEFAULT_DB = -25.0
DEFAULT_PITCH = {AGENT: 120.0, CUSTOMER: 200.0}


class Speech(NamedTuple):
    """Voice from `start` to `end` (s) at `db` dBFS; pitch None = the speaker's usual."""

    speaker: str
    start: float
    end: float
    db: float = DEFAULT_DB
    pitch: float | None = None


class Saying(NamedTuple):
    """A transcribed utterance, its words spread evenly over [start, end]."""

    speaker: str
    start: float
    end: float
    text: str


def speech(speaker: str, start: float, end: float, db: float = DEFAULT_DB,
           pitch: float | None = None) -> Speech:
    return Speech(speaker, start, end, db, pitch)


def say(speaker: str, start: float, end: float, text: str) -> Saying:
    return Saying(speaker, start, end, text)


def talk(speaker: str, start: float, end: float, text: str, db: float = DEFAULT_DB,
         pitch: float | None = None) -> tuple[Speech, Saying]:
    """Speech and its transcript at once (the usual line of a call)."""
    return Speech(speaker, start, end, db, pitch), Saying(speaker, start, end, text)


def call(duration: float, *script: Speech | Saying | tuple[Speech, Saying],
         agent_only: bool = False, pitch: dict[str, float] | None = None) -> CallTimeline:
    """A timeline from `speech`, `say` and `talk` items in any order."""
    flat: list[Speech | Saying] = []
    for item in script:
        flat += list(item) if isinstance(item, tuple) and not isinstance(
            item, (Speech, Saying)) else [item]
    return build(duration, [i for i in flat if isinstance(i, Speech)],
                 [i for i in flat if isinstance(i, Saying)], agent_only=agent_only,
                 pitch=pitch)


def _hop_index(t: float) -> int:
    """The hop nearest `t`, the earlier one at a tie (1.0 s is 62.5 hops): a span keeps its
    length and both ends move the same way, by at most half a hop."""
    return math.floor(t / HOP + 0.5 - 1e-6)


def turns_for(spans: list[tuple]) -> list[tuple[float, float]]:
    """Turns at the spans' exact times: spans closer than `HANGOVER` merge, and a stretch
    with less than `MIN_SPEECH` of voice is no turn (as the tracker decides)."""
    turns: list[list[float]] = []
    for start, end, *_ in sorted(spans):
        if turns and start - turns[-1][1] <= HANGOVER:
            turns[-1][1] = max(turns[-1][1], end)
            turns[-1][2] += end - start
        else:
            turns.append([start, end, end - start])
    return [(a, b) for a, b, voiced in turns if voiced >= MIN_SPEECH]


def frames_for(duration: float, spans: list[tuple], pitch: float) -> tuple[Frame, ...]:
    """One speaker's frames from (start, end[, dBFS[, pitch]]) spans."""
    n = int(round(duration / HOP))
    db = [SILENCE_DB] * n
    voice = [False] * n
    hz = [math.nan] * n
    for span in spans:
        start, end = span[0], span[1]
        level = span[2] if len(span) > 2 and span[2] is not None else DEFAULT_DB
        f0 = span[3] if len(span) > 3 and span[3] is not None else pitch
        for i in range(max(0, _hop_index(start)), min(n, _hop_index(end))):
            db[i], voice[i], hz[i] = level, True, f0
    min_hops, hang_hops = round(MIN_SPEECH / HOP), round(HANGOVER / HOP)
    frames = []
    first: int | None = None  # first voiced hop of the current stretch
    voiced, last, is_open = 0, -1, False
    for i in range(n):
        if voice[i]:
            first = i if first is None else first
            voiced, last = voiced + 1, i
            is_open = is_open or voiced >= min_hops
        elif first is not None and i - last > hang_hops:
            first, voiced, is_open = None, 0, False
        frames.append(Frame(round(i * HOP, 3), db[i], hz[i], 0.9 if voice[i] else 0.05,
                            voice[i], is_open))
    return tuple(frames)


def words_for(speaker: str, start: float, end: float, text: str) -> Utterance:
    """An utterance with its words spread evenly over [start, end]."""
    tokens = text.split()
    step = (end - start) / max(1, len(tokens))
    words = tuple(Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), w)
                  for i, w in enumerate(tokens))
    return Utterance(speaker, start, end, text, words)


def build(duration: float, speech: list[tuple], say: list[tuple] = (),
          agent_only: bool = False, pitch: dict[str, float] | None = None) -> CallTimeline:
    """speech: (speaker, start, end[, dBFS[, pitch]]); say: (speaker, start, end, text)."""
    pitch = {**DEFAULT_PITCH, **(pitch or {})}
    frames, turns = {}, []
    for who in (AGENT, CUSTOMER):
        spans = [tuple(sp[1:]) for sp in speech if sp[0] == who]
        frames[who] = frames_for(duration, spans, pitch[who])
        if who == AGENT or not agent_only:
            turns += [SpeechTurn(who, a, b) for a, b in turns_for(spans)]
    return CallTimeline(
        hop_s=HOP, duration_s=duration,
        agent_frames=frames[AGENT],
        customer_frames=None if agent_only else frames[CUSTOMER],
        turns=tuple(sorted(turns, key=lambda t: (t.start, t.speaker))),
        utterances=tuple(sorted((words_for(*s) for s in say), key=lambda u: u.start)))
