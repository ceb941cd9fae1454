"""A live level test for one input device ("is this the right microphone?").

Opening a stream can take a while (a PulseAudio stream 100+ ms, a Bluetooth headset
longer), and closing one can hang on a vanished device, so both happen on a short-lived
Python thread; the GUI thread only reads the ring buffer on a ~30 Hz timer and emits a
level. The probe captures with the same `CaptureConfig` sample rate the live coach uses,
so a device that passes the test is one the coach can open.
"""

from __future__ import annotations

import atexit
import math
import threading
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from audio.capture import CaptureConfig, DeviceCapture
from audio.devices import DeviceError, InputDevice

__all__ = ["LevelProbe", "SILENCE_DB", "rms_dbfs", "start_audio_thread"]

SILENCE_DB = -100.0  # what digital silence (or nothing read yet) reports
_PROBE_CONFIG = CaptureConfig(buffer_s=2.0)


def rms_dbfs(samples: np.ndarray) -> float:
    """RMS level of a block in dBFS (a full-scale sine is -3 dBFS); SILENCE_DB if empty."""
    if len(samples) == 0:
        return SILENCE_DB
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(SILENCE_DB, 20.0 * math.log10(rms)) if rms > 0 else SILENCE_DB


_pending: set[threading.Thread] = set()
_pending_lock = threading.Lock()
_exit_wait_registered = False
_EXIT_WAIT_S = 5.0


def _wait_for_audio_threads() -> None:
    """At exit: let streams finish opening or closing before PortAudio is terminated.

    sounddevice terminates PortAudio in its own atexit handler, and that hangs for good
    when a pulse stream is being closed on another thread at that moment (closing one
    takes over a second). atexit runs handlers last-registered first, so this one is
    registered after sounddevice is imported.
    """
    deadline = time.monotonic() + _EXIT_WAIT_S
    with _pending_lock:
        threads = list(_pending)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def _register_exit_wait() -> None:
    global _exit_wait_registered
    try:
        import sounddevice  # noqa: F401  (so its atexit handler runs after ours)
    except (OSError, ImportError):
        pass
    with _pending_lock:
        if _exit_wait_registered:
            return
        _exit_wait_registered = True
    atexit.register(_wait_for_audio_threads)


def start_audio_thread(target: Callable[..., object], *args: object,
                       name: str) -> threading.Thread:
    """Run `target(*args)` on a daemon thread that the app waits for at exit.

    For anything that opens, closes or lists PortAudio devices off the GUI thread: the
    GUI never waits for it, but quitting does (up to a few seconds), since PortAudio must
    not be terminated under it.
    """
    def run() -> None:
        try:
            _register_exit_wait()
            target(*args)
        finally:
            with _pending_lock:
                _pending.discard(thread)

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _pending_lock:
        _pending.add(thread)
    thread.start()
    return thread


def _close_in_background(capture: DeviceCapture) -> None:
    start_audio_thread(capture.stop, name="level-probe-close")


class _Attempt:
    """One open of the device, shared by the opening thread and the GUI thread.

    Whoever comes second closes the stream: the thread when the attempt was cancelled
    before the stream existed, `cancel()` when it already did. So a stream is never left
    open, even when the probe is deleted before the thread's report arrives.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cancelled = False
        self.capture: DeviceCapture | None = None

    def opened(self, capture: DeviceCapture) -> bool:
        """Thread: keep `capture` unless cancelled (then it is closed); False if cancelled."""
        with self._lock:
            if not self.cancelled:
                self.capture = capture
                return True
        capture.stop()
        return False

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            capture, self.capture = self.capture, None
        if capture is not None:
            _close_in_background(capture)


class LevelProbe(QObject):
    """Opens `device` off the GUI thread and reports its level about 30 times a second.

    Signals:
        opened(): the stream is running (levels follow).
        level(float): RMS dBFS of the audio since the last tick.
        error(str): one line saying why the device could not be opened or stopped
            delivering audio; the probe is stopped when it is emitted.

    `start()` and `stop()` return at once; a stop during the open closes the stream as
    soon as it exists. A probe can be started again after it stopped.
    """

    opened = Signal()
    level = Signal(float)
    error = Signal(str)
    _open_done = Signal(object, str)  # the attempt, an error message ("" when open)

    def __init__(self, device: InputDevice, parent: QObject | None = None, *,
                 interval_ms: int = 33, channel: int = 0) -> None:
        super().__init__(parent)
        self.device = device
        self._channel = channel
        self._attempt: _Attempt | None = None
        self._current: list[_Attempt | None] = [None]  # for the destroyed handler
        current = self._current
        self.destroyed.connect(lambda *_: current[0] and current[0].cancel())
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._open_done.connect(self._on_open_done)

    @property
    def running(self) -> bool:
        """Opening or open."""
        return self._attempt is not None

    def start(self) -> None:
        """Open the device in the background (no-op when already running)."""
        if self._attempt is not None:
            return
        attempt = self._attempt = _Attempt()
        self._current[0] = attempt
        start_audio_thread(self._run_open, attempt, name="level-probe-open")

    def _run_open(self, attempt: _Attempt) -> None:
        """Worker thread: open the stream and tell the GUI thread how it went."""
        capture = DeviceCapture(self.device, _PROBE_CONFIG, channels=(self._channel,))
        message = ""
        try:
            capture.start()
        except DeviceError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001 - a driver error must not kill the thread
            message = f"cannot open {self.device.label}: {exc}"
        if not message and not attempt.opened(capture):
            return
        try:
            self._open_done.emit(attempt, message)
        except RuntimeError:  # the probe is gone; `destroyed` cancelled the attempt
            attempt.cancel()

    @Slot(object, str)
    def _on_open_done(self, attempt: _Attempt, message: str) -> None:
        if attempt is not self._attempt:  # stopped or restarted meanwhile
            attempt.cancel()
            return
        if message:
            self._attempt = self._current[0] = None
            self.error.emit(message)
            return
        self._timer.start()
        self.opened.emit()

    def stop(self) -> None:
        """Close the stream in the background; no more signals after this returns."""
        attempt, self._attempt = self._attempt, None
        self._current[0] = None
        self._timer.stop()
        if attempt is not None:
            attempt.cancel()

    @Slot()
    def _tick(self) -> None:
        capture = self._attempt.capture if self._attempt is not None else None
        if capture is None:
            return
        # Not `capture.check()`: its pulse look-up runs pactl, too slow for this thread.
        fatal = next((f for f in capture.faults if f.fatal), None)
        if fatal is not None or not capture.active:
            self.stop()
            why = fatal.message if fatal else "the device stopped delivering audio"
            self.error.emit(f"{self.device.label}: {why}")
            return
        capture.pump()  # a device that needed its own rate is resampled here
        _, samples = capture.buffers[0].read()
        if len(samples):
            self.level.emit(rms_dbfs(samples))
