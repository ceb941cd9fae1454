"""Hand-written call timelines for rule tests: the situation, not the audio.

    tl = build(duration=20, speech=[(AGENT, 1, 4), (CUSTOMER, 5, 12, -20)],
               say=[(CUSTOMER, 5, 8, "this is ridiculous")])
"""

from __future__ import annotations

import math

from coaching.timeline import CallTimeline, Frame, SpeechTurn, Utterance, Word

HOP = 0.016
HANGOVER = 0.35


def _frames(duration: float, spans: list[tuple], pitch: float) -> tuple[Frame, ...]:
    n = int(round(duration / HOP))
    db = [-90.0] * n
    voice = [False] * n
    p = [math.nan] * n
    for span in spans:
        start, end = span[0], span[1]
        level = span[2] if len(span) > 2 else -25.0
        hz = span[3] if len(span) > 3 else pitch
        for i in range(int(round(start / HOP)), min(n, int(round(end / HOP)))):
            db[i], voice[i], p[i] = level, True, hz
    frames = []
    last_voice = -1e9
    for i in range(n):
        t = round(i * HOP, 3)
        if voice[i]:
            last_voice = t
        frames.append(Frame(t, db[i], p[i], 0.9 if voice[i] else 0.05, voice[i],
                            voice[i] or t - last_voice <= HANGOVER))
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
    pitch = pitch or {"agent": 120.0, "customer": 200.0}
    by = {s: [sp[1:] for sp in speech if sp[0] == s] for s in ("agent", "customer")}
    turns = tuple(sorted((SpeechTurn(sp[0], sp[1], sp[2]) for sp in speech),
                         key=lambda t: t.start))
    return CallTimeline(
        hop_s=HOP, duration_s=duration,
        agent_frames=_frames(duration, by["agent"], pitch["agent"]),
        customer_frames=None if agent_only else _frames(duration, by["customer"],
                                                        pitch["customer"]),
        turns=turns if not agent_only else tuple(t for t in turns if t.speaker == "agent"),
        utterances=tuple(sorted((words_for(*s) for s in say), key=lambda u: u.start)))
