"""Where a phrase set was said in an utterance: the words, their call times, and the
clause around them as transcribed, which is what a person reads in a cue's reason or a
check's evidence ("I'm so sorry, Maria" rather than "sorry").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from coaching.playbook import PhraseMatch, Playbook, normalize_text
from coaching.timeline import Utterance

__all__ = ["Said", "Match", "find_said", "said_at", "locate"]

_QUOTE_CONTEXT = 4  # words of the clause kept either side of a quoted phrase
_SENTENCE_END = re.compile(r"[.!?;]$")
_CLAUSE_END = re.compile(r"[,:]$")
_DANGLING = frozenset({"and", "or", "but", "so", "my", "your", "the", "a", "an", "to", "of",
                       "for", "with", "is", "it", "its", "that"})
_QUOTE_MIN_WORDS = 3  # a comma ends a quote only once it has this many words


@dataclass(frozen=True)
class Said:
    """Where a phrase was said: the matched words (normalized), the clause around them as
    transcribed (what a person reads in a reason), the call time of the words, and why it
    matched (`how`: the pattern, or the example sentence it was close to and how close;
    "" for a plain regex match)."""

    phrase: str
    quote: str
    start: float
    end: float
    how: str = ""


Match = re.Match[str] | PhraseMatch


def _span(pieces: Sequence[str], match: Match) -> tuple[int, int] | None:
    """First and last of `pieces` (words of the text `match` searched, normalized) that
    hold the match; None when the pieces do not line up with the text."""
    owner: list[int] = []  # for each normalized token, the piece it came from
    for i, piece in enumerate(pieces):
        owner += [i] * len(normalize_text(piece).split())
    first = len(match.string[:match.start()].split())
    last = first + max(1, len(match.group(0).split())) - 1
    if len(owner) != len(match.string.split()) or last >= len(owner):
        return None
    return owner[first], owner[last]


def locate(utterance: Utterance, match: Match) -> tuple[float, float]:
    """Call times of the words of `match` (a match in the utterance's normalized text);
    the whole utterance when its words cannot be lined up with its text."""
    span = _span([w.text for w in utterance.words], match)
    if span is None:
        return utterance.start, utterance.end
    return utterance.words[span[0]].start, utterance.words[span[1]].end


def _quote(text: str, match: Match) -> str:
    """The matched words with the rest of their clause (a few words either side), as
    transcribed: `this is ridiculous` reads better than `ridiculous`. A sentence end
    stops the quote; a comma stops it once it has a few words ("I'm so sorry, Maria")."""
    raw = text.split()
    span = _span(raw, match)
    if span is None:
        return match.group(0)
    a, b = span

    def stops(word: str, lo: int, hi: int) -> bool:
        return bool(_SENTENCE_END.search(word)) or (
            bool(_CLAUSE_END.search(word)) and hi - lo + 1 >= _QUOTE_MIN_WORDS)

    lo, hi = a, b
    while lo > 0 and a - lo < _QUOTE_CONTEXT and not stops(raw[lo - 1], lo, hi):
        lo -= 1
    while hi < len(raw) - 1 and hi - b < _QUOTE_CONTEXT and not stops(raw[hi], lo, hi):
        hi += 1
    while hi > b and normalize_text(raw[hi]) in _DANGLING:
        hi -= 1
    return " ".join(raw[lo:hi + 1]).strip(" .,!?;:\"")


def said_at(utterance: Utterance, match: Match) -> Said:
    """A match in the utterance's normalized text, located and quoted."""
    start, end = locate(utterance, match)
    how = match.reason if isinstance(match, PhraseMatch) else ""
    return Said(match.group(0), _quote(utterance.text, match), start, end, how)


def find_said(playbook: Playbook, name: str, utterance: Utterance) -> Said | None:
    """The first phrase of set `name` in the utterance, located and quoted, or None: by
    a pattern or by closeness to an example sentence (`Said.how` says which)."""
    match = playbook.find(name, utterance.text)
    return None if match is None else said_at(utterance, match)
