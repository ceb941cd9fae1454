"""`callcoach playbook test`: a trainer's lines judged against a playbook, one JSON record
per line, exactly as the coaching engine would judge each utterance for its speaker.

Trainers run it before a shift to check a playbook edit, and the labelled utterance files
of the tests are scored through it. It is a batch command, so it waits for the sentence
encoder (matching by meaning); if the encoder cannot load it says so in one line and goes
on with the patterns and guards alone.

A bad line (no tab, an unknown speaker) is reported on stderr with its number and the
rest of the file is still judged, so one typo in a 200-line file costs one rerun, not
200 lines of results; the exit status is then 1, so a script sees that the file was not
all judged. Records carry their line number for the same reason.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

__all__ = ["run_playbook_test", "PlaybookTestError"]

STDIN = "-"


class PlaybookTestError(Exception):
    """The lines cannot be read at all (a missing file, a folder); one line."""


@contextmanager
def _open_bytes(source: str) -> Iterator[BinaryIO]:
    if source == STDIN:
        yield sys.stdin.buffer
        return
    path = Path(source)
    if path.is_dir():
        raise PlaybookTestError(f"{source} is a folder, not a file of speaker<TAB>text lines")
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise PlaybookTestError(f"no such file: {source}") from None
    except OSError as exc:
        raise PlaybookTestError(f"cannot read {source}: {exc.strerror or exc}") from None
    with handle:
        yield handle


def _numbered_lines(stream: BinaryIO) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of each line as it arrives; text None for a line that is not
    UTF-8. A UTF-16 file (a spreadsheet's "Unicode text") is read as such, and a UTF-8
    byte-order mark is dropped."""
    head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        text = io.TextIOWrapper(stream, encoding="utf-16", newline="")
        try:
            yield from enumerate(iter(text.readline, ""), 1)
        finally:
            text.detach()  # the stream is closed by its owner
        return
    for number, raw in enumerate(iter(stream.readline, b""), 1):
        try:
            yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield number, None


def run_playbook_test(source: str, playbook_path: str | None, why: bool,
                      out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Judge every `speaker<TAB>text` line of `source` (a file, or "-" for stdin).

    Returns:
        0 when every line was judged, 1 when some line was bad (each one reported).

    Raises:
        PlaybookTestError: the file cannot be read.
        PlaybookError: the playbook cannot be used.
    """
    from audio.sentence_encoder import shared_encoder
    from coaching.phrase_check import LineError, judge_line, parse_line
    from coaching.playbook import load_playbook

    out = out or sys.stdout
    err = err or sys.stderr
    load = shared_encoder()  # loads on its own thread while the playbook is read
    name = "standard input" if source == STDIN else source
    bad = 0
    with _open_bytes(source) as stream:
        playbook = load_playbook(playbook_path)
        load.attach(playbook, wait=None)
        if load.note:
            print(f"callcoach: note: {load.note}", file=err)
        for number, raw in _numbered_lines(stream):
            try:
                if raw is None:
                    raise LineError(f"line {number}: not UTF-8 text (save the file as UTF-8)")
                line = parse_line(number, raw)
            except LineError as exc:
                bad += 1
                print(f"callcoach: error: {name} {exc}", file=err)
                continue
            if line is None:
                continue
            record = {"line": line.number, **judge_line(playbook, line.speaker, line.text, why)}
            try:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                if source == STDIN:
                    out.flush()  # typed lines are answered as they are typed
            except BrokenPipeError:  # `| head`: the reader has all it wants
                _quiet_stdout()
                return 1 if bad else 0
    return 1 if bad else 0


def _quiet_stdout() -> None:
    """Point stdout at the null device, so the exit's flush into the closed pipe is
    silent too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (tests): nothing will be flushed
        pass
