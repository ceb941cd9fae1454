"""Play a recorded call to the trainer: both parties at once, agent left, customer right.

The replay page moves its playhead and transcript from `position`, so `position` is what
the trainer hears: the frames handed to PortAudio, less the output latency, interpolated
between callbacks so the playhead moves smoothly. The PortAudio callback only copies
frames from the call's array at the current position (a lock held for that copy alone).
Without sound (no PortAudio, no output device) `SilentClock` offers the same API and
moves in real time, so the page still follows the call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from audio.devices import portaudio_status
from audio.portaudio_host import open_stream, portaudio_lock, stream_closed

__all__ = ["PlaybackError", "Player", "CallPlayer", "SilentClock", "stereo_samples"]


class PlaybackError(Exception):
    """Sound cannot be played; the message is one line meant for the trainer."""


class Player(Protocol):
    """What the replay page drives: `CallPlayer` with sound, `SilentClock` without."""

    on_finished: Callable[[], None] | None

    def play(self) -> None: ...
    def pause(self) -> None: ...
    def seek(self, t: float) -> None: ...
    def close(self) -> None: ...
    @property
    def position(self) -> float: ...
    @property
    def playing(self) -> bool: ...
    @property
    def duration(self) -> float: ...


def stereo_samples(agent: np.ndarray, customer: np.ndarray | None = None) -> np.ndarray:
    """(n, 2) float32 with the agent left and the customer right.

    An agent-only call keeps one column: the player then sends it to both ears.
    """
    agent = np.asarray(agent, dtype=np.float32)
    if customer is None:
        return agent.reshape(-1, 1)
    n = min(len(agent), len(customer))
    return np.column_stack([agent[:n], np.asarray(customer[:n], dtype=np.float32)])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _resample(data: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    """The whole call at the device's rate, for the rare device that refuses 16 kHz."""
    try:
        import soxr
        return np.ascontiguousarray(soxr.resample(data, rate, new_rate), dtype=np.float32)
    except ImportError:  # pragma: no cover - soxr comes with librosa
        n = int(round(len(data) * new_rate / rate))
        src = np.arange(len(data)) / rate
        dst = np.arange(n) / new_rate
        return np.column_stack([np.interp(dst, src, data[:, c]) for c in range(data.shape[1])]
                               ).astype(np.float32)


class CallPlayer:
    """Plays a call's samples through a `sounddevice.OutputStream`.

    Args:
        samples: (n, channels) or (n,) float32 at `sample_rate`; column 0 is the agent
            (left), column 1 the customer (right); one column plays in both ears.
        sample_rate: of `samples` (16000 for a `Recording`).
        device: a PortAudio output device (name or index); None for the default.
        on_finished: called (from an audio thread) when playback reaches the end.
    """

    def __init__(self, samples: np.ndarray, sample_rate: int, device: Any = None,
                 on_finished: Callable[[], None] | None = None) -> None:
        data = np.asarray(samples, dtype=np.float32)
        if data.ndim == 1:
            data = data.reshape(-1, 1)
        if data.ndim != 2 or data.shape[1] < 1:
            raise ValueError("samples must be (frames,) or (frames, channels)")
        self.on_finished = on_finished
        self._data, self._rate = data, int(sample_rate)
        self._device = device
        self._lock = threading.Lock()
        self._frame = 0  # the next frame handed to PortAudio
        self._start = 0  # where playback (re)started: nothing before it is heard
        self._stamp: tuple[int, float] | None = None  # (frame before a callback, its time)
        self._latency = 0  # output latency in frames
        self._playing = False
        self._ended = False  # the callback ran out of frames (not a pause)
        self._stream: Any = None
        self._mono_out = False  # the device has a single output channel
        self._stop_exc: type[BaseException] = StopIteration

    @classmethod
    def from_recording(cls, recording: Any, device: Any = None,
                       on_finished: Callable[[], None] | None = None) -> CallPlayer:
        """A player for an `audio.recording.Recording` (agent left, customer right)."""
        return cls(stereo_samples(recording.agent, recording.customer), recording.sample_rate,
                   device, on_finished)

    @property
    def duration(self) -> float:
        return len(self._data) / self._rate

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def position(self) -> float:
        """Seconds into the call that the trainer hears now; safe from any thread."""
        return self._heard_frame() / self._rate

    def _heard_frame(self) -> int:
        with self._lock:
            frame, start, stamp = self._frame, self._start, self._stamp
        if not self._playing:
            return frame
        if stamp is None:  # started or sought, no callback yet: nothing new heard
            return start
        before, t = stamp
        heard = before + (time.monotonic() - t) * self._rate - self._latency
        return int(min(max(heard, start), frame))

    def play(self) -> None:
        """Start or resume from `position` (from the start once at the end).

        Raises:
            PlaybackError: no PortAudio or no usable output device (one-line message).
        """
        if self._playing:
            return
        stream = self._open()
        with self._lock:
            if self._frame >= len(self._data):
                self._frame = 0
            self._start, self._stamp, self._ended = self._frame, None, False
        try:
            with portaudio_lock():  # PortAudio calls one at a time, from any thread
                if not stream.stopped:  # ended by the callback: PortAudio wants a stop first
                    stream.abort()
                stream.start()
        except Exception as exc:  # sounddevice.PortAudioError, without importing it here
            raise PlaybackError(f"cannot play sound: {_one_line(exc)}") from None
        self._latency = int(float(stream.latency) * self._rate)
        self._playing = True

    def pause(self) -> None:
        """Stop at what is heard now; the buffered audio is dropped, not played out.

        The output is released too: a paused replay must not hold the sound system (a
        live call may need to restart PortAudio to take back a headset plugged in again).
        """
        if not self._playing:
            return
        heard = self._heard_frame()
        self.close()  # a vanished device fails quietly here: the position still holds
        with self._lock:
            self._frame = self._start = heard
            self._stamp = None

    def seek(self, t: float) -> None:
        """Jump to `t` seconds (clamped to the call); playing or not."""
        frame = int(round(min(max(t, 0.0), self.duration) * self._rate))
        with self._lock:
            self._frame = self._start = frame
            self._stamp = None

    def close(self) -> None:
        """Stop and release the device (a later `play` opens it again)."""
        self._playing = False
        if self._stream is not None:
            stream, self._stream = self._stream, None
            try:
                with portaudio_lock():
                    stream.abort()
                    stream.close()
            except Exception:  # noqa: BLE001 - a vanished device must not stop a close
                pass
            finally:
                stream_closed()

    def __enter__(self) -> CallPlayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> Any:
        if self._stream is not None:
            return self._stream
        ok, message = portaudio_status()
        if not ok:
            raise PlaybackError(f"cannot play sound: {message.split(';')[0]}")
        import sounddevice as sd

        try:
            with portaudio_lock():
                info = sd.query_devices(self._device, kind="output")
        except (ValueError, sd.PortAudioError) as exc:
            which = f" {self._device!r}" if self._device is not None else ""
            raise PlaybackError(f"cannot play sound: no output device{which} "
                                f"({_one_line(exc)})") from None
        self._stop_exc = sd.CallbackStop
        self._mono_out = int(info["max_output_channels"]) < 2
        try:
            self._stream = self._new_stream(sd, self._rate)
        except sd.PortAudioError as exc:
            rate = int(info["default_samplerate"])
            if "sample rate" not in str(exc).lower() or rate == self._rate:
                raise PlaybackError(f"cannot play sound: {_one_line(exc)}") from None
            self._adopt_rate(rate)  # this device wants its own rate: resample once
            try:
                self._stream = self._new_stream(sd, rate)
            except sd.PortAudioError as exc2:
                raise PlaybackError(f"cannot play sound: {_one_line(exc2)}") from None
        return self._stream

    def _new_stream(self, sd: Any, rate: int) -> Any:
        return open_stream(lambda: sd.OutputStream(
            samplerate=rate, channels=1 if self._mono_out else 2, dtype="float32",
            device=self._device, callback=self._callback,
            finished_callback=self._stream_finished))

    def _adopt_rate(self, rate: int) -> None:
        with self._lock:
            scale = rate / self._rate
            self._data = _resample(self._data, self._rate, rate)
            self._frame = self._start = min(int(self._frame * scale), len(self._data))
            self._rate = rate

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: copy the next frames, nothing else."""
        with self._lock:
            pos = self._frame
            k = max(0, min(frames, len(self._data) - pos))
            if k:
                block = self._data[pos:pos + k]
                if self._mono_out and block.shape[1] > 1:
                    np.add(block[:, 0], block[:, 1], out=outdata[:k, 0])
                    outdata[:k, 0] *= 0.5
                elif self._mono_out or block.shape[1] == 1:
                    outdata[:k] = block[:, :1]  # one column: both ears
                else:
                    outdata[:k] = block[:, :2]
            self._frame = pos + k
            self._stamp = (pos, time.monotonic())
        if k < frames:
            outdata[k:] = 0
            self._ended = True
            raise self._stop_exc

    def _stream_finished(self) -> None:
        if not self._ended:  # a pause or close: those did their own bookkeeping
            return
        self._playing = False
        if self.on_finished is not None:
            self.on_finished()


class SilentClock:
    """`CallPlayer`'s API without sound: position moves in real time while "playing".

    The replay page switches to it when `CallPlayer.play` raises `PlaybackError`, so the
    playhead and transcript still follow the call.
    """

    def __init__(self, duration: float, on_finished: Callable[[], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.on_finished = on_finished
        self._duration = max(0.0, float(duration))
        self._clock = clock
        self._lock = threading.Lock()
        self._offset = 0.0  # position when last started, sought or paused
        self._since: float | None = None  # clock reading when play started
        self._timer: threading.Timer | None = None

    @property
    def duration(self) -> float:
        return self._duration

    @property
    def playing(self) -> bool:
        return self._since is not None

    @property
    def position(self) -> float:
        with self._lock:
            since, offset = self._since, self._offset
        if since is None:
            return offset
        return min(self._duration, offset + self._clock() - since)

    def play(self) -> None:
        with self._lock:
            if self._since is not None:
                return
            if self._offset >= self._duration:
                self._offset = 0.0
            self._since = self._clock()
            self._arm(self._duration - self._offset)

    def pause(self) -> None:
        pos = self.position
        with self._lock:
            self._disarm()
            self._since, self._offset = None, pos

    def seek(self, t: float) -> None:
        with self._lock:
            self._offset = min(max(float(t), 0.0), self._duration)
            if self._since is not None:
                self._since = self._clock()
                self._disarm()
                self._arm(self._duration - self._offset)

    def close(self) -> None:
        self.pause()

    def _arm(self, remaining: float) -> None:
        timer = threading.Timer(max(0.0, remaining), lambda: self._finish(timer))
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self, timer: threading.Timer) -> None:
        with self._lock:
            if timer is not self._timer:
                return  # paused or sought since this timer was armed
            self._since, self._offset, self._timer = None, self._duration, None
        if self.on_finished is not None:
            self.on_finished()
