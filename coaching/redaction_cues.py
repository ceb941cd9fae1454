"""Cues: the words that give the digits after them their kind ("what is the security
code?"), found in an utterance and kept on the call's timeline.

The latest cue said by either party (by the end of its last word) decides what the next
digits are, while its window lasts; the redactor extends the window with every number it
takes, so a card read in four groups stays one context.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from coaching.redaction_config import WORD_CUE_KINDS, RedactionConfig
from coaching.text import normalize_text

__all__ = ["Cue", "CueTimeline", "find_cues"]

_EPS = 0.05


@dataclass
class Cue:
    """One cue said in the call (or implied: digits after a card number)."""

    kind: str
    time: float  # end of the cue's last word
    expires: float
    speaker: str | None = None  # who said it (None: found from the digits themselves)


def find_cues(words: Sequence[str], index: dict[str, list[tuple[tuple[str, ...], str]]]
              ) -> list[tuple[int, int, str]]:
    """Cue phrases in an utterance: (first word, last word, kind), longest match first."""
    toks: list[str] = []
    owner: list[int] = []
    for i, w in enumerate(words):
        for t in normalize_text(w).split():
            toks.append(t)
            owner.append(i)
    hits = []
    k = 0
    while k < len(toks):
        best: tuple[tuple[str, ...], str] | None = None
        for phrase, kind in index.get(toks[k], ()):
            if tuple(toks[k:k + len(phrase)]) == phrase and (
                    best is None or len(phrase) > len(best[0])):
                best = (phrase, kind)
        if best is None:
            k += 1
            continue
        hits.append((owner[k], owner[k + len(best[0]) - 1], best[1]))
        k += len(best[0])
    return hits


def specific_first(hits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """"The security code on the back of the card": in one breath, a security code,
    expiry or postal code cue is not undone by the card it belongs to."""
    out, specific = [], False
    for hit in hits:
        if hit[2] in ("security_code", "expiry_date", "postal_address"):
            specific = True
        elif hit[2] == "card_number" and specific:
            continue
        out.append(hit)
    return out


class CueTimeline:
    """The cues of a call so far, in time order, with the one that applies at a moment."""

    def __init__(self, config: RedactionConfig) -> None:
        self._index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for kind, phrases in config.cues.items():
            if kind in WORD_CUE_KINDS:  # names: coaching.redaction_people's own
                continue
            for p in phrases:
                self._index.setdefault(p[0], []).append((p, kind))
        self._cues: list[Cue] = []

    def find(self, words: Sequence[str]) -> list[tuple[int, int, str]]:
        """The cue phrases of one utterance's words (a specific one not undone by the
        card it belongs to)."""
        return specific_first(find_cues(words, self._index))

    def add(self, cue: Cue) -> None:
        bisect.insort(self._cues, cue, key=lambda c: c.time)

    def active(self, t: float) -> Cue | None:
        """The latest cue said by `t`, if its window still covers `t`."""
        for cue in reversed(self._cues):
            if cue.time <= t + _EPS:
                return cue if t <= cue.expires else None
        return None
