"""Names and postal addresses: personal data said in words, not digits.

A name is taken where the customer gives it ("my name is Maria Lopez", "it's Lopez,
L-O-P-E-Z" after the agent's "can I have your last name?") and, once given, wherever
either party says it again ("thank you, Maria"). The agent's own "my name is Sam" is not
the customer's data and stays, as does a name nobody gave. Whisper capitalizes names: a
word is taken as a name when it is capitalized and not a common word (in a transcript
without casing, when it is not a common word).

An address is a house number and a street ("42 Oak Street", "forty two Oak Street"),
with what follows it in the same breath (", apartment 4B, Springfield, 62704"), found in
anyone's words; a British postcode ("SW1A 1AA") anywhere; and, in answer to "what is
your address?" or after "I live at", the numbers and capitalized words that follow.

Pure: the cue phrases come from the playbook's `[redaction.cues]` (`name`,
`name_question`, `postal_address`), the common words from `coaching.common_words`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from coaching.common_words import COMMON_WORDS
from coaching.number_words import WordClass
from coaching.redaction_config import WORD_CUE_KINDS, RedactionConfig
from coaching.redaction_cues import Cue, find_cues

__all__ = ["People", "name_spans", "address_spans", "name_keys", "bare"]

_EDGE = ".,!?;:\"'()[]"
_STREETS = frozenset("""
street st road rd avenue ave lane ln drive dr boulevard blvd way court ct place pl
terrace crescent close parkway pkwy highway hwy circle cir square sq row grove gardens
trail trl pike alley plaza
""".split())
_UNITS = frozenset("apartment apt unit suite ste flat floor building bldg number no".split())
_COMPASS = frozenset("north south east west n s e w ne nw se sw northeast northwest "
                     "southeast southwest".split())
_POSTCODE_OUT = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")
_POSTCODE_IN = re.compile(r"^\d[A-Z]{2}$")
_MAX_NAME_WORDS = 5  # a name given after a cue is at most this long
_MAX_LEAD_INS = 3  # "it's, um, Lopez": common words skipped before the name
_MAX_ADDRESS_WORDS = 16
_MAX_NAME_ANSWER = 8  # an answer to "your name?" this short is taken whole
_LEAD_INS = frozenset("yes yeah yep sure okay ok so well um uh oh it its it's is that's "
                      "thats my name the address of course".split())


def bare(text: str) -> str:
    """A word without the punctuation around it ("Lopez," -> "Lopez")."""
    return text.strip().strip(_EDGE)


def _common(word: str) -> bool:
    low = word.lower()
    return low in COMMON_WORDS or (low.endswith("'s") and low[:-2] in COMMON_WORDS)


def _spelled(text: str, spelling: bool = False) -> bool:
    """Letters spelled out: "L-O-P-E-Z", or one capital letter ("L," in "L, O, P"; "A"
    and "I" only once a spelling is under way, `spelling`)."""
    b = bare(text)
    parts = b.split("-")
    if len(parts) >= 2:
        return all(len(p) == 1 and p.isalpha() for p in parts)
    return len(b) == 1 and b.isalpha() and b.isupper() and (spelling or b not in ("I", "A"))


def _more(texts: Sequence[str], j: int, cased: bool) -> bool:
    """Word `j` goes on the name said up to word `j - 1` (which is in it: after a letter,
    "A" and "I" are letters too)."""
    return _name_like(texts[j], cased) or _spelled(
        texts[j], j > 0 and _spelled(texts[j - 1], True))


def _name_like(text: str, cased: bool) -> bool:
    b = bare(text)
    if len(b) < 2 or not b.replace("-", "").replace("'", "").isalpha() or _common(b):
        return False
    return b[0].isupper() if cased else True


def _cased(texts: Sequence[str]) -> bool:
    """Whether the transcript has casing at all (Whisper's has; a typed test line may
    not, and then capitals cannot tell a name)."""
    return any(c.isupper() for t in texts for c in t)


def _run(texts: Sequence[str], start: int, cased: bool, limit: int) -> tuple[int, int] | None:
    """The name said from `start` on: lead-ins skipped, then name-like or spelled words."""
    i, skipped = start, 0
    while i < len(texts) and skipped < _MAX_LEAD_INS and not (
            _name_like(texts[i], cased) or _spelled(texts[i])):
        if not _common(bare(texts[i])) and bare(texts[i]):
            return None
        i, skipped = i + 1, skipped + 1
    j = i
    while j < len(texts) and j - i < limit and _more(texts, j, cased):
        j += 1
    return (i, j - 1) if j > i else None


def answer_span(texts: Sequence[str], limit: int) -> tuple[int, int] | None:
    """A short answer's words after its lead-in ("Yes, it is ..."), to the end of its
    first sentence, whatever they are: Whisper writes a name or a street it does not
    know as common words ("Maria Lopez" as "very low, Ben"), and those are the data
    all the same. None when the answer is longer than `limit` words."""
    i = 0
    while i < len(texts) and bare(texts[i]).lower() in _LEAD_INS:
        i += 1
    if i >= len(texts):
        return None
    j = i
    while j < len(texts) - 1 and not texts[j].rstrip().endswith((".", "!", "?")):
        j += 1
    if j - i + 1 > limit:
        return None
    return i, j


def name_keys(texts: Sequence[str], span: tuple[int, int]) -> set[str]:
    """The lower-case names a span gives, to be found again later in the call: each
    word that looks like a name, and letters spelled out joined into one ("L-O-P-E-Z"
    -> "lopez"). A misheard name's common words ("very low") are not learned."""
    cased = _cased(texts)
    words = [bare(t) for t in texts[span[0]:span[1] + 1]]
    keys = {w.lower() for w in words if "-" not in w and _name_like(w, cased)}
    letters = "".join(w.replace("-", "") for w in words if _spelled(w))
    if len(letters) > 1:
        keys.add(letters.lower())
    return keys - COMMON_WORDS


def name_spans(texts: Sequence[str], gives: Sequence[int], answering: bool,
               known: set[str], whole: bool = True) -> list[tuple[int, int]]:
    """Word spans (first, last inclusive) of the customer's name in one utterance.

    Args:
        texts: the words as Whisper wrote them.
        gives: the last word of each cue in this utterance where the speaker gives a
            name ("my name is"); only the customer's count (the caller decides).
        answering: the utterance answers the other party's question for a name (or
            says the answer back): its name-like words are taken, and with `whole` a
            short answer is taken whole.
        known: names given earlier in the call (lower case): found in anyone's words.
    """
    cased = _cased(texts)
    spans = []
    for after in gives:
        found = _run(texts, after + 1, cased, _MAX_NAME_WORDS)
        if found is not None:
            spans.append(found)
    if answering:
        short = answer_span(texts, _MAX_NAME_ANSWER) if whole else None
        if short is not None:
            spans.append(short)
        i = 0
        while i < len(texts):
            if _name_like(texts[i], cased) or _spelled(texts[i]):
                j = i
                while j + 1 < len(texts) and _more(texts, j + 1, cased):
                    j += 1
                spans.append((i, j))
                i = j + 1
            else:
                i += 1
    spans += [(i, i) for i, t in enumerate(texts) if bare(t).lower() in known]
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


_HOUSE = re.compile(r"^\d{1,6}[a-z]?$|^\d{1,6}-\d{1,6}$")


def _numberish(c: WordClass) -> bool:
    """A number, as a house number, flat or postal code is said ("42", "221B", "forty")."""
    return (c.kind in ("numeral", "number_words") or bool(_HOUSE.match(c.key))
            or (c.kind == "homophone" and c.key not in ("to", "too", "for", "won")))


def _place_word(text: str, cased: bool) -> bool:
    """A word of a street's or town's name: capitalized and not common, or a compass
    point ("North Main Street")."""
    b = bare(text)
    return bool(b) and (b.lower() in _COMPASS or _name_like(b, cased))


def _address_tail(texts: Sequence[str], classes: Sequence[WordClass], j: int,
                  cased: bool) -> int:
    """The last word of an address whose street ends at `j`: a unit, town, state and
    postal code said on in the same breath."""
    end = j
    k = j + 1
    while k < len(texts) and k - j <= _MAX_ADDRESS_WORDS:
        key = classes[k].key
        if key in _UNITS and k + 1 < len(texts) and (
                _numberish(classes[k + 1]) or len(bare(texts[k + 1])) <= 3):
            end = k = k + 1
        elif _numberish(classes[k]) or _place_word(texts[k], cased) or _postcode_at(texts, k):
            end = k
        elif not bare(texts[k]):
            pass  # a lone comma
        else:
            break
        k += 1
    return end


def _postcode_at(texts: Sequence[str], k: int) -> bool:
    b = bare(texts[k])
    return bool(_POSTCODE_OUT.match(b) and k + 1 < len(texts)
                and _POSTCODE_IN.match(bare(texts[k + 1]))) or bool(
        _POSTCODE_IN.match(b) and k > 0 and _POSTCODE_OUT.match(bare(texts[k - 1])))


def address_spans(texts: Sequence[str], classes: Sequence[WordClass],
                  after: Sequence[int], answering: bool) -> list[tuple[int, int]]:
    """Word spans (first, last inclusive) of postal addresses in one utterance.

    Args:
        texts, classes: the words as Whisper wrote them and their classes.
        after: the last word of each address cue in this utterance ("I live at").
        answering: the utterance answers the other party's address cue.
    """
    cased = _cased(texts)
    spans = []
    for i, c in enumerate(classes):  # a house number, the street's name, its kind
        if not _numberish(c):
            continue
        j = i + 1
        while j < len(texts) and j - i <= 4 and _place_word(texts[j], cased) \
                and classes[j].key not in _STREETS:
            j += 1
        if j > i + 1 and j < len(texts) and classes[j].key in _STREETS:
            first = i
            while first > 0 and _numberish(classes[first - 1]):  # "forty two Elm Road"
                first -= 1
            spans.append((first, _address_tail(texts, classes, j, cased)))
    spans += [(k, k + 1) for k in range(len(texts) - 1)
              if _POSTCODE_OUT.match(bare(texts[k])) and _POSTCODE_IN.match(bare(texts[k + 1]))]
    whole = answer_span(texts, _MAX_ADDRESS_WORDS) if answering else None
    if whole is not None:
        spans.append(whole)
    starts = [a + 1 for a in after] + ([0] if answering else [])
    for s in starts:
        k = s
        while k < len(texts) and k - s < _MAX_LEAD_INS and not (
                _numberish(classes[k]) or _place_word(texts[k], cased)):
            k += 1
        if k < len(texts) and (_numberish(classes[k]) or _place_word(texts[k], cased)):
            end = k
            while end + 1 < len(texts) and (
                    _numberish(classes[end + 1]) or _place_word(texts[end + 1], cased)
                    or classes[end + 1].key in _STREETS | _UNITS or not bare(texts[end + 1])):
                end += 1
            while end > k and not bare(texts[end]):
                end -= 1
            spans.append((k, max(end, _address_tail(texts, classes, end, cased))))
    return _merged(spans)


_ANSWERS = 2  # customer utterances after "can I have your name?" that may answer it
_BACKCHANNEL_WORDS = 2  # the agent's "okay" between spelled letters does not end it


class People:
    """A call's names and addresses as they are said: which names the customer gave,
    and whether the agent has just asked for one."""

    def __init__(self, config: RedactionConfig) -> None:
        self.config = config
        self.known: set[str] = set()
        self._index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for kind in WORD_CUE_KINDS:
            for phrase in config.cues.get(kind, ()):
                self._index.setdefault(phrase[0], []).append((phrase, kind))
        self._asked: float | None = None
        self._answers = 0
        self._read_back = False  # the customer answered: the agent may say it back

    def spans(self, speaker: str, texts: Sequence[str], classes: Sequence[WordClass],
              times: Sequence[tuple[float, float]], hits: Sequence[tuple[int, int, str]],
              active: Cue | None) -> list[tuple[int, int, str]]:
        """(first, last, kind) of the names and addresses in one utterance.

        `hits` are the utterance's digit cues (an address cue among them), `active` the
        digit cue in force as it began (the other party's "what is your address?")."""
        out: list[tuple[int, int, str]] = []
        if self.config.on("postal_address"):
            after = [b for _, b, kind in hits if kind == "postal_address"]
            # The other party's "what is your address?" just before (as soon as digits
            # said on would still be the same number): not every word said after it.
            answering = (active is not None and active.kind == "postal_address"
                         and active.speaker not in (None, speaker) and times
                         and times[0][0] <= active.time + self.config.continue_within_s)
            out += [(a, b, "postal_address")
                    for a, b in address_spans(texts, classes, after, answering)]
        if self.config.on("name"):  # a street or a town is not a name to learn
            taken = {i for a, b, _ in out for i in range(a, b + 1)}
            out += [(a, b, "name") for a, b in self._names(speaker, texts, times, taken)]
        return out

    def _names(self, speaker: str, texts: Sequence[str], times: Sequence[tuple[float, float]],
               taken: set[int]) -> list[tuple[int, int]]:
        hits = find_cues(texts, self._index)
        customer = speaker == "customer"
        start = times[0][0] if times else 0.0
        answering = (customer and self._asked is not None and self._answers < _ANSWERS
                     and self._asked - 0.05 <= start <= self._asked
                     + self.config.context_window_s)
        if answering:
            self._answers += 1
        gives = [b for _, b, kind in hits if kind == "name"] if customer else []
        # The agent's first words after the customer's answer say the name back ("Thank
        # you, Maria"), as they heard it: how it is found when Whisper misheard the answer.
        read_back = not customer and self._read_back
        spans = [(a, b) for a, b in name_spans(texts, gives, answering or read_back,
                                               self.known, whole=not read_back)
                 if not taken & set(range(a, b + 1))]
        learned = set().union(*(name_keys(texts, span) for span in spans))
        if customer or read_back:
            self.known |= learned
        # Said back only when the answer gave a name ("Why do you need it?" does not).
        self._read_back = (answering and bool(learned)) or (customer and self._read_back)
        asked = [b for _, b, kind in hits if kind == "name_question"]
        if asked and not customer:
            self._asked, self._answers = times[asked[-1]][1], 0
        elif not customer and len(texts) > _BACKCHANNEL_WORDS:
            self._asked = None  # the agent went on: what the customer says next is not it
        return spans
