"""A rolling median over the last N values in bounded time per value.

A speaker's baseline is the median of their last ~90 s of speech: thousands of values,
updated every 16 ms for hours. A histogram with fixed bins (0.25 dB, 1 Hz) gives the
median to within a bin at a cost independent of the window and the call length.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

__all__ = ["RollingMedian"]


class RollingMedian:
    """Median of the last `maxlen` pushed values; NaN values take a slot but don't count."""

    def __init__(self, maxlen: int, lo: float, hi: float, step: float) -> None:
        self._lo, self._step = lo, step
        self._counts = np.zeros(int(math.ceil((hi - lo) / step)) + 1, dtype=np.int64)
        self._values: deque[int] = deque(maxlen=maxlen)  # bin index, -1 for NaN
        self.count = 0

    def _bin(self, value: float) -> int:
        if math.isnan(value):
            return -1
        return min(len(self._counts) - 1, max(0, round((value - self._lo) / self._step)))

    def push(self, value: float) -> None:
        if len(self._values) == self._values.maxlen:
            old = self._values[0]
            if old >= 0:
                self._counts[old] -= 1
                self.count -= 1
        b = self._bin(value)
        self._values.append(b)
        if b >= 0:
            self._counts[b] += 1
            self.count += 1

    def median(self) -> float | None:
        if self.count == 0:
            return None
        b = int(np.searchsorted(np.cumsum(self._counts), (self.count + 1) // 2))
        return self._lo + b * self._step
