"""Replay analysis in a child process: the messages, the child's entry point, the client.

The window never analyses in its own process: Whisper's Python glue, the rules and numpy
would share the GIL with the event loop (a stutter a person sees), and a native fault or
running out of memory would take the window down. `ReplayEngine` starts the child with
`multiprocessing`'s spawn context and reads what it sends on a pipe. This module imports
no Qt (the child imports it); the Qt side is `workers.AnalysisJob`.

The schema, child to window, one message per `send` (pickled):
    Progress(stage, fraction)   any number, fraction 0..1 of the whole analysis
    Finished(data)              once, last: the `workers.ReplayData` of the call
    Failed(message)             once, last: a one-line reason for the user
The window sends nothing: it starts the child with the path and frozen options, and
Cancel ends the child (`ReplayEngine.stop`). A child that ends without a last message
crashed: `ReplayEngine.crash_message` says so in plain words with its exit code.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

__all__ = ["Progress", "Finished", "Failed", "ReplayEngine", "run_analysis"]

_POLL_S = 0.2  # how often the reading thread looks whether it was told to stop


@dataclass(frozen=True)
class Progress:
    stage: str
    fraction: float


@dataclass(frozen=True)
class Finished:
    data: Any  # workers.ReplayData (analysis, JSON document, loudness tracks)


@dataclass(frozen=True)
class Failed:
    message: str


def run_analysis(conn: Connection, path: str, options: Any, playbook: Any) -> None:
    """The child's entry point: `callcoach analyze`'s pipeline, reported on `conn`."""
    from audio.analysis import analyze_recording  # imported here: the child's work
    from desktop.window.replay_data import describe_error, make_replay_data

    try:
        analysis = analyze_recording(
            path, options, playbook=playbook,
            progress=lambda stage, f: conn.send(Progress(stage, float(f))))
        message: Finished | Failed = Finished(make_replay_data(analysis))
    except Exception as exc:  # noqa: BLE001 - reported as a message, never raised
        message = Failed(describe_error(exc))
    conn.send(message)
    conn.close()


def _exit_words(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"exit code {code}, {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"


class ReplayEngine:
    """One analysis in one child process, read from the thread that iterates `messages`."""

    def __init__(self, path: str | Path, options: Any, playbook: Any = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=run_analysis, name="callcoach-replay",
                                   args=(child_conn, str(path), options, playbook),
                                   daemon=True)
        self.process.start()
        child_conn.close()  # the child holds the only writing end: EOF when it ends
        self.stopped = False

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def stop(self) -> None:
        """End the child now (Cancel, or a newer analysis); its result is dropped."""
        self.stopped = True
        if self.process.is_alive():
            self.process.kill()

    def messages(self) -> Iterator[Progress | Finished | Failed]:
        """What the child sends, until its last message, its end, or `stop`. Unpickling
        happens here, on the caller's thread."""
        while not self.stopped:
            ready = wait([self._conn, self.process.sentinel], _POLL_S)
            if not ready:
                continue
            if self._conn not in ready and not self._conn.poll(0):
                break  # the child ended and left nothing to read
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                break  # the child ended without a last message
            yield message
            if isinstance(message, (Finished, Failed)):
                break
        self._conn.close()
        self.process.join(5.0)
        if self.process.is_alive():  # sent its last message and hangs on exit
            self.process.kill()
            self.process.join()

    @property
    def crash_message(self) -> str:
        code = self.process.exitcode
        return f"the analysis stopped unexpectedly ({_exit_words(code)})"
