"""Voice activity: the Silero VAD that faster-whisper ships, with an energy fallback.

Both take 512-sample windows (32 ms = two hops) and keep their state across pushes, so a
live stream and a whole recording give the same probabilities. Silero is skipped on
windows that are clearly silence by energy (well under the channel's speech level, or
at the noise floor), which halves its cost on a typical call; the skip decision looks
only at past and present samples, so it stays block-size independent.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

import numpy as np

__all__ = ["WINDOW", "SileroVad", "EnergyVad", "make_vad", "VadUnavailable"]

WINDOW = 512
_CONTEXT = 64
_WARMUP_WINDOWS = 2  # past windows re-run to warm Silero's state when it wakes up


class VadUnavailable(Exception):
    """onnxruntime or the model file is missing: use the energy fallback."""


def _window_db(windows: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-10))


@dataclass
class _Floor:
    """A noise-floor tracker: falls at once to quieter windows, rises slowly (3 dB/s).

    `level` None starts the floor at the first window's level (the energy VAD: steady
    noise from the first second is floor, not speech).
    """

    level: float | None = -60.0
    rise_db_per_window: float = 3.0 * WINDOW / 16000

    def update(self, db: float) -> float:
        if self.level is None or db < self.level:
            self.level = db
        else:
            self.level += self.rise_db_per_window
        return self.level


def _silero_path() -> str:
    """The model file faster-whisper ships, found without importing faster-whisper (which
    loads CTranslate2 and friends: a second of start-up the acoustic analysis can't use)."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.origin:
        raise VadUnavailable("faster-whisper is not installed (it ships the Silero VAD)")
    path = os.path.join(os.path.dirname(spec.origin), "assets", "silero_vad_v6.onnx")
    if not os.path.exists(path):
        raise VadUnavailable(f"Silero VAD model not found at {path}")
    return path


class SileroVad:
    """Silero VAD v6 through onnxruntime, streaming."""

    name = "silero"

    def __init__(self, gate_db: float = 5.0) -> None:
        try:
            import onnxruntime
        except ImportError as exc:
            raise VadUnavailable(f"onnxruntime not available ({exc})") from None
        path = _silero_path()
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        opts.enable_cpu_mem_arena = False  # the arena keeps the largest batch's memory
        self._session = onnxruntime.InferenceSession(
            path, providers=["CPUExecutionProvider"], sess_options=opts)
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._history = np.zeros((_WARMUP_WINDOWS, WINDOW + _CONTEXT), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._floor = _Floor()
        self._awake = False
        self.gate_db = gate_db

    def _run(self, batch: np.ndarray) -> np.ndarray:
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c})
        return np.asarray(probs, dtype=np.float32).reshape(-1)

    def process(self, windows: np.ndarray) -> np.ndarray:
        """Speech probability for each row of `windows` (n x 512, float32)."""
        n = len(windows)
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        ctx = np.empty((n, _CONTEXT), dtype=np.float32)
        ctx[0] = self._context
        ctx[1:] = windows[:-1, -_CONTEXT:]
        self._context = windows[-1, -_CONTEXT:].copy()
        inputs = np.concatenate([ctx, windows], axis=1)
        db = _window_db(windows)
        active = np.empty(n, dtype=bool)
        for i in range(n):
            floor = self._floor.update(db[i])
            active[i] = db[i] > floor + self.gate_db and db[i] > -72.0
        probs = np.zeros(n, dtype=np.float32)
        # Run Silero on each stretch of possibly-speech windows, warming its state first
        # with the windows just before (already decided as silence, so not re-reported).
        i = 0
        while i < n:
            if not active[i]:
                self._awake = False  # the next stretch starts from a cold state
                i += 1
                continue
            j = i
            while j < n and active[j]:
                j += 1
            if not self._awake:
                past = np.concatenate([self._history, inputs[max(0, i - _WARMUP_WINDOWS):i]])
                self._run(past[-_WARMUP_WINDOWS:])
            probs[i:j] = self._run(inputs[i:j])
            self._awake = True
            i = j
        self._history = np.concatenate([self._history, inputs])[-_WARMUP_WINDOWS:]
        return probs


class EnergyVad:
    """Fallback: loudness over an adaptive noise floor, as a soft probability.

    Survives steady background noise (the floor follows it) and telephone band (energy
    does not care about bandwidth), but is fooled by loud non-speech; Silero is preferred.
    """

    name = "energy"

    def __init__(self, on_db: float = 10.0, span_db: float = 8.0) -> None:
        self._floor = _Floor(level=None)
        self.on_db = on_db
        self.span_db = span_db

    def process(self, windows: np.ndarray) -> np.ndarray:
        db = _window_db(windows)
        probs = np.empty(len(windows), dtype=np.float32)
        for i, level in enumerate(db):
            floor = self._floor.update(level)
            excess = level - floor - (self.on_db - self.span_db / 2)
            probs[i] = 0.0 if level < -72.0 else float(np.clip(excess / self.span_db, 0, 1))
        return probs


def make_vad(prefer: str = "silero") -> SileroVad | EnergyVad:
    """The preferred VAD, or the energy fallback when Silero can't load (see `.name`)."""
    if prefer == "silero":
        try:
            return SileroVad()
        except VadUnavailable:
            return EnergyVad()
    return EnergyVad()
