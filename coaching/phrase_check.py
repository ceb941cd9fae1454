"""A playbook checked against lines a trainer writes: which phrase sets each line says,
judged exactly as the coaching engine judges an utterance of that speaker.

This is the core of `callcoach playbook test`: lines `speaker<TAB>text` in, one record
per line out (`{"speaker", "text", "intents"}`). A further tab-separated column (the
intents a trainer expects) is ignored here, so a labelled file can be checked as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from coaching.playbook import Playbook
from coaching.semantic import PhraseMatch
from coaching.text import normalize_text
from coaching.why_not import held_back

__all__ = ["SPEAKERS", "LineError", "Line", "parse_line", "parse_lines", "as_typed",
           "explain", "judge_line"]

SPEAKERS = ("agent", "customer")


class LineError(ValueError):
    """A line that is not `speaker<TAB>text`; the message names the line."""


@dataclass(frozen=True)
class Line:
    number: int
    speaker: str
    text: str


def parse_line(number: int, raw: str) -> Line | None:
    """Line `number` of a file as `speaker<TAB>text`, or None for a blank line or a `#`
    comment. Tab-separated fields after the text (expected labels) are ignored.

    Raises:
        LineError: no tab, or a speaker other than agent/customer.
    """
    line = raw.rstrip("\r\n")
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    speaker, tab, rest = line.partition("\t")
    speaker = speaker.strip().lstrip("\ufeff").lower()  # a byte-order mark: Excel's files
    if not tab:
        raise LineError(f"line {number}: expected speaker<TAB>text, got {line[:40]!r}")
    if speaker not in SPEAKERS:
        raise LineError(f"line {number}: the speaker must be agent or customer, "
                        f"not {speaker[:20]!r}")
    return Line(number, speaker, rest.split("\t")[0].strip())


def parse_lines(lines: Iterable[str]) -> list[Line]:
    """The `speaker<TAB>text` lines of a file; blank lines and `#` comments are skipped.

    Raises:
        LineError: the first line without a tab, or with a speaker other than
            agent/customer.
    """
    out = []
    for number, raw in enumerate(lines, 1):
        line = parse_line(number, raw)
        if line is not None:
            out.append(line)
    return out


def as_typed(text: str, match: PhraseMatch) -> str:
    """The words of `match` as they are written in `text` ("I'll send it", not the
    normal form "ill send it"); the normal form when the two do not line up."""
    pieces = text.split()
    owner: list[int] = []  # for each normalized word, the written word it came from
    for i, piece in enumerate(pieces):
        owner += [i] * len(normalize_text(piece).split())
    if len(owner) != len(match.string.split()) or match.last >= len(owner):
        return match.phrase
    quote = " ".join(pieces[owner[match.first]:owner[match.last] + 1])
    return quote.strip(" .,!?;:\"") or match.phrase


def explain(match: PhraseMatch, text: str | None = None) -> dict:
    """Why a set matched, for a trainer and a script: the words (as written in `text`,
    when given), how, and the pattern, or the example sentence and how close, or the
    sets said together, or the learned model's probability and the words it weighed."""
    words = as_typed(text, match) if text is not None else match.phrase
    out: dict = {"words": words, "how": match.how}
    if match.how == "pattern":
        out["pattern"] = match.pattern
    elif match.how == "example":
        out["example"], out["similarity"] = match.example, match.similarity
    elif match.how == "learned":
        out["probability"], out["learned_words"] = match.similarity, list(match.learned_words)
    else:
        out["implied_by"] = list(match.implied_by)
    out["reason"] = match.reason
    return out


def judge_line(playbook: Playbook, speaker: str, text: str, why: bool = False) -> dict:
    """The record for one line: the sets the engine hears in `text` from `speaker`, in
    the playbook's order (and, with `why`, what matched for each, and the sets that
    came near but did not count, with the reason: `not_counted`)."""
    found = playbook.judge(text, speaker)
    record: dict = {"speaker": speaker, "text": text, "intents": list(found)}
    if why:
        record["why"] = {name: explain(m, text) for name, m in found.items()}
        near = {}
        for name in playbook.intents(speaker):
            held = None if name in found else held_back(playbook.matcher, name, text)
            if held is not None:
                near[name] = {**explain(held.match, text), "not_counted": held.reason}
        if near:
            record["not_counted"] = near
    return record
