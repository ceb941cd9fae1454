"""The redactor: utterances in as Whisper wrote them, out with personal data replaced.

It streams, because live the transcript must never show a card number even for a moment
and a card number is often read over several utterances ("4539" ... "okay" ... "1488").
Each speaker's digits form runs that go on across that speaker's utterances while they
resume within `continue_within_s` and no cue is said in between. An utterance whose
digits may still be the start of a number is held back until the run is decided, except
where its kind is already certain (digits after "what is the card number?" are a card
number however the run goes on): those are redacted as they come. `redact_utterances`
is the same redactor fed a whole call in the order a live engine would have been.

Cues ("security code", "date of birth") come from the playbook; the latest one said by
either party gives the digits that follow it their kind, for `context_window_s` after it
(each number taken extends it). A card number found by itself (Luhn) opens a card
context too, so "739" said right after it is redacted without a cue.

Names and postal addresses are words, not digits (`coaching.redaction_people`): the name
the customer gives, wherever it is said after; a house number and street, or the answer
to "what is your address?". They are claimed with email addresses, before the digits.

Kept audio is silenced over every redaction, and beyond: a short answer the other party
gives inside a payment or identity context ("what is the security code?" - "739") is
silenced whole, whatever Whisper made of it ("7th free"), since audio Whisper misheard
still says the digits to anyone who listens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from coaching.number_words import WordClass, classify
from coaching.redaction_claims import Claim, amount_before, charged_to, claim_run, real_digits
from coaching.redaction_config import MARKERS, RedactionConfig
from coaching.redaction_cues import Cue, CueTimeline
from coaching.redaction_email import email_spans
from coaching.redaction_people import People
from coaching.timeline import Redaction, Speaker, Utterance, Word

__all__ = ["Redactor", "SilenceSpan", "redact_utterances"]

_EPS = 0.05
_MAX_FILLERS = 2  # more fillers than this in a row end a run
_LATER_CUE_WORDS = 4  # "4539 ... is my card number": a cue this close after a run
_EDGE_WORDS = 2  # a redaction this close to an utterance's edge is silenced to the edge
_PUNCT_KEPT = ".,?!;:"
_ANSWER_WORDS = 12  # an answer this short, in a guarded context, is silenced whole
_GUARDED = frozenset({"card_number", "security_code", "expiry_date", "ssn", "date_of_birth",
                      "bank_account", "routing_number"})


@dataclass(frozen=True, slots=True)
class SilenceSpan:
    """A stretch of call audio to silence in kept recordings (both channels).

    `reason` is the redaction's kind, or "unchecked" for speech no transcript covers.
    """

    speaker: Speaker
    start: float
    end: float
    reason: str


class _Held:
    """An utterance on its way through: its words' classes and the claims on them."""

    __slots__ = ("utterance", "words", "classes", "claims", "released", "synthetic")

    def __init__(self, u: Utterance) -> None:
        self.utterance = u
        self.synthetic = not u.words
        self.words: list[Word] = list(u.words) if u.words else _words_from_text(u)
        self.classes: list[WordClass] = [classify(w.text) for w in self.words]
        self.claims: dict[int, tuple[int, str]] = {}  # word index -> (record, kind)
        self.released = False


@dataclass(frozen=True, slots=True)
class _Tok:
    held: _Held
    index: int

    @property
    def cls(self) -> WordClass:
        return self.held.classes[self.index]

    @property
    def start(self) -> float:
        return self.held.words[self.index].start

    @property
    def end(self) -> float:
        return self.held.words[self.index].end


class _Run:
    """One speaker's digits said together, maybe over several utterances."""

    def __init__(self, speaker: Speaker, cue: Cue | None) -> None:
        self.speaker = speaker
        self.cue = cue
        self.tokens: list[_Tok] = []
        self.settled = False  # its kind is certain: its utterances need not wait
        self.amount = False  # said after an amount word ("a payment of 120")
        self.records: dict[str, int] = {}  # kind -> index of its redaction record

    @property
    def last_end(self) -> float:
        return self.tokens[-1].end

    def holds(self, held: _Held) -> bool:
        return not self.settled and any(t.held is held for t in self.tokens)


def _words_from_text(u: Utterance) -> list[Word]:
    """Words spread evenly over an utterance that came without word times."""
    parts = u.text.split()
    if not parts:
        return []
    step = (u.end - u.start) / len(parts)
    return [Word(u.start + i * step, u.start + (i + 1) * step, p) for i, p in enumerate(parts)]


def _numberish(c: WordClass) -> bool:
    return c.kind in ("numeral", "number_words", "homophone", "month", "ordinal")


class Redactor:
    """Feed it utterances as they are transcribed; it gives them back redacted.

    `feed` returns the utterances now certain (possibly earlier, held ones), `tick`
    those whose digits nobody went on with, `flush` the rest at the end of the call.
    """

    def __init__(self, config: RedactionConfig) -> None:
        self.config = config
        self._cues = CueTimeline(config)
        self._people = People(config)
        self._open: dict[str, _Run] = {}
        self._held: dict[str, list[_Held]] = {}
        self._records: list[list] = []  # [kind, speaker, start, end]
        self._silence: list[SilenceSpan] = []

    # -- results ---------------------------------------------------------------------
    @property
    def redactions(self) -> tuple[Redaction, ...]:
        """Every redaction so far, in order of start (kind, whose, where; no content)."""
        return tuple(sorted((Redaction(k, s, round(a, 3), round(b, 3))
                             for k, s, a, b in self._records), key=lambda r: r.start))

    @property
    def silence_spans(self) -> tuple[SilenceSpan, ...]:
        """Where kept audio must be silent: the redacted words of released utterances."""
        return tuple(self._silence)

    def pending_since(self) -> float | None:
        """The start of the earliest utterance held back, if any (audio before it is
        decided for good)."""
        starts = [h.utterance.start for held in self._held.values() for h in held]
        return min(starts) if starts else None

    # -- input -----------------------------------------------------------------------
    def feed(self, u: Utterance) -> list[Utterance]:
        """One transcribed utterance; the utterances that are now final, redacted."""
        h = _Held(u)
        texts = [w.text for w in h.words]
        hits = self._cues.find(texts)
        cue_words = {i for a, b, _ in hits for i in range(a, b + 1)}
        self._silence_answer(h, hits)
        for _, b, kind in hits:
            t = h.words[b].end
            self._cues.add(Cue(kind, t, t + self.config.context_window_s, u.speaker))
        touched = [u.speaker]
        if hits:  # a cue ends the other party's pending digits
            said = h.words[hits[0][0]].start
            for spk, run in list(self._open.items()):
                if spk != u.speaker and run.last_end <= said + _EPS:
                    del self._open[spk]
                    self._close(run)
                    touched.insert(0, spk)
        self._claim_words(h, texts, hits)
        self._runs(h, hits, cue_words)
        self._held.setdefault(u.speaker, []).append(h)
        out: list[Utterance] = []
        for spk in touched:
            out += self._release(spk)
        return out

    def tick(self, now: float, speaker: str | None = None) -> list[Utterance]:
        """Everything `speaker` said (anyone's, when None) before call time `now` has been
        fed: digits not resumed in time end their number.

        Live, `now` is where that speaker's untranscribed speech begins, not the clock: a
        number read on is not cut in two while Whisper catches up.
        """
        out: list[Utterance] = []
        for spk, run in list(self._open.items()):
            if speaker not in (None, spk):
                continue
            if now - run.last_end > self.config.continue_within_s:
                del self._open[spk]
                self._close(run)
                out += self._release(spk)
        return out

    def flush(self) -> list[Utterance]:
        """The call ended: decide every open run and give back everything held."""
        out: list[Utterance] = []
        for spk, run in list(self._open.items()):
            del self._open[spk]
            self._close(run)
        for spk in list(self._held):
            out += self._release(spk)
        return out

    # -- cues and claims ---------------------------------------------------------------
    def _silence_answer(self, h: _Held, hits: list[tuple[int, int, str]]) -> None:
        """Kept audio: the words after a guarded cue in this utterance, or this whole
        utterance when it answers the other party's guarded cue, are silenced."""
        u, words = h.utterance, h.words
        if not words:
            return
        here = [(b, kind) for _, b, kind in hits if kind in _GUARDED and self.config.on(kind)]
        if here:
            b, kind = here[-1]
            if 0 < len(words) - 1 - b <= _ANSWER_WORDS:
                self._silence.append(SilenceSpan(u.speaker, words[b].end, u.end, kind))
            return
        cue = self._cues.active(words[0].start)
        if (cue is not None and cue.kind in _GUARDED and self.config.on(cue.kind)
                and cue.speaker != u.speaker and len(words) <= _ANSWER_WORDS):
            self._silence.append(SilenceSpan(u.speaker, u.start, u.end, cue.kind))

    def _claim_words(self, h: _Held, texts: list[str], hits: list[tuple[int, int, str]]
                     ) -> None:
        """Personal data said in words (emails, names, addresses), claimed before the
        digits so a house number or an address's digits are not read as another kind."""
        if not h.words:
            return
        speaker = h.utterance.speaker
        cue = self._cues.active(h.words[0].start)
        found = self._people.spans(speaker, texts, h.classes,
                                   [(w.start, w.end) for w in h.words], hits, cue)
        if self.config.on("email"):
            here = [b for _, b, kind in hits if kind == "email"]
            in_context = bool(here) or (cue is not None and cue.kind == "email")
            found += [(lo, hi, "email") for lo, hi in email_spans(
                h.classes, texts, in_context, here[-1] if here else -1)]
        for lo, hi, kind in found:
            record = self._record(kind, speaker, h.words[lo].start, h.words[hi].end)
            for i in range(lo, hi + 1):
                h.claims.setdefault(i, (record, kind))

    def _record(self, kind: str, speaker: str, start: float, end: float,
                index: int | None = None) -> int:
        if index is None:
            self._records.append([kind, speaker, start, end])
            return len(self._records) - 1
        rec = self._records[index]
        rec[2], rec[3] = min(rec[2], start), max(rec[3], end)
        return index

    def _apply(self, run: _Run, claims: Iterable[Claim]) -> None:
        """Mark the claimed tokens (and what lies between them in each utterance)."""
        for claim in claims:
            toks = run.tokens[claim.first:claim.last + 1]
            record = self._record(claim.kind, run.speaker, toks[0].start, toks[-1].end,
                                  run.records.get(claim.kind))
            run.records[claim.kind] = record
            spans: dict[int, list] = {}
            for t in toks:
                if not t.held.released:
                    span = spans.setdefault(id(t.held), [t.held, t.index, t.index])
                    span[2] = t.index
            for held, lo, hi in spans.values():
                for i in range(lo, hi + 1):
                    held.claims.setdefault(i, (record, claim.kind))
            if claim.by_cue and run.cue is not None:
                run.cue.expires = max(run.cue.expires,
                                      toks[-1].end + self.config.context_window_s)
            elif claim.kind == "card_number" and not claim.by_cue:
                t = toks[-1].end  # what follows a card number is payment data too
                self._cues.add(Cue("card_number", t, t + self.config.context_window_s))

    def _close(self, run: _Run, later_cue: str | None = None) -> None:
        classes = [t.cls for t in run.tokens]
        last = run.tokens[-1]
        after = last.held.classes[last.index + 1:last.index + 2]
        amount = run.amount or (bool(after) and after[0].key in self.config.quantity_words)
        self._apply(run, claim_run(classes, run.cue.kind if run.cue else None, self.config,
                                   later_cue, amount=amount))

    def _settle(self, run: _Run) -> None:
        """An open run already taken whole (by its cue, or as a card number) is redacted
        now and its utterances need not wait; digits said on are redacted as they come."""
        claims = claim_run([t.cls for t in run.tokens], run.cue.kind if run.cue else None,
                           self.config, amount=run.amount)
        if run.settled or any(c.first == 0 and c.last == len(run.tokens) - 1 for c in claims):
            run.settled = True
            self._apply(run, claims)

    # -- runs --------------------------------------------------------------------------
    def _runs(self, h: _Held, hits: list[tuple[int, int, str]], cue_words: set[int]) -> None:
        """Walk the utterance's words, growing and closing the speaker's runs."""
        speaker = h.utterance.speaker
        current = self._open.pop(speaker, None)
        first = next((i for i, c in enumerate(h.classes) if c.kind != "filler"), None)
        if current is not None and not (
                first is not None and _numberish(h.classes[first])
                and first not in cue_words and first not in h.claims
                and h.words[first].start - current.last_end <= self.config.continue_within_s):
            self._close(current)
            current = None
        fillers = 0
        for i, c in enumerate(h.classes):
            if i in cue_words or i in h.claims or not (_numberish(c) or c.kind == "filler"):
                if current is not None:
                    self._close(current, self._later_cue(current, h, hits))
                    current = None
                continue
            if c.kind == "filler":
                fillers += current is not None
                if fillers > _MAX_FILLERS:
                    self._close(current)
                    current, fillers = None, 0
                continue
            if current is None:
                current = _Run(speaker, self._cues.active(h.words[i].start))
                current.amount = amount_before([c.key for c in h.classes], i,
                                               self.config.amount_words)
            current.tokens.append(_Tok(h, i))
            fillers = 0
        if current is None:
            return
        classes = [t.cls for t in current.tokens]
        if real_digits(classes) >= 1:  # even "four," may be the start of a card number
            self._open[speaker] = current  # it may go on in the next utterance
            self._settle(current)
        else:
            self._close(current)

    def _later_cue(self, run: _Run, h: _Held, hits: list[tuple[int, int, str]]) -> str | None:
        last = run.tokens[-1]
        if last.held is not h:
            return None
        for a, _, kind in hits:
            if last.index < a <= last.index + _LATER_CUE_WORDS:
                between = [c.key for c in h.classes[last.index + 1:a]]
                return None if kind == "card_number" and charged_to(between) else kind
        return None

    # -- output ------------------------------------------------------------------------
    def _release(self, speaker: str) -> list[Utterance]:
        held = self._held.get(speaker, [])
        run = self._open.get(speaker)
        out = []
        while held and not (run is not None and run.holds(held[0])):
            out.append(self._finish(held.pop(0)))
        return out

    def _finish(self, h: _Held) -> Utterance:
        """The utterance with each claimed stretch replaced by its marker."""
        h.released = True
        u = h.utterance
        if not h.claims:
            return u
        words, n, i = h.words, len(h.words), 0
        out: list[Word] = []
        while i < n:
            if i not in h.claims:
                out.append(words[i])
                i += 1
                continue
            record, kind = h.claims[i]
            j = i
            while j + 1 < n and h.claims.get(j + 1, (None,))[0] == record:
                j += 1
            tail = ""
            text = words[j].text.rstrip()
            while text and text[-1] in _PUNCT_KEPT:
                tail, text = text[-1] + tail, text[:-1]
            out.append(Word(words[i].start, words[j].end, MARKERS[kind] + tail,
                            min(w.probability for w in words[i:j + 1])))
            start = u.start if i <= _EDGE_WORDS else words[i - 1].end
            end = u.end if n - 1 - j <= _EDGE_WORDS else words[j + 1].start
            self._silence.append(SilenceSpan(u.speaker, min(start, words[i].start),
                                             max(end, words[j].end), kind))
            i = j + 1
        text = " ".join(w.text for w in out)
        return Utterance(u.speaker, u.start, u.end, text, () if h.synthetic else tuple(out))


def redact_utterances(utterances: Sequence[Utterance], config: RedactionConfig
                      ) -> tuple[list[Utterance], tuple[Redaction, ...], tuple[SilenceSpan, ...]]:
    """A whole call at once, as the live engine would have redacted it.

    Utterances are fed in the order their transcripts would arrive live (by end); before
    each, every speaker's clock ticks to that end or to where their next utterance
    starts, whichever is earlier (as live, where it waits for that transcript). The
    result is in call order.
    """
    redactor = Redactor(config)
    ordered = sorted(utterances, key=lambda u: (u.end, u.start))
    starts: dict[str, list[float]] = {}
    for u in sorted(utterances, key=lambda u: u.start, reverse=True):
        starts.setdefault(u.speaker, []).append(u.start)  # earliest last: popped first
    out: list[Utterance] = []
    for u in ordered:
        for speaker, pending in starts.items():
            out += redactor.tick(min([u.end, *pending[-1:]]), speaker)
        starts[u.speaker].remove(u.start)
        out += redactor.feed(u)
    out += redactor.flush()
    out.sort(key=lambda u: (u.start, u.speaker))
    return out, redactor.redactions, redactor.silence_spans
