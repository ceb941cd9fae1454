"""A single-producer, single-consumer ring buffer for the PortAudio callback.

The audio callback must not allocate, compute or wait: it only copies its block into
preallocated memory and moves a counter. The analysis worker reads from the other end.
When the worker falls behind by more than the buffer holds, the oldest audio is dropped
and counted (an overflow), never the callback blocked.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["RingBuffer"]


class RingBuffer:
    """Mono float32 samples with absolute sample positions (for aligning two devices).

    `write` is called from the audio thread, `read` from one worker thread. Positions only
    grow, so the reader knows exactly which stretch of the stream it got, and how much was
    lost, even across overflows.
    """

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._buf = np.zeros(capacity, dtype=np.float32)
        self._cap = capacity
        self._written = 0  # total samples ever written
        self._read = 0  # total samples ever consumed or dropped
        self.dropped = 0  # samples lost to overflow
        self.overflows = 0  # times the reader was overtaken
        self._lock = threading.Lock()  # held for a copy at most

    @property
    def capacity(self) -> int:
        return self._cap

    @property
    def written(self) -> int:
        return self._written

    def available(self) -> int:
        return self._written - self._read

    def write(self, block: np.ndarray) -> None:
        """Copy one block in (audio thread). Multi-channel blocks must be split first."""
        n = len(block)
        if n == 0:
            return
        if n > self._cap:  # keep only the newest samples of an oversize block
            block = block[-self._cap:]
            lost = n - self._cap
            n = self._cap
        else:
            lost = 0
        with self._lock:
            start = self._written % self._cap
            first = min(n, self._cap - start)
            self._buf[start:start + first] = block[:first]
            if first < n:
                self._buf[: n - first] = block[first:]
            self._written += n + lost
            behind = self._written - self._read - self._cap
            if behind > 0:
                self._read += behind
                self.dropped += behind
                self.overflows += 1

    def read(self, max_samples: int | None = None) -> tuple[int, np.ndarray]:
        """Take what is available (up to `max_samples`): (stream position, samples)."""
        with self._lock:
            n = self.available()
            if max_samples is not None:
                n = min(n, max_samples)
            pos = self._read
            start = pos % self._cap
            first = min(n, self._cap - start)
            out = np.empty(n, dtype=np.float32)
            out[:first] = self._buf[start:start + first]
            if first < n:
                out[first:] = self._buf[: n - first]
            self._read += n
        return pos, out
