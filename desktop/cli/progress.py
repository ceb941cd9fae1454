"""A batch's progress on the terminal (stderr): done, failed, skipped, calls per hour, time left.

The same lines for a local folder run and a cluster run: the rate counts the calls
analysed in this run only (skipped ones cost nothing), and the time left is the calls
still to do at that rate.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from desktop.cli.resume import BatchRow
from desktop.cli.terminal import fmt_time

__all__ = ["BatchProgress"]


class BatchProgress:
    """Counts a batch's calls as they end and prints a line for each (unless quiet)."""

    def __init__(self, total: int, skipped: int = 0, stream: TextIO | None = None,
                 quiet: bool = False, where: str = "") -> None:
        self.total = total
        self.skipped = skipped
        self.done = 0
        self.failed = 0
        self.retried = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.where = where
        self.started = time.monotonic()

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped

    def calls_per_hour(self) -> float | None:
        """Calls analysed per hour so far (a bad file, rejected at once, is not a rate)."""
        elapsed = time.monotonic() - self.started
        return self.done * 3600.0 / elapsed if self.done and elapsed > 0 else None

    def time_left_s(self) -> float | None:
        rate = self.calls_per_hour()
        return (self.total - self.finished) * 3600.0 / rate if rate else None

    def _say(self, text: str) -> None:
        if self.quiet:
            return
        # On a terminal, first clear a call's progress bar that may be on the line.
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        print(("\r\033[K" if tty else "") + text, file=self.stream, flush=True)

    def start(self) -> None:
        todo = self.total - self.skipped
        skipped = (f", {self.skipped} already done (skipped)" if self.skipped else "")
        self._say(f"callcoach: {self.total} recordings{skipped}; {todo} to analyse"
                  f"{' ' + self.where if self.where else ''}")

    def note(self, text: str) -> None:
        self._say(f"callcoach: {text}")

    def retry(self, recording: str, why: str) -> None:
        self.retried += 1
        self._say(f"callcoach: {recording}: {why}; it goes to another worker")

    def call_ended(self, row: BatchRow) -> None:
        if row.status == "ok":
            self.done += 1
            what = "done"
        else:
            self.failed += 1
            what = f"FAILED: {row.status}"
        rate = self.calls_per_hour()
        left = self.time_left_s()
        self._say(f"[{self.finished}/{self.total}] {row.recording}: {what}  |  "
                  f"done {self.done}, failed {self.failed}, skipped {self.skipped}"
                  + (f", {rate:.0f} calls/h" if rate else "")
                  + (f", ~{fmt_time(left)} left" if left is not None else ""))

    def closing_line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.calls_per_hour()
        retried = f", {self.retried} retried on another worker" if self.retried else ""
        return (f"{self.done} analysed, {self.failed} failed, {self.skipped} skipped "
                f"(already done){retried} in {fmt_time(elapsed)}"
                + (f": {rate:.0f} calls per hour" if rate else ""))
