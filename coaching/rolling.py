"""A rolling median over the last N values in bounded time per value.

A speaker's baseline is the median of their last ~90 s of speech: thousands of values,
updated every 16 ms for hours. Fixed bins (0.25 dB, 1 Hz) give the median to within a bin,
and a pointer that walks to the median bin from where it was last time makes each update
and each look cost a few integer operations, whatever the window and the call length.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["RollingMedian"]


class RollingMedian:
    """Median of the last `maxlen` pushed values; NaN values take a slot but don't count.

    Values outside [lo, hi] count in the end bins, so the median stays right as long as
    fewer than half of them are out of range.
    """

    def __init__(self, maxlen: int, lo: float, hi: float, step: float) -> None:
        self._lo, self._step = lo, step
        self._top = int(math.ceil((hi - lo) / step))
        self._counts = [0] * (self._top + 1)
        self._bins: deque[int] = deque(maxlen=maxlen)  # bin index, -1 for NaN
        self.count = 0  # values that count (not NaN) in the window
        self._at = 0  # the bin the median was last found in
        self._below = 0  # values in bins under `_at`

    def push(self, value: float) -> None:
        bins = self._bins
        if len(bins) == bins.maxlen:
            old = bins[0]
            if old >= 0:
                self._counts[old] -= 1
                self.count -= 1
                if old < self._at:
                    self._below -= 1
        if value != value:  # NaN: unvoiced hop of a pitch track
            bins.append(-1)
            return
        b = int((value - self._lo) / self._step + 0.5)
        b = 0 if b < 0 else self._top if b > self._top else b
        bins.append(b)
        self._counts[b] += 1
        self.count += 1
        if b < self._at:
            self._below += 1

    def median(self) -> float | None:
        """The lower median (to within one bin), or None before any value counts."""
        if self.count == 0:
            return None
        rank = (self.count + 1) // 2  # 1-based rank of the lower median
        counts, at, below = self._counts, self._at, self._below
        while below >= rank:  # the median bin is lower
            at -= 1
            below -= counts[at]
        while below + counts[at] < rank:  # the median bin is higher
            below += counts[at]
            at += 1
        self._at, self._below = at, below
        return self._lo + at * self._step
