"""The words a phrase set is read by: what a set means beyond its patterns, how close is
close enough, and where and why a set matched (the matcher itself is `coaching.semantic`).

Pure data, shared by the matcher, the playbook that builds them and the tools that
explain a match to a trainer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

__all__ = ["QUESTION", "Encoder", "SetMeaning", "MatchingConfig", "PhraseMatch"]

QUESTION = "question"  # the guard a set names to say "not when the clause asks something"


class Encoder(Protocol):
    """A sentence encoder: texts in, one unit-length float32 row per text out."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class SetMeaning:
    """What a phrase set means beyond its patterns (the playbook's `[examples.NAME]`).

    Attributes:
        said_by: "agent" or "customer": whose words the set is listened for ("" for the
            helper sets, which are not intents).
        like: example sentences of the set, as a trainer writes them.
        unlike: near misses that must not count.
        unless: phrase sets (or "question") that, found in the same clause, cancel it.
        also_when: groups of sets that, all found in one sentence, imply this one.
        min_similarity: how close to an example counts (None: the playbook's default).
        said_with: phrase sets one of which its sentence must also say for any match to
            count (unless the sentence is a short answer, `short_answer_words` or
            fewer): a time is an estimate when it goes with something that will happen.
        unless_in_sentence: phrase sets that cancel it anywhere in the same sentence:
            a time inside a sentence that restates the customer's story is past.
        needs: sets (or "question") one of which a clause must also say for a match by
            meaning to count there: a bag of words hears "I'll call you back later today"
            in "she'll give you a call back", so a time estimate by meaning needs a time
            said, a blame needs the customer named, a question needs a question.
    """

    said_by: str = ""
    like: tuple[str, ...] = ()
    unlike: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    also_when: tuple[tuple[str, ...], ...] = ()
    min_similarity: float | None = None
    needs: tuple[str, ...] = ()
    unless_in_sentence: tuple[str, ...] = ()
    said_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatchingConfig:
    """The playbook's `[matching]`: how close is close enough, and how text is cut."""

    min_similarity: float = 0.75
    margin: float = 0.02
    clause_max_words: float = 10
    rival_sets: float = 1
    cache_size: float = 4096
    short_answer_words: float = 7


@dataclass(frozen=True)
class PhraseMatch:
    """Where and why a set matched an utterance: words `first`..`last` of its normal form
    (`string`), found by a pattern, by closeness to an example, or implied by other sets.

    It answers `group(0)`, `start()`, `end()` and `string` as a regex match does, so
    code that locates a match in the utterance's words takes either."""

    name: str
    string: str
    first: int
    last: int
    how: str  # "pattern", "example", "implied" or "learned"
    pattern: str = ""
    example: str = ""
    similarity: float = 0.0  # to the example; for "learned", the model's probability
    implied_by: tuple[str, ...] = ()
    learned_words: tuple[str, ...] = ()  # the words that weighed most, for "learned"
    regex: re.Match[str] | None = field(default=None, compare=False, repr=False)

    @property
    def phrase(self) -> str:
        if self.regex is not None:
            return self.regex.group(0)
        return " ".join(self.string.split()[self.first:self.last + 1])

    def group(self, key: int | str = 0) -> str | None:
        if key == 0:
            return self.phrase
        return self.regex.group(key) if self.regex is not None else None

    def groupdict(self) -> dict[str, str | None]:
        return self.regex.groupdict() if self.regex is not None else {}

    def start(self) -> int:
        if self.regex is not None:
            return self.regex.start()
        words = self.string.split()
        return len(" ".join(words[:self.first])) + (1 if self.first else 0)

    def end(self) -> int:
        return self.regex.end() if self.regex is not None else self.start() + len(self.phrase)

    @property
    def reason(self) -> str:
        """Why it matched, for a person: the pattern, or the example and how close."""
        if self.how == "example":
            return f'close to "{self.example}" ({self.similarity:.2f})'
        if self.how == "learned":
            words = ", ".join(f'"{w}"' for w in self.learned_words)
            return (f"learned from labelled calls ({self.similarity:.2f})" +
                    (f", on {words}" if words else ""))
        if self.how == "implied":
            return "said " + " and ".join(self.implied_by).replace("_", " ") + " together"
        return f'pattern "{self.pattern}"'
