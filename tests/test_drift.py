"""Drift between two capture devices: measured against the clock, corrected to bounds.

Two simulated devices deliver 20 ms blocks into real ring buffers at their own true rates,
each block a little late by a random amount, and a worker reads them every 20-26 ms as the
live session does. No sleeps: the clock is simulated. Every sample carries its own index,
so the offset between the two outputs is read off the samples themselves.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from audio.drift import DriftCorrector, RateEstimator, stretch
from audio.ring_buffer import RingBuffer

RATE = 16000
BLOCK = 320


class Device:
    """Delivers consecutive sample indices in blocks, at `true_rate` samples per second of
    the simulated clock, each block up to `late_s` late."""

    def __init__(self, true_rate: float, start: float, rng: np.random.Generator,
                 late_s: float = 0.008) -> None:
        self.true_rate, self.start, self.rng, self.late_s = true_rate, start, rng, late_s
        self.buffer = RingBuffer(30 * RATE)
        self.blocks = 0
        self._due = self._next_due()

    def _next_due(self) -> float:
        return self.start + (self.blocks + 1) * BLOCK / self.true_rate \
            + self.rng.uniform(0, self.late_s)

    def run_until(self, t: float) -> None:
        while self._due <= t:
            first = self.blocks * BLOCK
            self.buffer.write(np.arange(first, first + BLOCK, dtype=np.float32))
            self.blocks += 1
            self._due = max(self._due, self._next_due())  # callbacks come in order

    def time_of(self, index: np.ndarray) -> np.ndarray:
        """When the samples were captured (at the device's true rate)."""
        return self.start + index / self.true_rate


def simulate(fol_rate: float, minutes: float, correct: bool, seed: int = 1):
    """Returns (offsets over the call in s, corrector): the follower's capture time minus
    the reference's for the samples handed out side by side, once per simulated second."""
    rng = np.random.default_rng(seed)
    ref, fol = Device(RATE, 0.0, rng), Device(fol_rate, 0.0137, rng)
    t = 0.05
    ref.run_until(t)
    fol.run_until(t)
    # Line the streams up as the session does: skip the head of the earlier one.
    ref.buffer.read(int(round(0.0137 * RATE)))
    corrector = DriftCorrector(RATE)
    offsets, next_sample = [], 1.0
    while t < minutes * 60:
        t += 0.02 + rng.uniform(0, 0.006)
        ref.run_until(t)
        fol.run_until(t)
        if correct:
            corrector.observe(t, ref.buffer.written, fol.buffer.written)
            pair = corrector.read(ref.buffer, fol.buffer)
        else:
            n = min(ref.buffer.available(), fol.buffer.available())
            pair = (ref.buffer.read(n)[1], fol.buffer.read(n)[1]) if n else None
        if pair is None:
            continue
        a, b = pair
        assert len(a) == len(b)
        if t >= next_sample:
            offsets.append(float(fol.time_of(b[-1:])[0] - ref.time_of(a[-1:])[0]))
            next_sample += 1.0
    return np.array(offsets), corrector


def test_rate_estimator_measures_a_fast_and_a_slow_clock() -> None:
    for true_rate, ppm in ((16003.2, 200.0), (15997.6, -150.0)):
        rng = np.random.default_rng(7)
        dev = Device(true_rate, 0.0, rng)
        est = RateEstimator(RATE)
        t, early = 0.0, None
        while t < 300:
            t += 0.02 + rng.uniform(0, 0.006)
            dev.run_until(t)
            est.add(t, dev.buffer.written)
            dev.buffer.read()
            if t < 9.0:
                assert not est.ready  # too little measured to say
            if early is None and t >= 30:
                early = est.ppm
        assert early == pytest.approx(ppm, abs=40.0)  # the one-window slope: rough
        assert est.ppm == pytest.approx(ppm, abs=3.0)  # the long baseline: close
        assert est.rate == pytest.approx(true_rate, abs=0.05)
        # The fitted line tells where the stream is (arrival lags capture by < 8 ms).
        assert est.position_at(t) == pytest.approx(true_rate * t, abs=0.008 * true_rate)


@pytest.mark.parametrize("fol_rate", [16003.2, 15996.8])
def test_uncorrected_offset_grows_and_corrected_stays_under_20_ms(fol_rate: float) -> None:
    expected = 600 * (1 - RATE / fol_rate)  # about +-0.12 s after 10 minutes
    plain, _ = simulate(fol_rate, 10, correct=False)
    assert plain[-1] == pytest.approx(-expected, abs=0.01)
    assert abs(plain[-1]) > 0.11

    fixed, corrector = simulate(fol_rate, 10, correct=True)
    assert np.max(np.abs(fixed)) < 0.01, np.max(np.abs(fixed))
    assert np.ptp(fixed[300:]) < 0.004  # and it does not creep: the last 5 minutes
    report = corrector.report()
    assert report is not None
    assert report.ppm == pytest.approx((fol_rate / RATE - 1) * 1e6, abs=6.0)
    assert report.agent_ppm == pytest.approx(0.0, abs=4.0)
    # The follower's extra (or missing) samples were dropped (or repeated): ~3.2 a second.
    assert report.adjusted_samples == pytest.approx((fol_rate - RATE) * 600, rel=0.05)
    assert corrector.reanchors == 0


def test_a_device_that_loses_audio_is_measured_afresh_not_slewed_for_minutes() -> None:
    """The follower stalls for 1.5 s and goes on without catching up (its audio for that
    time is lost): the jump is not drift, so nothing is dropped or repeated for it."""
    rng = np.random.default_rng(3)
    ref, fol = Device(RATE, 0.0, rng), Device(16001.6, 0.0, rng)
    corrector = DriftCorrector(RATE)
    t, stalled, offsets = 0.0, False, []
    while t < 120:
        t += 0.02 + rng.uniform(0, 0.006)
        if t > 30 and not stalled:
            stalled = True
            fol.start += 1.5
            fol._due += 1.5
        ref.run_until(t)
        fol.run_until(t)
        corrector.observe(t, ref.buffer.written, fol.buffer.written)
        pair = corrector.read(ref.buffer, fol.buffer)
        if pair is not None and t > 45:
            offsets.append(float(fol.time_of(pair[1][-1:])[0] - ref.time_of(pair[0][-1:])[0]))
    assert corrector.follower.restarts == 1 and corrector.reference.restarts == 0
    assert corrector.reanchors == 0
    # Drift is still corrected around the new alignment: 100 ppm would move it 7.5 ms.
    assert np.ptp(offsets) < 0.004, np.ptp(offsets)
    assert abs(corrector.adjusted) < 0.02 * RATE  # no seconds of samples slewed away


def test_stretch_drops_and_repeats_single_samples_spread_out() -> None:
    block = np.arange(320, dtype=np.float32)
    shorter = stretch(block, 318)
    assert len(shorter) == 318 and np.all(np.diff(shorter) >= 1)
    assert set(block) - set(shorter) == {80.0, 240.0}
    longer = stretch(block, 322)
    assert len(longer) == 322 and np.all(np.diff(longer) >= 0)
    assert sorted(np.flatnonzero(np.diff(longer) == 0)) == [80, 241]
    assert stretch(block, 320) is block
    assert len(stretch(np.zeros(0, np.float32), 5)) == 5



def test_report_never_sees_a_half_made_measurement() -> None:
    """The live window asks for the report on every repaint, on its own thread, while the
    session's worker measures; a device that loses audio makes the estimator start afresh.
    Here the report is asked for between every two bytecodes the estimator runs (where a
    thread switch could let the window in), through two such restarts: it is always a
    whole report or None (before, a reader could meet an emptied history: IndexError)."""
    rng = np.random.default_rng(5)
    ref, fol = Device(RATE, 0.0, rng), Device(16001.6, 0.0, rng)
    corrector = DriftCorrector(RATE, min_span_s=2.0)
    errors: list[str] = []
    seen: set[bool] = set()

    def window(frame, event, arg):
        if event == "opcode":
            try:
                seen.add(corrector.report() is None)
            except Exception as exc:  # noqa: BLE001 - what the test looks for
                errors.append(f"{exc!r} at {frame.f_code.co_name}:{frame.f_lineno}")
        return window

    def trace(frame, event, arg):
        if frame.f_code.co_qualname.startswith("RateEstimator."):
            frame.f_trace_opcodes = True
            return window
        return None

    old = sys.gettrace()
    sys.settrace(trace)
    try:
        t = 0.0
        while t < 24:
            t += 0.02 + rng.uniform(0, 0.006)
            if 8 <= t < 8.03 or 16 <= t < 16.03:  # the follower loses 1.5 s of audio
                fol.start += 1.5
                fol._due += 1.5
            ref.run_until(t)
            fol.run_until(t)
            corrector.observe(t, ref.buffer.written, fol.buffer.written)
            corrector.read(ref.buffer, fol.buffer)
    finally:
        sys.settrace(old)
    assert corrector.follower.restarts == 2
    assert errors == [], errors[:3]
    assert seen == {True, False}  # measured, and not (yet, or again)
