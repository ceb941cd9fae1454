"""What a phrase set matches: its patterns, or a sentence close in meaning to one of its
examples, unless the context says otherwise.

A trainer writes a set's examples as ordinary sentences ("Your new card is on its way").
An utterance is cut into sentences and, when long, clauses (`coaching.text.clauses`);
each is embedded by a sentence encoder and compared with the set's examples. It matches
when it is at least `min_similarity` close to an example and closer to the set's examples
than to its near misses (`unlike`: "Sorry, could you repeat that?" for the apology).
Context guards (`unless`) are phrase sets too: "sorry, what was your name again" asks,
it does not apologize; "I'm not able to send it" is no next step. A set can also be
implied by others said in one sentence (`also_when`): a promise with a time is a next
step.

This module is pure: the encoder is injected (anything with `encode(texts) -> unit
vectors`), loaded elsewhere (`audio.sentence_encoder`). Without one, the patterns and
guards still work. Example sentences are embedded once per playbook, when the encoder
is attached; each utterance's clauses are embedded once and cached, however many sets
and rules ask about it.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from coaching.learned_intents import FUNCTION_WORDS, LearnedIntents
from coaching.phrase_types import (
    QUESTION,
    Encoder,
    MatchingConfig,
    PhraseMatch,
    SetMeaning,
)
from coaching.text import Clause, clauses, normalize_text

__all__ = ["Encoder", "SetMeaning", "MatchingConfig", "PhraseMatch", "PhraseMatcher",
           "QUESTION"]

@dataclass
class _Examples:
    """The examples of every set embedded once: rows of `vectors`, by set, like/unlike."""

    encoder_name: str
    vectors: np.ndarray
    texts: list[str]
    like: dict[str, np.ndarray]  # set -> row indices
    rivals: dict[str, np.ndarray]  # set -> rows a match must be closer to it than to


@dataclass
class _Read:
    """One utterance text, read once: its words, clauses and their embeddings."""

    norm: str
    units: list[Clause]
    sentences: list[Clause]
    sims: np.ndarray | None = None  # units x examples
    raw: str = ""
    vectors: np.ndarray | None = None  # units x encoder dim
    whole: np.ndarray | None = None  # the whole utterance's vector (the learned model's)
    learned: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    # (speaker, unit index or -1 for the whole) -> set -> probability
    found: dict[str, PhraseMatch | None] = field(default_factory=dict)
    hits: dict[str, list[re.Match[str]]] = field(default_factory=dict)  # set -> in `norm`
    says: dict[tuple[str, str], bool] = field(default_factory=dict)  # (set, clause text)


def _any_of(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    """All of a set's patterns as one regex: one search in C says whether any of them is
    in a text, before each is searched for where (None when they cannot be joined)."""
    if not patterns:
        return None
    sources = [p.pattern for p in patterns]
    if all(s.startswith(_HEAD) and s.endswith(_TAIL) for s in sources):
        # every pattern starts at a word's start: one look there, not one per pattern at
        # every character (three times faster on the largest sets)
        inner = "|".join(f"(?:{s[len(_HEAD):-len(_TAIL)]})" for s in sources)
        joined = f"{_HEAD}{inner}{_TAIL}"
    else:
        joined = "|".join(f"(?:{s})" for s in sources)
    try:
        return re.compile(joined)
    except re.error:  # the same group name in two patterns
        return None


_HEAD, _TAIL = r"(?<!\w)(?:", r")(?!\w)"  # what the playbook wraps each pattern in


def _search_all(patterns: Sequence[re.Pattern[str]], text: str) -> list[re.Match[str]]:
    found = [m for p in patterns for m in p.finditer(text)]
    return sorted(found, key=lambda m: (m.start(), -len(m.group(0))))


def _word_at(text: str, char: int) -> int:
    return len(text[:char].split())


class PhraseMatcher:
    """Finds phrase sets in utterances: patterns, examples, guards, implied sets.

    Thread-safe: the live engine and the window may ask from their own threads, and the
    encoder may be attached from a loading thread while they do."""

    def __init__(self, patterns: Mapping[str, tuple[re.Pattern[str], ...]],
                 meanings: Mapping[str, SetMeaning], config: MatchingConfig,
                 learned: LearnedIntents | None = None, min_probability: float = 0.5,
                 learned_min_words: int = 2,
                 learned_floors: Mapping[str, float] | None = None) -> None:
        self.patterns = dict(patterns)
        self.learned = learned
        self.min_probability = min_probability
        self.learned_min_words = learned_min_words
        self.learned_floors = dict(learned_floors or {})
        self._any: dict[str, re.Pattern[str] | None] = {}  # joined when first searched
        self.meanings = dict(meanings)
        self.config = config
        self._examples: _Examples | None = None
        self._encoder: Encoder | None = None
        self._cache: OrderedDict[str, _Read] = OrderedDict()
        self._lock = threading.RLock()

    def __getstate__(self) -> dict:
        """Pickled as it was built: patterns, meanings and settings, without the encoder,
        the readings or the lock; the process that unpickles it (the replay engine's)
        attaches its own encoder."""
        return {"patterns": self.patterns, "meanings": self.meanings, "config": self.config,
                "learned": self.learned, "min_probability": self.min_probability,
                "learned_min_words": self.learned_min_words,
                "learned_floors": self.learned_floors}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["patterns"], state["meanings"], state["config"],
                      state.get("learned"), state.get("min_probability", 0.5),
                      state.get("learned_min_words", 2), state.get("learned_floors"))

    # -- the encoder ---------------------------------------------------------------

    @property
    def encoder_name(self) -> str | None:
        """The attached encoder's name, or None (patterns and guards only)."""
        return self._examples.encoder_name if self._examples is not None else None

    def use(self, encoder: Encoder | None) -> None:
        """Attach `encoder` (None detaches it): embeds every example sentence once."""
        if encoder is None:
            with self._lock:
                self._encoder, self._examples = None, None
                self._cache.clear()
            return
        texts: list[str] = []
        like: dict[str, list[int]] = {}
        unlike: dict[str, list[int]] = {}
        for name, meaning in self.meanings.items():
            for kind, sentences in ((like, meaning.like), (unlike, meaning.unlike)):
                for s in sentences:
                    kind.setdefault(name, []).append(len(texts))
                    texts.append(s)
        vectors = (np.asarray(encoder.encode(texts), dtype=np.float32) if texts
                   else np.zeros((0, 1), np.float32))
        rivals = {}
        for name, meaning in self.meanings.items():
            # its near misses, and the examples of the other sets of the same speaker:
            # a clause closer to "What else can I do for you?" than to any greeting is
            # no greeting, however close it is to one
            rows = list(unlike.get(name, []))
            if self.config.rival_sets:
                rows += [i for other, m in self.meanings.items()
                         if other != name and m.said_by == meaning.said_by
                         for i in like.get(other, [])]
            rivals[name] = np.array(rows, dtype=int)
        examples = _Examples(getattr(encoder, "name", type(encoder).__name__), vectors, texts,
                             {k: np.array(v) for k, v in like.items()}, rivals)
        with self._lock:
            self._encoder, self._examples = encoder, examples
            self._cache.clear()

    # -- questions -----------------------------------------------------------------

    def intents(self, speaker: str) -> list[str]:
        """The sets listened for in `speaker`'s words, in the playbook's order."""
        return [n for n, m in self.meanings.items() if m.said_by == speaker]

    def find(self, name: str, text: str) -> PhraseMatch | None:
        """The first place set `name` is said in `text`, or None."""
        read = self._read(text)
        with self._lock:
            if name not in read.found:
                read.found[name] = self._judge(name, read)
            return read.found[name]

    def judge(self, text: str, speaker: str) -> dict[str, PhraseMatch]:
        """Every set listened for in `speaker`'s words that `text` says, with its match."""
        out = {}
        for name in self.intents(speaker):
            match = self.find(name, text)
            if match is not None:
                out[name] = match
        return out

    # -- reading -------------------------------------------------------------------

    def _read(self, text: str) -> _Read:
        with self._lock:
            read = self._cache.get(text)
            if read is not None:
                self._cache.move_to_end(text)
                return read
            encoder, examples = self._encoder, self._examples
        units = clauses(text, max_words=int(self.config.clause_max_words))
        sentences = [u for u in units if not any(
            s.first <= u.first and u.last <= s.last and s is not u for s in units)]
        read = _Read(normalize_text(text), units, sentences, raw=text)
        learns = self._learns(encoder)
        if encoder is not None and examples is not None and units and \
                (len(examples.texts) or learns):
            # and the whole utterance, which the learned model reads, unless one clause
            # is all of it
            whole = learns and (len(units) > 1 or units[0].raw != text.strip())
            texts = [u.raw for u in units] + ([text] if whole else [])
            vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
            read.vectors = vectors[:len(units)]
            read.whole = vectors[-1] if learns else None
            if len(examples.texts):
                read.sims = read.vectors @ examples.vectors.T
        with self._lock:
            self._cache[text] = read
            while len(self._cache) > int(self.config.cache_size):
                self._cache.popitem(last=False)
        return read

    def _unit_at(self, read: _Read, word: int) -> Clause | None:
        """The smallest clause holding word `word`."""
        holding = [u for u in read.units if u.covers(word)]
        return min(holding, key=lambda u: u.last - u.first) if holding else None

    def _hits(self, read: _Read, name: str) -> list[re.Match[str]]:
        """Every match of set `name`'s patterns in the utterance, searched once per reading
        (guards and sets ask about the same utterance many times)."""
        found = read.hits.get(name)
        if found is None:
            quick = self._joined(name)
            found = read.hits[name] = (
                [] if quick is not None and quick.search(read.norm) is None
                else _search_all(self.patterns.get(name, ()), read.norm))
        return found

    def _joined(self, name: str) -> re.Pattern[str] | None:
        """Set `name`'s patterns as one regex, compiled the first time it is searched for:
        loading a playbook then costs half as much, and a process that never matches
        phrases (the window, which keeps a shown call's thresholds) never compiles them."""
        if name not in self._any:
            self._any[name] = _any_of(self.patterns.get(name, ()))
        return self._any[name]

    def _says(self, read: _Read | None, name: str, text: str) -> bool:
        """Whether a pattern of set `name` is found in `text` (a clause or sentence of
        `read`), remembered per reading."""
        key = (name, text)
        said = read.says.get(key) if read is not None else None
        if said is None:
            quick = self._joined(name)
            said = (quick.search(text) is not None if quick is not None
                    else any(p.search(text) for p in self.patterns.get(name, ())))
            if read is not None:
                read.says[key] = said
        return said

    def _guarded(self, name: str, unit: Clause | None, read: _Read | None = None,
                 word: int | None = None) -> bool:
        return self._guard_of(name, unit, read, word) is not None

    def _guard_of(self, name: str, unit: Clause | None, read: _Read | None = None,
                  word: int | None = None) -> str | None:
        """The guard that cancels set `name` there, or None: a guard said in the clause,
        or a guard whose words run over the match's first word (`word`; for a match by
        meaning, any word of the clause) even where the clause was cut before it ("I'm
        not like, you know, terrified")."""
        if unit is None:
            return None
        meaning = self.meanings.get(name, SetMeaning())
        if meaning.unless_in_sentence and read is not None:
            sentence = next((x for x in read.sentences if x.covers(unit.first)), unit)
            for guard in meaning.unless_in_sentence:
                if self._says(read, guard, sentence.text):
                    return guard
        for guard in meaning.unless:
            if guard == QUESTION:
                if unit.question:
                    return guard
                continue
            if self._says(read, guard, unit.text):
                return guard
            lo, hi = (word, word) if word is not None else (unit.first, unit.last)
            if read is not None and any(
                    _word_at(read.norm, m.start()) <= hi
                    and lo <= _word_at(read.norm, max(m.start(), m.end() - 1))
                    for m in self._hits(read, guard)):
                return guard
        return None

    def _lacks_need(self, name: str, unit: Clause, read: _Read | None = None) -> str | None:
        """The first of set `name`'s `needs` when the clause says none of them (so a
        match by meaning does not count there), else None."""
        needs = self.meanings.get(name, SetMeaning()).needs
        for need in needs:
            if need == QUESTION:
                if unit.question:
                    return None
            elif self._says(read, need, unit.text):
                return None
        return needs[0] if needs else None

    def _lacks_company(self, name: str, read: _Read, word: int) -> str | None:
        """The first of set `name`'s `said_with` when the sentence holding word `word`
        says none of them and is no short answer (so nothing counts there), else None."""
        company = self.meanings.get(name, SetMeaning()).said_with
        if not company:
            return None
        sentence = next((s for s in read.sentences if s.covers(word)), None)
        text = sentence.text if sentence is not None else read.norm
        if len(text.split()) <= self.config.short_answer_words:
            return None
        for other in company:
            if self._says(read, other, text):
                return None
        return company[0]

    def _by_pattern(self, name: str, read: _Read) -> list[PhraseMatch]:
        out = []
        for m in self._hits(read, name):
            first = _word_at(read.norm, m.start())
            if self._guarded(name, self._unit_at(read, first), read, first) or \
                    self._lacks_company(name, read, first):
                continue
            last = first + max(1, len(m.group(0).split())) - 1
            out.append(PhraseMatch(name, read.norm, first, last, "pattern",
                                   pattern=_source(m.re), regex=m))
        return out

    def _by_example(self, name: str, read: _Read, units: Sequence[int] | None = None
                    ) -> list[PhraseMatch]:
        ex = self._examples
        if read.sims is None or ex is None or name not in ex.like:
            return []
        meaning = self.meanings[name]
        floor = (meaning.min_similarity if meaning.min_similarity is not None
                 else self.config.min_similarity)
        like = read.sims[:, ex.like[name]]
        best = like.argmax(axis=1)
        near = (read.sims[:, ex.rivals[name]].max(axis=1) if len(ex.rivals.get(name, ()))
                else np.full(len(read.units), -1.0))
        out = []
        for i in units if units is not None else range(len(read.units)):
            sim = float(like[i, best[i]])
            if sim < floor or sim < near[i] + self.config.margin:
                continue
            unit = read.units[i]
            if self._guarded(name, unit, read) or self._lacks_need(name, unit, read) or \
                    self._lacks_company(name, read, unit.first):
                continue
            out.append(PhraseMatch(name, read.norm, unit.first, unit.last, "example",
                                   example=ex.texts[int(ex.like[name][best[i]])],
                                   similarity=round(sim, 3)))
        return out

    def _learns(self, encoder: Encoder | None) -> bool:
        """Whether the learned model can speak with `encoder`'s vectors (the ones it was
        trained on; without them its vector rows would mean nothing)."""
        return (self.learned is not None and encoder is not None and
                getattr(encoder, "name", None) == self.learned.encoder_name)

    def _by_learned(self, name: str, read: _Read) -> list[PhraseMatch]:
        model = self.learned
        speaker = model.speaker_of(name) if model is not None else None
        if model is None or speaker is None or read.whole is None or not read.sentences or \
                _content_words(read.norm) < self.learned_min_words:  # "Okay." says nothing
            return []
        p = self._learned_p(read, speaker, -1).get(name, 0.0)
        if p < self.learned_floors.get(name, self.min_probability):
            return []
        # the words: the sentence that says it most, when there are several
        best = read.sentences[0]
        if len(read.sentences) > 1:
            index = {id(u): i for i, u in enumerate(read.units)}
            best = max(read.sentences, key=lambda u: self._learned_p(
                read, speaker, index[id(u)]).get(name, 0.0))
        # the set's guards hold here too: "sorry, could you repeat that" asks, whoever
        # reads it; and a question set needs a question. (Its other `needs` do not: they
        # stand in for words a bag of words cannot weigh, and the model weighs them.)
        asks = QUESTION in self.meanings.get(name, SetMeaning()).needs
        if self._guarded(name, best, read) or (asks and not best.question):
            return []
        first, last = best.first, best.last
        return [PhraseMatch(name, read.norm, first, last, "learned", similarity=round(p, 3),
                            learned_words=model.weighed_words(name, read.raw))]

    def _learned_p(self, read: _Read, speaker: str, unit: int) -> dict[str, float]:
        """The model's probabilities for the whole utterance (`unit` -1) or one clause,
        worked out once per utterance and speaker."""
        key = (speaker, unit)
        if key not in read.learned:
            text, vector = ((read.raw, read.whole) if unit < 0 else
                            (read.units[unit].raw, read.vectors[unit]))
            read.learned[key] = self.learned.probabilities(speaker, text, vector)
        return read.learned[key]

    def _implied(self, name: str, read: _Read) -> list[PhraseMatch]:
        out = []
        for group in self.meanings.get(name, SetMeaning()).also_when:
            for sentence in read.sentences:
                inside = [i for i, u in enumerate(read.units)
                          if sentence.first <= u.first and u.last <= sentence.last]
                if all(self._in_sentence(g, read, sentence, inside) for g in group) and \
                        not self._guarded(name, sentence, read):
                    out.append(PhraseMatch(name, read.norm, sentence.first, sentence.last,
                                           "implied", implied_by=tuple(group)))
        return out

    def _in_sentence(self, name: str, read: _Read, sentence: Clause,
                     inside: Sequence[int]) -> bool:
        if name == QUESTION:
            return sentence.question
        if any(sentence.covers(m.first) for m in self._by_pattern(name, read)):
            return True
        return bool(self._by_example(name, read, inside))

    def _judge(self, name: str, read: _Read) -> PhraseMatch | None:
        found = self._by_pattern(name, read) + self._by_example(name, read) + \
            self._implied(name, read)
        if not found:
            found = self._by_learned(name, read)
        if not found:
            return None
        order = {"pattern": 0, "implied": 1, "example": 2, "learned": 3}
        return min(found, key=lambda m: (m.first, order[m.how], -m.similarity))


def _content_words(norm: str) -> int:
    """How many words of `norm` say something (not "I", "it", "okay", ...)."""
    return sum(1 for w in norm.split() if w not in FUNCTION_WORDS)


def _source(pattern: re.Pattern[str]) -> str:
    """The pattern as the trainer wrote it (without the word boundaries added on load)."""
    src = pattern.pattern
    head, tail = _HEAD, _TAIL
    return src[len(head):-len(tail)] if src.startswith(head) and src.endswith(tail) else src
