"""Transcript text as the phrase sets read it: the normal form, and the sentences and
clauses of an utterance.

Whisper's casing and punctuation vary from run to run, so patterns are matched on a normal
form (lower case, no punctuation). Its punctuation still says where a sentence ends and
whether it asked something, so sentences are cut from the text as transcribed, each one
kept as a run of the normal form's words: a match in a sentence can then be located in
the utterance's words and quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["normalize_text", "Clause", "sentences", "clauses", "ends_asking"]

_PUNCT = re.compile(r"[^\w\s]|_")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?;]+[\"')\]]*$")
_COMMA_END = re.compile(r"[,:]+[\"')\]]*$")
_CONJUNCTION = frozenset({"so", "because", "and"})
_CONTRAST = frozenset({"but", "however", "although", "though", "unfortunately"})
# "I'll send it today, okay?" states; the tag does not make it a question.
_TAG = re.compile(r"(?:^|\s)(okay|ok|alright|all right|right|yeah|is that (ok|okay|alright|"
                  r"all right|fine)|does that (work|sound (good|ok|okay|alright|fair))|"
                  r"sound good|fair enough)$")
_QUESTION_START = frozenset("""
am are is was were do does did have has had can could will would shall should may might
what when where why how who which whats whens wheres hows whos anything any
""".split())
# An unpunctuated question often opens with a filler ("um, can you", "and whos gonna call
# me"); after "and" or "so" only a question word asks ("and should reach you" states).
_FILLERS = frozenset("um uh okay ok oh alright yeah hey sorry".split())
_JOINERS = frozenset("and so but then".split())
_WH = frozenset("what when where why how who which whats whens wheres hows whos".split())


def normalize_text(text: str) -> str:
    """Lower-case, drop punctuation (apostrophes too: "I'm" -> "im"), fold spaces.

    Whisper's casing and punctuation vary from run to run; phrase patterns are written
    against this normal form so that they tolerate it.
    """
    text = text.lower().replace("'", "").replace("\u2019", "").replace("-", " ")
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


@dataclass(frozen=True)
class Clause:
    """A run of an utterance's normalized words: words `first`..`last` (inclusive) of
    `normalize_text(utterance text).split()`.

    Attributes:
        text: the clause in the normal form.
        raw: the clause as transcribed (what a person reads).
        question: the clause asks something (it ends with "?", or, in a transcript with
            no punctuation at all, starts as a question does).
    """

    first: int
    last: int
    text: str
    raw: str
    question: bool

    def covers(self, word: int) -> bool:
        return self.first <= word <= self.last


def _pieces(text: str) -> list[tuple[str, list[str]]]:
    """Each whitespace token of `text` with its normalized words (possibly none)."""
    return [(tok, normalize_text(tok).split()) for tok in text.split()]


def _clause(pieces: list[tuple[str, list[str]]], lo: int, hi: int, first: int,
            punctuated: bool) -> Clause | None:
    words = [w for _, ws in pieces[lo:hi] for w in ws]
    if not words:
        return None
    raw = " ".join(tok for tok, _ in pieces[lo:hi])
    question = raw.rstrip("\"')] ").endswith("?") if punctuated else _asks(words)
    if question and len(words) > 3 and _TAG.search(" ".join(words)):
        head = raw.rstrip("?\"')] ")
        question = "," not in head and not _SENTENCE_END.search(head.rsplit(",", 1)[0])
    return Clause(first, first + len(words) - 1, " ".join(words), raw, question)


def _asks(words: list[str]) -> bool:
    """Whether unpunctuated words open as a question does, past the fillers."""
    joined = False
    for word in words:
        if word in _FILLERS:
            continue
        if word in _JOINERS:
            joined = True
            continue
        return word in (_WH if joined else _QUESTION_START) and _subject_follows(words, word)
    return False


_MODALS = frozenset("am are is was were do does did have has had can could will would "
                    "shall should may might".split())
_STATING = frozenset("i we ive weve ill well youll youve id wed im were".split())
_SUBJECTS = frozenset("i you we it they he she someone somebody anyone anybody there that "
                      "this the my your our his her their a an any".split())


def _subject_follows(words: list[str], opening: str) -> bool:
    """ "should be back by 3" states (its subject dropped); "should I wait" asks. A modal
    asks when a subject follows it; "what a pain" exclaims."""
    rest = words[words.index(opening) + 1:]
    following = rest[0] if rest else ""
    if opening in _MODALS:
        return following in _SUBJECTS
    if opening in ("what", "how") and following in ("a", "an"):
        return False
    return following not in _STATING  # "what I've done is cancel it" states


def sentences(text: str) -> list[Clause]:
    """The sentences of `text`, cut where Whisper ended one (. ! ? ;)."""
    pieces = _pieces(text)
    punctuated = any(_SENTENCE_END.search(tok) or "?" in tok for tok, _ in pieces)
    out: list[Clause] = []
    lo, first = 0, 0
    for i, (tok, _) in enumerate(pieces):
        if _SENTENCE_END.search(tok) or i == len(pieces) - 1:
            clause = _clause(pieces, lo, i + 1, first, punctuated)
            if clause is not None:
                out.append(clause)
                first = clause.last + 1
            lo = i + 1
    return out


def ends_asking(text: str) -> bool:
    """Whether the utterance's last sentence asks something (a tag such as "..., okay?"
    does not): the speaker hands the other party the floor with a question."""
    said = sentences(text)
    return bool(said) and said[-1].question


def clauses(text: str, max_words: int = 12, min_words: int = 3) -> list[Clause]:
    """The units an utterance is judged in: its sentences, and also their parts: before
    a contrast ("I can't refund it | but I'll send a voucher") always, and, for a sentence
    longer than `max_words`, between commas and before "so", "because", "and". Each part
    has at least `min_words` words (shorter parts join the next). Long utterances say
    several things; each part is read on its own too."""
    out: list[Clause] = []
    pieces = _pieces(text)
    punctuated = any(_SENTENCE_END.search(tok) or "?" in tok for tok, _ in pieces)
    # index of each normalized word's token, to cut a sentence at its tokens
    owner = [i for i, (_, ws) in enumerate(pieces) for _ in ws]
    for sentence in sentences(text):
        out.append(sentence)
        long = sentence.last - sentence.first + 1 > max_words
        lo_tok, hi_tok = owner[sentence.first], owner[sentence.last] + 1
        parts: list[Clause] = []
        lo, first = lo_tok, sentence.first
        for i in range(lo_tok, hi_tok):
            tok, ws = pieces[i]
            following = pieces[i + 1][1][:1] if i + 1 < hi_tok else []
            cut_after = bool(following and following[0] in _CONTRAST) or long and (
                bool(_COMMA_END.search(tok)) or bool(following and following[0] in _CONJUNCTION))
            n = sum(len(w) for _, w in pieces[lo:i + 1])
            if (cut_after and n >= min_words) or i == hi_tok - 1:
                part = _clause(pieces, lo, i + 1, first, punctuated)
                if part is not None:
                    parts.append(part)
                    first = part.last + 1
                lo = i + 1
        if len(parts) > 1 and parts[-1].last - parts[-1].first + 1 < min_words:
            tail = parts.pop()
            head = parts.pop()
            parts.append(Clause(head.first, tail.last, f"{head.text} {tail.text}",
                                f"{head.raw} {tail.raw}", tail.question))
        if len(parts) > 1 and sentence.question and parts[0].text.split()[0] in _QUESTION_START:
            # "Are you close enough that you could just turn back, and we switch it off?"
            # asks all through; "I'll send it today, can you confirm?" asks at the end
            parts = [Clause(p.first, p.last, p.text, p.raw, True) for p in parts]
        if len(parts) > 1:
            out += parts
    return out
