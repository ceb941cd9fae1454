"""How Whisper writes numbers, read back as digits: the redactor's view of a word.

Whisper writes a card number a dozen ways: "4539 1488", "4539-1488", "4 ,539", "4 -5 -3
-9", "0 .343", "four five three nine", "double four", "forty five thirty nine", and on
a poor line "for" for four, "free" for three, "to" for two. `classify` says what one word
is; `group_number_words` turns a stretch of number words into digit groups. Homophones
are only candidates here: the redactor counts them only next to real digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["WordClass", "classify", "group_number_words", "UNITS", "MONTHS", "TLDS"]

UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "nil": 0, "one": 1, "two": 2, "three": 3,
         "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
         "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}
_REPEATS = {"double": 2, "triple": 3}
# Words Whisper writes for a digit on a poor line; "oh" and "o" are only zero among digits.
_HOMOPHONES = {"for": "4", "fore": "4", "to": "2", "too": "2", "free": "3", "tree": "3",
               "ate": "8", "won": "1", "oh": "0", "o": "0"}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
             "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
             "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "thirtieth": 30}
MONTHS = frozenset({"january", "february", "march", "april", "may", "june", "july",
                    "august", "september", "october", "november", "december", "jan", "feb",
                    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"})
# Between digits of one number these do not end it ("4539, uh, 1488", "08 slash 27").
_FILLERS = frozenset({"uh", "um", "er", "erm", "ah", "hmm", "mm", "and", "then", "okay", "ok",
                      "so", "yes", "yeah", "right", "dash", "hyphen", "slash", "space",
                      "of", "the", "again"})
TLDS = frozenset({"com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "ca", "de",
                  "fr", "info", "biz", "me", "mail", "au", "nz", "ie", "in"})
_STRIP = "\"'()[]{}<>#*:;,.!?-\u2013\u2014/\\"
_NUMERAL = re.compile(r"^\+?\d[\d\-./,:\s]*$")
_ORDINAL_NUMERAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)$")
_DECIMAL_MONEY = re.compile(r"^[$\u00a3\u20ac\u00a5]|%$")


@dataclass(frozen=True, slots=True)
class WordClass:
    """What one transcript word is to the redactor.

    Attributes:
        kind: "numeral" (digits written as digits), "number_words" (spoken numbers),
            "homophone" (a word that may be a digit), "month", "ordinal", "filler",
            "email" (written with an @), or "other".
        digits: the digits it stands for ("" when it is not a number).
        groups: digit groups as written ("4539-1488" -> ("4539", "1488")): where a card
            number may start or end.
        parts: for number words, the lower-case words ("twenty-four" -> twenty, four).
        key: the word lower-cased without surrounding punctuation.
    """

    kind: str
    digits: str = ""
    groups: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    key: str = ""

    @property
    def is_digits(self) -> bool:
        return self.kind in ("numeral", "number_words")


def _numeral(core: str, key: str) -> WordClass | None:
    if _DECIMAL_MONEY.search(core):
        return WordClass("other", key=key)
    m = _ORDINAL_NUMERAL.match(key)
    if m:
        return WordClass("ordinal", m.group(1), (m.group(1),), key=key)
    if not _NUMERAL.match(core):
        return None
    groups = tuple(g for g in re.split(r"\D+", core) if g)
    return WordClass("numeral", "".join(groups), groups, key=key) if groups else None


def classify(text: str) -> WordClass:
    """One word as Whisper wrote it ("4539,", "-1", "twenty-four", "July", "john@x.com")."""
    raw = text.strip()
    if "@" in raw and any(c.isalnum() for c in raw):
        return WordClass("email", key=raw.lower())
    core = raw.strip(_STRIP)
    key = core.lower()
    if not core:
        return WordClass("other", key=key)
    if any(c.isdigit() for c in core):
        found = _numeral(core, key)
        return found if found is not None else WordClass("other", key=key)
    parts = tuple(p for p in re.split(r"[-\u2013]", key) if p)
    if parts and all(p in UNITS or p in _TEENS or p in _TENS or p in _SCALES
                     or p in _REPEATS for p in parts):  # "double" too: "double four"
        if parts in (("oh",), ("o",)):
            return WordClass("homophone", "0", ("0",), key=key)
        return WordClass("number_words", parts=parts, key=key)
    if key in _HOMOPHONES:
        return WordClass("homophone", _HOMOPHONES[key], (_HOMOPHONES[key],), key=key)
    if key in MONTHS:
        return WordClass("month", key=key)
    if key in _ORDINALS:
        return WordClass("ordinal", str(_ORDINALS[key]), key=key)
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _ORDINALS:  # twenty-first
        value = str(_TENS[parts[0]] + _ORDINALS[parts[1]])
        return WordClass("ordinal", value, key=key)
    if key in _FILLERS:
        return WordClass("filler", key=key)
    return WordClass("other", key=key)


def group_number_words(words: list[str]) -> list[tuple[int, int, str]]:
    """Spoken numbers as digit groups: (first word, last word + 1, digits).

    "four five three nine" -> four groups of one digit; "forty five" -> "45"; "nineteen
    eighty" -> "19", "80"; "double four" -> "44"; "one hundred twenty three" -> "123";
    "two thousand and one" -> "2001". A word that is not a number ends nothing: it is
    skipped (the caller passes number words and the fillers between them).
    """
    out: list[tuple[int, int, str]] = []
    i, n = 0, len(words)

    def unit(j: int) -> int | None:
        return UNITS.get(words[j]) if j < n else None

    while i < n:
        w = words[i]
        if w in _REPEATS and unit(i + 1) is not None:
            out.append((i, i + 2, str(unit(i + 1)) * _REPEATS[w]))
            i += 2
            continue
        lead = unit(i)
        if lead is not None and i + 1 < n and words[i + 1] in _SCALES:
            value, j = lead * _SCALES[words[i + 1]], i + 2
            if j < n and words[j] == "and":
                j += 1
            if _SCALES[words[i + 1]] == 1000 and unit(j) is not None and j + 1 < n \
                    and words[j + 1] == "hundred":
                value += unit(j) * 100
                j += 2
                if j < n and words[j] == "and":
                    j += 1
            rest, j = _below_hundred(words, j)
            width = 4 if _SCALES[words[i + 1]] == 1000 else 3
            out.append((i, j, str(value + (rest or 0)).zfill(width)))
            i = j
            continue
        if w in UNITS:
            out.append((i, i + 1, str(UNITS[w])))
            i += 1
            continue
        rest, j = _below_hundred(words, i)
        if rest is not None:
            out.append((i, j, str(rest)))
            i = j
            continue
        i += 1  # a filler or a stray scale word: no digits of its own
    return out


def _below_hundred(words: list[str], i: int) -> tuple[int | None, int]:
    """A teen, or tens with an optional unit ("forty", "forty five"), from word i."""
    if i >= len(words):
        return None, i
    w = words[i]
    if w in _TEENS:
        return _TEENS[w], i + 1
    if w in _TENS:
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if nxt in UNITS and UNITS[nxt] > 0 and nxt not in ("oh", "o"):
            return _TENS[w] + UNITS[nxt], i + 2
        return _TENS[w], i + 1
    if w in UNITS:
        return UNITS[w], i + 1
    return None, i
