"""Why a phrase set did not count in a sentence that came near it: the guard that
cancelled it, or the near miss (or other set's example) it was closer to.

The coaching engine only needs what matched (`coaching.semantic`); a trainer tuning a
playbook also asks why a sentence did not count ("Sorry, what was your name?" is no
apology: the guard `apology_request` is said there). Pure, like the matcher it reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coaching.semantic import QUESTION, PhraseMatch, PhraseMatcher, _search_all, _source, _word_at

__all__ = ["HeldBack", "held_back"]


@dataclass(frozen=True)
class HeldBack:
    """A set that came near an utterance and was not counted, and why: a guard said
    there (`guard`; "question" for a question), or a rival example closer than the
    set's own (`rival`, a near miss of the set or an example of `rival_set`)."""

    match: PhraseMatch
    guard: str = ""
    rival: str = ""
    rival_set: str = ""
    rival_similarity: float = 0.0
    lacks: str = ""
    alone: str = ""

    @property
    def reason(self) -> str:
        """Why it was not counted, for a person."""
        if self.guard == QUESTION:
            return "the clause asks a question"
        if self.guard:
            return f'the guard "{self.guard}" is said there'
        if self.alone:
            return f'its sentence says none of {self.alone}, and it is no short answer'
        if self.lacks == QUESTION:
            return "a match by meaning needs a question, and the clause asks none"
        if self.lacks:
            return f'a match by meaning needs "{self.lacks}" said there, and it is not'
        whose = (f'an example of {self.rival_set}' if self.rival_set
                 else "one of its near misses (unlike)")
        return f'it is closer ({self.rival_similarity:.2f}) to {whose}: "{self.rival}"'


def held_back(matcher: PhraseMatcher, name: str, text: str) -> HeldBack | None:
    """Why set `name` is not said in `text` although it came near: a match that a
    guard cancelled (by a pattern, or by an example), or a clause close enough to one
    of its examples but closer to a near miss or to another set's example. None when
    the set is said, or nothing came near. What a trainer asks of a sentence that
    did not count."""
    if matcher.find(name, text) is not None:
        return None
    read = matcher._read(text)
    for m in _search_all(matcher.patterns.get(name, ()), read.norm):
        first = _word_at(read.norm, m.start())
        guard = matcher._guard_of(name, matcher._unit_at(read, first), read, first)
        alone = matcher._lacks_company(name, read, first)
        if guard is not None or alone is not None:
            last = first + max(1, len(m.group(0).split())) - 1
            return HeldBack(PhraseMatch(name, read.norm, first, last, "pattern",
                                        pattern=_source(m.re), regex=m), guard=guard or "",
                            alone=", ".join(matcher.meanings[name].said_with)
                            if guard is None else "")
    ex = matcher._examples
    if read.sims is None or ex is None or name not in ex.like:
        return None
    meaning = matcher.meanings[name]
    floor = (meaning.min_similarity if meaning.min_similarity is not None
             else matcher.config.min_similarity)
    rivals = ex.rivals.get(name, np.array([], dtype=int))
    closest: HeldBack | None = None
    for i, unit in enumerate(read.units):
        best = int(ex.like[name][int(read.sims[i, ex.like[name]].argmax())])
        sim = float(read.sims[i, best])
        if sim < floor:
            continue
        match = PhraseMatch(name, read.norm, unit.first, unit.last, "example",
                            example=ex.texts[best], similarity=round(sim, 3))
        if len(rivals):
            row = int(rivals[int(read.sims[i, rivals].argmax())])
            near = float(read.sims[i, row])
            if sim < near + matcher.config.margin:
                if closest is None or sim > closest.match.similarity:
                    closest = HeldBack(match, rival=ex.texts[row],
                                       rival_set=_set_of_row(ex, name, row),
                                       rival_similarity=round(near, 3))
                continue
        guard = matcher._guard_of(name, unit, read)
        if guard is not None:
            return HeldBack(match, guard=guard)
        lacks = matcher._lacks_need(name, unit)
        if lacks is not None:
            return HeldBack(match, lacks=lacks)
    return closest


def _set_of_row(ex, name: str, row: int) -> str:
    """Which set example row `row` speaks for ("" when it is `name`'s near miss)."""
    for other, rows in ex.like.items():
        if other != name and row in rows:
            return other
    return ""
