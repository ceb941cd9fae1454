"""Voice activity: the Silero VAD that faster-whisper ships, with an energy fallback.

Both work on 512-sample windows (32 ms = two hops) and keep their state across calls, so
a live stream and a whole recording give the same probabilities: `process` takes whole
windows (the channel analyzer cuts them), `push` takes any number of samples.

Silero is skipped on windows that are clearly silence by energy (within 5 dB of the
noise floor, or under -72 dBFS): on a call that is the pauses, about half the model's
cost. The skip decision and the noise floor depend only on past and present windows and
are computed from the global window index, so they are the same whatever the block sizes.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from audio.frames import SAMPLE_RATE

__all__ = ["WINDOW", "SileroVad", "EnergyVad", "make_vad", "VadUnavailable"]

WINDOW = 512
_CONTEXT = 64
_WARMUP_WINDOWS = 2  # past windows re-run to warm Silero's state when it wakes up
_MAX_BATCH = 4096  # windows per model call (131 s of audio)
_DB_FLOOR = -100.0
_SILENT_DB = -72.0  # under this a window is never speech (and never sent to Silero)
_DIGITAL_SILENCE_DB = -90.0


class VadUnavailable(Exception):
    """onnxruntime or the model file is missing: use the energy fallback."""


def _window_db(windows: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(windows.astype(np.float64) ** 2, axis=1))
    return np.maximum(20.0 * np.log10(np.maximum(rms, 1e-10)), _DB_FLOOR)


class _Floor:
    """A noise floor per window, vectorised and block-size independent.

    It falls at once to a quieter window and rises at most `rise_db_per_s` (so speech,
    being louder, does not drag it up), but never sits under the quietest window of the
    last `memory_s`, so a floor left low by a quieter stretch (digital silence while the
    line was muted) catches up with the line noise within `memory_s`, not in a minute.

    `start_db` None: the floor is unknown until the first sound (digital silence before
    it, under -90 dBFS, says nothing about the line) and starts `first_margin_db` under
    that first window, so steady noise from the start is floor, not speech, while speech
    that starts at once still stands out from its own quiet onset (the energy VAD). A
    number is a floor assumed before the stream starts (the Silero gate: speech from the
    first window must pass).
    """

    def __init__(self, start_db: float | None, rise_db_per_s: float = 3.0,
                 memory_s: float = 3.0, first_margin_db: float = 5.0) -> None:
        self._rate = rise_db_per_s * WINDOW / SAMPLE_RATE
        self._known = start_db is not None
        self._first_margin = first_margin_db
        self._seen = 0  # windows since the floor became known: the clock of the rise
        # running min of (db_j - rate * j): the rising floor is rate * i + that min
        self._best = np.inf if start_db is None else start_db
        memory = max(1, round(memory_s * SAMPLE_RATE / WINDOW))
        self._recent = np.full(memory - 1, np.inf if start_db is None else start_db)

    def update(self, db: np.ndarray) -> np.ndarray:
        """The floor at each of these windows (dB), given their levels `db` (-inf while
        the floor is unknown: everything is over it)."""
        level = db.astype(np.float64)
        unknown = 0
        if not self._known:
            sound = np.flatnonzero(db > _DIGITAL_SILENCE_DB)
            unknown = int(sound[0]) if len(sound) else len(db)
            level[:unknown] = np.inf
            if len(sound):
                level[unknown] -= self._first_margin
                self._known = True
        idx = self._seen + np.maximum(np.arange(len(db)) - unknown + 1, 0).astype(np.float64)
        self._seen = int(idx[-1]) if len(idx) else self._seen
        running = np.minimum.accumulate(np.concatenate([[self._best], level - self._rate * idx]))
        self._best = float(running[-1])
        rising = running[1:] + self._rate * idx
        levels = np.concatenate([self._recent, level])
        quietest = sliding_window_view(levels, len(self._recent) + 1).min(axis=1)
        self._recent = levels[len(levels) - len(self._recent):]
        floor = np.maximum(rising, quietest)
        return np.where(np.isfinite(floor), floor, -np.inf)


class _Windowed:
    """`push(samples)` for a VAD that works on whole windows: keeps the partial window.

    Use either `push` or `process` on one instance: `process` bypasses the kept samples.
    """

    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, windows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Speech probability of every 512-sample window this push completes."""
        x = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        n = len(x) // WINDOW
        self._pending = x[n * WINDOW:]
        return self.process(x[: n * WINDOW].reshape(n, WINDOW))


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


class SileroVad(_Windowed):
    """Silero VAD v6 through onnxruntime, streaming.

    The model takes each 512-sample window with the 64 samples before it and carries an
    LSTM state (h, c) from window to window; a batch of windows is a run of consecutive
    windows (as faster-whisper feeds it), so the context and state kept here make a
    stream of pushes equal to one call.
    """

    name = "silero"

    def __init__(self, gate_db: float | None = 5.0) -> None:
        """`gate_db`: skip windows less than this over the noise floor (None: never skip,
        which is exactly faster-whisper's own run of the model)."""
        super().__init__()
        try:
            import onnxruntime
        except ImportError as exc:
            raise VadUnavailable(f"onnxruntime is not available ({exc})") from None
        path = _silero_path()
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1  # the two channels run in two threads
        opts.log_severity_level = 4
        opts.enable_cpu_mem_arena = False  # the arena keeps the largest batch's memory
        try:
            self._session = onnxruntime.InferenceSession(
                path, providers=["CPUExecutionProvider"], sess_options=opts)
        except Exception as exc:  # a corrupt or incompatible model file
            raise VadUnavailable(f"Silero VAD model failed to load ({exc})") from None
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._history = np.zeros((_WARMUP_WINDOWS, WINDOW + _CONTEXT), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._floor = _Floor(start_db=-60.0, memory_s=5.0)
        self._awake = True  # the stream starts from the model's own zero state
        self.gate_db = gate_db
        self.windows_run = 0  # windows sent to the model (for measuring the gate)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """The model on consecutive windows, in bounded batches (the state carries over,
        so the cut changes nothing but the peak memory)."""
        self.windows_run += len(batch)
        out = []
        for i in range(0, len(batch), _MAX_BATCH):
            probs, self._h, self._c = self._session.run(
                None, {"input": batch[i:i + _MAX_BATCH], "h": self._h, "c": self._c})
            out.append(np.asarray(probs, dtype=np.float32).reshape(-1))
        return np.concatenate(out)

    def process(self, windows: np.ndarray) -> np.ndarray:
        """Speech probability for each row of `windows` (n x 512, float32)."""
        n = len(windows)
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        windows = np.asarray(windows, dtype=np.float32)
        ctx = np.empty((n, _CONTEXT), dtype=np.float32)
        ctx[0] = self._context
        ctx[1:] = windows[:-1, -_CONTEXT:]
        self._context = windows[-1, -_CONTEXT:].copy()
        inputs = np.concatenate([ctx, windows], axis=1)
        db = _window_db(windows)
        if self.gate_db is None:
            active = np.ones(n, dtype=bool)
        else:
            active = (db > self._floor.update(db) + self.gate_db) & (db > _SILENT_DB)
        probs = np.zeros(n, dtype=np.float32)
        # Run Silero on each stretch of possibly-speech windows. A stretch that follows
        # skipped windows is prefixed with the windows just before it (already reported
        # as silence) so the model's state has caught up when the stretch begins.
        padded = np.concatenate([self._history, inputs])
        edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
        for i, j in zip(edges[::2], edges[1::2], strict=True):
            if i == 0 and self._awake:
                probs[i:j] = self._run(inputs[i:j])
            else:
                out = self._run(padded[i:i + _WARMUP_WINDOWS + j - i])
                probs[i:j] = out[_WARMUP_WINDOWS:]
        self._awake = bool(active[-1])
        self._history = padded[-_WARMUP_WINDOWS:]
        return probs


class EnergyVad(_Windowed):
    """Fallback: loudness over an adaptive noise floor, as a soft probability.

    Survives steady background noise (the floor follows it) and telephone band (energy
    does not care about bandwidth), but is fooled by loud non-speech, and after digital
    silence mid-call (a mute) takes up to its 2 s floor memory to accept the line noise
    as noise again; Silero is preferred.
    The turn tracker's hysteresis (on at 0.5, off at 0.35) sits on this ramp: voice starts
    `on_db` over the floor and holds down to about `on_db - span_db / 4`.
    """

    name = "energy"

    def __init__(self, on_db: float = 10.0, span_db: float = 8.0, reason: str = "") -> None:
        super().__init__()
        self._floor = _Floor(start_db=None, memory_s=2.0)
        self.on_db = on_db
        self.span_db = span_db
        if reason:
            self.name = f"energy (fallback: {reason})"

    def process(self, windows: np.ndarray) -> np.ndarray:
        """Speech probability for each row of `windows` (n x 512)."""
        if len(windows) == 0:
            return np.zeros(0, dtype=np.float32)
        db = _window_db(windows)
        excess = db - self._floor.update(db) - (self.on_db - self.span_db / 2)
        probs = np.clip(excess / self.span_db, 0.0, 1.0)
        return np.where(db < _SILENT_DB, 0.0, probs).astype(np.float32)


def make_vad(prefer: str = "silero") -> SileroVad | EnergyVad:
    """The preferred VAD, or the energy fallback when Silero can't load.

    `.name` says which one runs and, for a fallback, why ("energy (fallback: onnxruntime
    is not available ...)"), so the app can show it instead of failing.
    """
    if prefer == "silero":
        try:
            return SileroVad()
        except VadUnavailable as exc:
            return EnergyVad(reason=str(exc))
    if prefer == "energy":
        return EnergyVad()
    raise ValueError(f"unknown VAD {prefer!r} (expected 'silero' or 'energy')")
