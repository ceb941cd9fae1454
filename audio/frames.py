"""Per-hop loudness (dBFS), pitch (YIN) and vocal effort (spectral tilt), streaming: any
block size, same result.

Pitch is computed on audio decimated to 8 kHz (speech pitch lives under 400 Hz) with a
numpy YIN vectorised over frames. librosa.yin implements the same algorithm but compiles
with numba for 2-4 s in every new process, which alone would exceed the budget for the
acoustic analysis of a whole call; this version costs milliseconds per minute of speech
and also says whether a hop is periodic at all (NaN when it is not). Importing librosa
at all costs ~1.8 s of start-up (numba) and scipy.fft 0.3 s, so this module needs numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["SAMPLE_RATE", "HOP", "HOP_S", "FeatureBlock", "LoudnessPitch", "yin_pitch",
           "spectral_tilt"]

SAMPLE_RATE = 16000
HOP = 256  # samples at 16 kHz
HOP_S = HOP / SAMPLE_RATE  # 16 ms
DB_FLOOR = -100.0

_PITCH_SR = 8000
_PITCH_WIN = 512  # 64 ms at 8 kHz: two periods of a 65 Hz voice
_PITCH_HOP = HOP // 2
_FMIN, _FMAX = 65.0, 400.0
_YIN_THRESHOLD = 0.2
_PITCH_MIN_DBFS = -60.0  # quieter hops are not analysed for pitch
# Vocal effort: a raised voice puts relatively more energy into the upper harmonics. The
# bands stay inside the telephone band (300-3400 Hz) so the measure means the same on an
# 8 kHz call: energy 1-3.4 kHz over 0.3-1 kHz (an "alpha ratio" for phone audio).
_TILT_LOW_HZ, _TILT_SPLIT_HZ, _TILT_HIGH_HZ = 300.0, 1000.0, 3400.0
_TILT_BINS = np.fft.rfftfreq(HOP, 1.0 / SAMPLE_RATE)
_TILT_LOW = (_TILT_BINS >= _TILT_LOW_HZ) & (_TILT_BINS < _TILT_SPLIT_HZ)
_TILT_HIGH = (_TILT_BINS >= _TILT_SPLIT_HZ) & (_TILT_BINS <= _TILT_HIGH_HZ)
_TILT_WINDOW = np.hanning(HOP).astype(np.float32)


@dataclass(frozen=True)
class FeatureBlock:
    """Features of consecutive hops; hop i of the stream starts at i * HOP_S.

    `tilt_db` is the vocal-effort measure (dB of 1-3.4 kHz over 0.3-1 kHz), NaN where
    the hop is not analysed (too quiet, or outside the pitch mask).
    """

    first_hop: int
    dbfs: np.ndarray
    pitch_hz: np.ndarray
    tilt_db: np.ndarray | None = None

    @property
    def t0(self) -> float:
        return self.first_hop * HOP_S


def spectral_tilt(hops: np.ndarray) -> np.ndarray:
    """Vocal effort per row of `hops` (HOP samples at 16 kHz each): the energy of
    1-3.4 kHz over that of 0.3-1 kHz, in dB. Louder, more forceful speech raises it by
    several dB; the same voice through a louder microphone does not move it."""
    if len(hops) == 0:
        return np.zeros(0)
    spec = np.abs(np.fft.rfft(hops.astype(np.float32) * _TILT_WINDOW, axis=1)) ** 2
    low = spec[:, _TILT_LOW].sum(axis=1)
    high = spec[:, _TILT_HIGH].sum(axis=1)
    return 10.0 * np.log10(np.maximum(high, 1e-12) / np.maximum(low, 1e-12))


def _smooth_length(n: int) -> int:
    """The smallest length >= n with no prime factor over 5: fast for numpy's FFT."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def yin_pitch(frames: np.ndarray, rows: np.ndarray | None = None, chunk: int = 1024,
              **kwargs: float) -> np.ndarray:
    """YIN f0 (Hz) per row of `frames` (only `rows`, if given), NaN where no period is
    clear; in cache-sized chunks so a long recording never copies all its windows."""
    rows = np.arange(len(frames)) if rows is None else rows
    if len(rows) == 0:
        return np.zeros(0)
    return np.concatenate([_yin(frames[rows[i:i + chunk]], **kwargs)
                           for i in range(0, len(rows), chunk)])


def _yin(frames: np.ndarray, sr: int = _PITCH_SR, fmin: float = _FMIN,
              fmax: float = _FMAX, threshold: float = _YIN_THRESHOLD) -> np.ndarray:
    """YIN f0 (Hz) for each row of `frames`, NaN where no period is clear enough.

    de Cheveigne & Kawahara's difference function via FFT cross-correlation, the cumulative
    mean normalisation, the first dip under `threshold`, parabolic refinement.
    """
    n, width = frames.shape
    if n == 0:
        return np.zeros(0)
    tau_min, tau_max = int(sr / fmax), int(np.ceil(sr / fmin))
    w = width - tau_max - 1
    x = frames.astype(np.float64)
    # The lags needed (0..tau_max+1) never reach past the frame, so a circular correlation
    # of the frame's own length is already the linear one: no zero padding, half the cost.
    nfft = _smooth_length(width)
    a = np.fft.rfft(x[:, :w], nfft)
    b = np.fft.rfft(x, nfft)
    corr = np.fft.irfft(np.conj(a) * b, nfft)[:, : tau_max + 2]
    sq = np.concatenate([np.zeros((n, 1)), np.cumsum(x * x, axis=1)], axis=1)
    taus = np.arange(tau_max + 2)
    energy_tau = sq[:, taus + w] - sq[:, taus]
    diff = sq[:, w:w + 1] + energy_tau - 2.0 * corr
    diff[:, 0] = 0.0
    np.maximum(diff, 0.0, out=diff)
    running = np.cumsum(diff[:, 1:], axis=1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] * taus[1:] / np.maximum(running, 1e-12)
    seg = cmnd[:, tau_min:tau_max + 1]
    dip = (seg[:, 1:-1] < threshold) & (seg[:, 1:-1] <= seg[:, :-2]) & (seg[:, 1:-1] < seg[:, 2:])
    found = dip.any(axis=1)
    idx = np.argmax(dip, axis=1) + 1 + tau_min
    rows = np.arange(n)
    left, mid, right = cmnd[rows, idx - 1], cmnd[rows, idx], cmnd[rows, idx + 1]
    denom = left - 2.0 * mid + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(
        np.abs(denom) > 1e-12, denom, 1.0), 0.0)
    f0 = sr / (idx + np.clip(shift, -1.0, 1.0))
    return np.where(found, f0, np.nan)


class LoudnessPitch:
    """Streaming per-hop features: push samples, get features for every completed hop."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)
        self._pitch_context = np.zeros(_PITCH_WIN - _PITCH_HOP, dtype=np.float64)
        self._hops_done = 0
        self._last_pitch = float("nan")

    def push(self, samples: np.ndarray, pitch_mask: np.ndarray | None = None) -> FeatureBlock:
        """Features of every hop this push completes.

        `pitch_mask`, when given, has one entry per completed hop: pitch is only computed
        where it is True (the channel analyzer passes voice activity, so the costly part
        runs on speech only).
        """
        x = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        n_hops = len(x) // HOP
        body, self._pending = x[: n_hops * HOP], x[n_hops * HOP:]
        first = self._hops_done
        self._hops_done += n_hops
        if n_hops == 0:
            empty = np.zeros(0)
            return FeatureBlock(first, empty, empty, empty)
        hops = body.reshape(n_hops, HOP).astype(np.float64)
        rms = np.sqrt(np.mean(hops * hops, axis=1))
        dbfs = np.maximum(20.0 * np.log10(np.maximum(rms, 1e-10)), DB_FLOOR)
        # Decimate by 2 by averaging sample pairs: a gentle low-pass (a null at 8 kHz) that
        # is stateless because hops have an even length, and leaves 65-400 Hz untouched.
        pairs = body.reshape(-1, 2)
        low = np.concatenate([self._pitch_context, 0.5 * (pairs[:, 0] + pairs[:, 1])])
        self._pitch_context = low[-(_PITCH_WIN - _PITCH_HOP):]
        pitch = np.full(n_hops, np.nan)
        wanted = dbfs > _PITCH_MIN_DBFS
        if pitch_mask is not None:
            wanted &= pitch_mask
        # Pitch is estimated on every other hop (32 ms steps, ~31 values a second) and
        # held for the hop after it: half the cost, and a voice's pitch moves slower.
        even = (np.arange(first, first + n_hops) % 2) == 0
        rows = np.flatnonzero(wanted & even)
        if len(rows):
            windows = sliding_window_view(low, _PITCH_WIN)[::_PITCH_HOP]
            pitch[rows] = yin_pitch(windows, rows=rows)
        held = np.concatenate([[self._last_pitch], pitch[:-1]])
        odd = wanted & ~even
        pitch[odd] = held[odd]
        self._last_pitch = float(pitch[-1])
        tilt = np.full(n_hops, np.nan)
        if wanted.any():
            tilt[wanted] = spectral_tilt(hops[wanted])
        return FeatureBlock(first, dbfs, pitch, tilt)
