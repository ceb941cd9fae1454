"""What `callcoach analyze` prints on a terminal: a progress bar and a human summary.

Kept apart from the command-line parsing so both stay small; no Qt here.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from audio.analysis import CallAnalysis

__all__ = ["ProgressBar", "fmt_time", "summary_lines"]


def fmt_time(seconds: float | None) -> str:
    """m:ss (h:mm:ss past an hour), as a person reads a call time."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class ProgressBar:
    """A one-line bar on a terminal, shown only once a job has run for `delay_s`.

    Short jobs and pipes (CI logs, `2> file`) get no bar at all.
    """

    def __init__(self, label: str, stream: TextIO | None = None, delay_s: float = 1.5,
                 width: int = 28) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.delay_s = delay_s
        self.width = width
        self.started = time.monotonic()
        self.drawn = False
        self._last = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.started < self.delay_s or now - self._last < 0.1:
            return
        self._last = now
        fraction = min(1.0, max(0.0, fraction))
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {fraction * 100:3.0f}% {stage:<26.26}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * (len(self.label) + self.width + 36) + "\r")
            self.stream.flush()


def summary_lines(analysis: CallAnalysis) -> list[str]:
    """A few lines a trainer can read at a glance: score, what to change, the cues."""
    rec = analysis.recording
    card = analysis.scorecard
    side = ("agent only" if rec.channels == "agent-only"
            else f"stereo, agent on the {rec.agent_channel}")
    score = "no speech found" if card.score is None else f"score {card.score}/100"
    lines = [f"{rec.path}: {fmt_time(rec.duration_s)} ({side}), {score}"]
    lines += [f"  note: {n}" for n in analysis.notes]
    failed = [c.label for c in card.checks if c.applicable and not c.passed]
    passed = [c.label for c in card.checks if c.applicable and c.passed]
    if passed:
        lines.append("  went well: " + ", ".join(passed))
    if failed:
        lines.append("  to change: " + ", ".join(failed))
    for e in analysis.events[:12]:
        lines.append(f"  {fmt_time(e.start):>6} {e.kind:<22} {e.prompt or '-'}: {e.reason}")
    if len(analysis.events) > 12:
        lines.append(f"  ... and {len(analysis.events) - 12} more events")
    return lines
