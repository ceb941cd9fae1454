"""A live session fed from a recording instead of two devices.

The live engine does not care where its blocks come from: here they come from a call
recording, paced at real time (a practice call on the live page, with the same prompts at
the same moments) or faster (tests of the window, demos). The interface is the one of
`LiveSession`, so the window drives both the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from audio.capture import CaptureFault
from audio.live import LiveConfig, LiveEngine, LiveResult
from audio.live_session import SessionConfig
from audio.recording import SAMPLE_RATE, load_recording
from audio.transcribe import Transcriber
from coaching.playbook import Playbook
from coaching.timeline import Event

__all__ = ["FileSession"]

_BLOCK_S = 0.02


class FileSession:
    """Plays a recording into the live engine at `speed` x real time (0: no pacing).

    Raises (from the constructor):
        audio.recording.RecordingError: the file cannot be used.
    """

    def __init__(self, path: str, config: SessionConfig, playbook: Playbook,
                 transcriber: Transcriber | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 on_fault: Callable[[CaptureFault], None] | None = None,
                 speed: float = 1.0, agent_channel: str = "left",
                 on_end: Callable[[], None] | None = None) -> None:
        self.recording = load_recording(path, agent_channel)
        live = LiveConfig(**{**config.live.__dict__,
                             "has_customer": self.recording.customer is not None})
        self.engine = LiveEngine(live, playbook, transcriber, on_event)
        self.on_fault = on_fault or (lambda f: None)
        self.on_end = on_end or (lambda: None)
        self.speed = speed
        self.faults: list[CaptureFault] = []
        self.started_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def label(self) -> str:
        return f"recording {self.recording.path}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="callcoach-file", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        rec = self.recording
        block = int(_BLOCK_S * SAMPLE_RATE)
        zero = time.monotonic()
        self.started_at = zero
        # Call time 0 is `zero` when paced at real time; latency means nothing otherwise.
        audio_zero = zero if self.speed == 1.0 else None
        for start in range(0, len(rec.agent), block):
            if self._stop.is_set():
                return
            end = min(start + block, len(rec.agent))
            customer = rec.customer[start:end] if rec.customer is not None else None
            self.engine.push(np.ascontiguousarray(rec.agent[start:end]),
                             None if customer is None else np.ascontiguousarray(customer),
                             audio_zero=audio_zero)
            if self.speed > 0:
                due = zero + end / SAMPLE_RATE / self.speed
                wait = due - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    return
        if not self._stop.is_set():
            self.on_end()

    def stop(self) -> LiveResult:
        """End the call (at once, or after the file ran out): transcribe what is left, score."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        return self.engine.finish()
