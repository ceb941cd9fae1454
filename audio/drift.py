"""Clock drift between two capture devices, measured and corrected.

Two devices run on two crystals. At 16 kHz a difference of 200 ppm is 3.2 samples a
second: after an hour the customer's audio sits 0.7 s away from the agent's, and every
overlap, interruption and response time measured between them is wrong by that much.

Each stream's arrival is measured against `time.monotonic()`: the worker notes (time,
samples written so far) on every tick; per second the least late of those points is kept
(late callbacks are common, early ones impossible), and a line fitted through the last
minute of them maps time to stream position. The follower (the customer) is then read so
that its position follows the reference's (the agent's) through those two lines, anchored
where the streams were first lined up; single samples are dropped or repeated, spread
out, to get there. Because the target is a position, not an integrated rate, estimation
errors do not accumulate over a long call.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from audio.ring_buffer import RingBuffer

__all__ = ["RateEstimator", "DriftCorrector", "DriftReport", "stretch"]


class RateEstimator:
    """A stream's effective sample rate and position against a clock.

    `add(t, written)` costs O(1); once per `bucket_s` the best point of the bucket is kept
    and a line is refitted through the last `window_s` of them (about 60 points). That line
    says where the stream is to a fraction of a millisecond; its slope, from one minute of
    jittery arrivals, only to some 10-20 ppm. So the rate reported is the slope between the
    line's present position and its position up to `baseline_s` ago (once a window has
    passed): a millisecond or two over ten minutes is 2-3 ppm.
    """

    def __init__(self, nominal_rate: float, window_s: float = 60.0, bucket_s: float = 1.0,
                 min_span_s: float = 10.0, step_s: float = 0.25,
                 baseline_s: float = 600.0) -> None:
        self.nominal = float(nominal_rate)
        self.bucket_s = bucket_s
        self.min_span_s = min_span_s
        self.step = step_s * nominal_rate
        self.restarts = 0  # times the stream jumped (lost audio) and was measured afresh
        self._suspect: float | None = None  # offset from the line of one odd bucket
        self._points: deque[tuple[float, float]] = deque(maxlen=max(2, int(window_s / bucket_s)))
        self._t0: float | None = None
        self._bucket = -1
        self._best: tuple[float, float] | None = None  # (x, residual) of the open bucket
        self._fit: tuple[float, float] | None = None  # (intercept, slope) of the residual
        self.window_s = window_s
        self._history: deque[tuple[float, float]] = deque(
            maxlen=max(2, int(baseline_s / bucket_s)))  # (x, fitted residual at x)
        # The measured slope, published in one assignment for readers on other threads
        # (the window's status): they never see a fit half-cleared by a restart.
        self._measured: float | None = None

    def add(self, t: float, written: int) -> None:
        """`written` samples had arrived by time `t` (read the count before the clock)."""
        if self._t0 is None:
            self._t0 = t
        x = t - self._t0
        residual = written - self.nominal * x  # how far ahead of the nominal rate
        bucket = int(x // self.bucket_s)
        if bucket != self._bucket:
            if self._best is not None:
                self._close(self._best)
            self._bucket, self._best = bucket, None
        if self._best is None or residual > self._best[1]:
            self._best = (x, residual)

    def _close(self, point: tuple[float, float]) -> None:
        """Keep a finished bucket's point, unless the stream jumped: one bucket off the line
        is a stall that may catch up (dropped); two alike are a real jump (start afresh)."""
        if self._fit is not None:
            off = point[1] - (self._fit[0] + self._fit[1] * point[0])
            if abs(off) > self.step:
                if self._suspect is not None and abs(off - self._suspect) < self.step / 2:
                    self._measured = None  # first: a reader sees nothing, not half
                    self._points.clear()
                    self._history.clear()
                    self._fit, self._suspect = None, None
                    self.restarts += 1
                else:
                    self._suspect = off
                    return
            else:
                self._suspect = None
        self._points.append(point)
        self._refit()

    def _refit(self) -> None:
        pts = self._points
        if len(pts) < 2 or pts[-1][0] - pts[0][0] < self.min_span_s:
            return
        xs = np.fromiter((p[0] for p in pts), float, len(pts))
        ys = np.fromiter((p[1] for p in pts), float, len(pts))
        xm, ym = xs.mean(), ys.mean()
        slope = float(((xs - xm) * (ys - ym)).sum() / ((xs - xm) ** 2).sum())
        self._fit = (float(ym - slope * xm), slope)
        x = float(xs[-1])
        self._history.append((x, self._fit[0] + slope * x))
        (x0, y0), (x1, y1) = self._history[0], self._history[-1]
        self._measured = (y1 - y0) / (x1 - x0) if x1 - x0 >= self.window_s else slope

    @property
    def ready(self) -> bool:
        return self._fit is not None

    @property
    def rate(self) -> float | None:
        """Samples per second of the clock (None until `min_span_s` is measured).

        Safe from any thread: one read of a value the worker replaces whole."""
        slope = self._measured
        return None if slope is None else self.nominal + slope

    @property
    def ppm(self) -> float | None:
        """How far the device runs from its nominal rate, in parts per million."""
        slope = self._measured
        return None if slope is None else slope / self.nominal * 1e6

    def position_at(self, t: float) -> float:
        """Samples arrived by clock time `t`, on the fitted line (requires `ready`)."""
        a, b = self._fit
        x = t - self._t0
        return a + (self.nominal + b) * x

    def time_of(self, position: float) -> float:
        """Clock time at which `position` samples had arrived (requires `ready`)."""
        a, b = self._fit
        return self._t0 + (position - a) / (self.nominal + b)


@dataclass(frozen=True)
class DriftReport:
    """What the corrector measured: for the live status and the call's notes.

    Attributes:
        ppm: the customer device's clock against the agent's (+: it runs faster).
        agent_ppm, customer_ppm: each against the computer's clock.
        adjusted_samples: customer samples dropped (+) or repeated (-) so far.
    """

    ppm: float
    agent_ppm: float
    customer_ppm: float
    adjusted_samples: int


def stretch(block: np.ndarray, n: int) -> np.ndarray:
    """`block` made `n` samples long by dropping or repeating single samples, spread evenly
    (a sample here and there is lost on a listener, a pitch tracker and Whisper alike)."""
    m = len(block)
    if m == n:
        return block
    if m == 0:
        return np.zeros(n, np.float32)
    d = abs(m - n)
    if m > n:
        return np.delete(block, ((np.arange(d) + 0.5) * m / d).astype(np.int64))
    where = ((np.arange(d) + 0.5) * m / d).astype(np.int64)
    return np.insert(block, where, block[where])


class DriftCorrector:
    """Reads two ring buffers so that the follower keeps to the reference's clock.

    Call `observe` once per worker tick (before `read`), then `read` for the next pair of
    equal-length blocks. Per call the work is O(block).

    Args:
        max_slew: the largest fraction of samples adjusted per block (0.002: 2,000 ppm,
            ten times the drift of ordinary devices).
        reanchor_s: an offset larger than this is a gap in a device (lost samples), not
            drift: the streams are lined up afresh instead of slewed for minutes.
    """

    def __init__(self, rate: float, window_s: float = 60.0, bucket_s: float = 1.0,
                 min_span_s: float = 10.0, max_slew: float = 0.002,
                 reanchor_s: float = 0.5) -> None:
        self.rate = rate
        self.reference = RateEstimator(rate, window_s, bucket_s, min_span_s)
        self.follower = RateEstimator(rate, window_s, bucket_s, min_span_s)
        self.max_slew = max_slew
        self.reanchor = reanchor_s * rate
        self.adjusted = 0
        self.reanchors = 0
        self._anchor: float | None = None  # follower position minus the mapped one
        self._ref_pos: int | None = None  # next sample to read, per stream
        self._fol_pos: int | None = None
        self._start: tuple[int, int] | None = None  # where the streams were lined up
        self._restarts = 0

    def observe(self, now: float, ref_written: int, fol_written: int) -> None:
        """Both counts read before `now` was taken (so each point is an upper bound)."""
        self.reference.add(now, ref_written)
        self.follower.add(now, fol_written)

    def _mapped(self, ref_pos: float) -> float:
        return self.follower.position_at(self.reference.time_of(ref_pos))

    def read(self, ref: RingBuffer, fol: RingBuffer) -> tuple[np.ndarray, np.ndarray] | None:
        """The next blocks, equal in length; None when either buffer is empty."""
        if self._ref_pos is None:
            self._ref_pos, self._fol_pos = ref.read(0)[0], fol.read(0)[0]
            self._start = (self._ref_pos, self._fol_pos)
        n = min(ref.available(), fol.available())
        if n <= 0:
            return None
        extra = 0  # follower samples to drop (+) or repeat (-) in this block
        restarts = self.reference.restarts + self.follower.restarts
        if restarts != self._restarts:  # a device jumped: line up afresh when measured
            self._restarts, self._anchor, self._start = restarts, None, None
        if self.reference.ready and self.follower.ready:
            end = self._ref_pos + n
            if self._anchor is None:  # where the streams were lined up, else here
                ref_at, fol_at = self._start or (end, self._fol_pos + n)
                self._anchor = fol_at - self._mapped(ref_at)
            want = self._mapped(end) + self._anchor - self._fol_pos - n
            if abs(want) > self.reanchor:
                self._anchor -= want
                self.reanchors += 1
                want = 0.0
            slew = max(1, math.ceil(n * self.max_slew))
            extra = min(max(round(want), -slew), slew)
            if n + extra > fol.available():  # leave room in the follower for the drops
                n -= extra
                if n <= 0:
                    return None
        pos, a = ref.read(n)
        fpos, b = fol.read(n + extra)
        self._ref_pos, self._fol_pos = pos + len(a), fpos + len(b)
        self.adjusted += len(b) - n
        return a, stretch(b, n)

    def report(self) -> DriftReport | None:
        """None until both clocks have been measured for `min_span_s`.

        O(1) and safe to call from another thread while the worker reads (the live
        window asks on every repaint): each value is read once, and the worker only ever
        replaces them whole. The two rates may come from refits a second apart."""
        ref, fol, adjusted = self.reference.rate, self.follower.rate, self.adjusted
        if ref is None or fol is None:
            return None
        return DriftReport((fol / ref - 1.0) * 1e6, (ref / self.rate - 1.0) * 1e6,
                           (fol / self.rate - 1.0) * 1e6, adjusted)
