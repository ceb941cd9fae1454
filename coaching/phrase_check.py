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

__all__ = ["SPEAKERS", "LineError", "Line", "parse_lines", "judge_line"]

SPEAKERS = ("agent", "customer")


class LineError(ValueError):
    """A line that is not `speaker<TAB>text`; the message names the line."""


@dataclass(frozen=True)
class Line:
    number: int
    speaker: str
    text: str


def parse_lines(lines: Iterable[str]) -> list[Line]:
    """The `speaker<TAB>text` lines of a file; blank lines and `#` comments are skipped.

    Raises:
        LineError: a line without a tab, or with a speaker other than agent/customer.
    """
    out = []
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        speaker, tab, rest = line.partition("\t")
        speaker = speaker.strip().lower()
        if not tab:
            raise LineError(f"line {number}: expected speaker<TAB>text, got {line[:40]!r}")
        if speaker not in SPEAKERS:
            raise LineError(f"line {number}: the speaker must be agent or customer, "
                            f"not {speaker[:20]!r}")
        out.append(Line(number, speaker, rest.split("\t")[0].strip()))
    return out


def judge_line(playbook: Playbook, speaker: str, text: str, why: bool = False) -> dict:
    """The record for one line: the sets the engine hears in `text` from `speaker`, in
    the playbook's order (and, with `why`, what matched for each)."""
    found = playbook.judge(text, speaker)
    record: dict = {"speaker": speaker, "text": text, "intents": list(found)}
    if why:
        record["why"] = {name: f'"{m.phrase}": {m.reason}' for name, m in found.items()}
    return record
