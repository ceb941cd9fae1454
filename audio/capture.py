"""Capture from one input device into a ring buffer, with faults reported, not raised.

The PortAudio callback does one thing: copy its block (the channel it wants) into a
preallocated `RingBuffer` and note the stream time of the block's first sample. All math
happens in the worker that reads the buffer. A device that disappears mid-call, a
PortAudio error or a refused sample rate become a `CaptureFault` the engine can show
while the audio captured so far stays in the buffer.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import numpy as np

from audio.devices import DeviceError, InputDevice, portaudio_status, pulse_sources
from audio.portaudio_host import open_stream, portaudio_lock, stream_closed
from audio.ring_buffer import RingBuffer

__all__ = ["CaptureConfig", "CaptureFault", "DeviceCapture"]

# PULSE_SOURCE is read by the pulse plugin when a stream opens; two streams opened one
# after the other can each bind to their own source, but not concurrently.
_PULSE_ENV_LOCK = threading.Lock()
_LOOKUP_EVERY_S = 2.0


@dataclass(frozen=True)
class CaptureConfig:
    """How to open a device: frozen so the worker that owns the stream can't drift."""

    sample_rate: int = 16000
    block_s: float = 0.02
    buffer_s: float = 30.0
    channel: int = 0  # which input channel of the device (a stereo adapter: 0 or 1)
    device_rate: int | None = None  # open at this rate and resample (None: sample_rate,
    # or the device's own rate if it refuses sample_rate)


@dataclass(frozen=True)
class CaptureFault:
    """Something went wrong with a device; `fatal` means the stream stopped."""

    device_id: str
    message: str
    fatal: bool
    at: float  # time.monotonic() when noticed


class DeviceCapture:
    """One input stream feeding one ring buffer per captured channel.

    `channels` lists the device channels to keep (e.g. (0,) for a microphone, (0, 1) for a
    stereo adapter carrying agent and customer); `buffers[i]` holds channel `channels[i]`.
    """

    def __init__(self, device: InputDevice, config: CaptureConfig,
                 channels: tuple[int, ...] = (0,)) -> None:
        self.device = device
        self.config = config
        self.channels = channels
        capacity = int(config.buffer_s * config.sample_rate)
        self.buffers = tuple(RingBuffer(capacity) for _ in channels)
        self.rate = config.sample_rate  # what the device delivers
        self._raw = self.buffers  # what the callback fills (device-rate buffers if resampled)
        self._resamplers: list = []
        self.faults: list[CaptureFault] = []
        self.status_flags = 0  # PortAudio input overflows and the like, counted
        self.first_block_time: float | None = None  # time.monotonic() of sample 0
        self._stream = None
        self._losses_seen = (0, 0)  # (status flags, dropped samples) already reported
        self._stopped = threading.Event()
        self._last_lookup = time.monotonic()

    # -- audio thread -------------------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info, status) -> None:
        if status:
            self.status_flags += 1
        if self.first_block_time is None:
            self.first_block_time = time.monotonic() - frames / self.config.sample_rate
        for buf, ch in zip(self._raw, self.channels, strict=True):
            buf.write(indata[:, ch])

    def _finished(self) -> None:
        if not self._stopped.is_set():
            self._fault("the device stopped delivering audio (unplugged?)", fatal=True)

    # -- control ------------------------------------------------------------------
    def _fault(self, message: str, fatal: bool) -> None:
        self.faults.append(CaptureFault(self.device.id, message, fatal, time.monotonic()))

    def start(self) -> None:
        """Open and start the stream.

        Raises:
            DeviceError: the device cannot be opened (named, with PortAudio's reason).
        """
        ok, message = portaudio_status()
        if not ok:
            raise DeviceError(message)
        import sounddevice as sd

        need = max(self.channels) + 1
        if need > self.device.channels:
            raise DeviceError(f"{self.device.label} has {self.device.channels} input "
                              f"channel(s); channel {need} was asked for")
        wanted = self.config.device_rate or self.config.sample_rate
        try:
            self._open(sd, need, wanted)
        except DeviceError:
            native = int(self.device.sample_rate or 0)
            if self.config.device_rate or native in (0, wanted):
                raise
            self._open(sd, need, native)  # a device that only does its own rate
            self._fault(f"{self.device.label} refused {wanted} Hz; capturing at {native} Hz "
                        "and resampling", fatal=False)

    def _open(self, sd, need: int, rate: int) -> None:
        if rate != self.config.sample_rate:
            self._use_rate(rate)
        kwargs = dict(samplerate=rate, channels=need, dtype="float32",
                      blocksize=int(self.config.block_s * rate),
                      callback=self._callback, finished_callback=self._finished)
        with _PULSE_ENV_LOCK:
            saved = os.environ.get("PULSE_SOURCE")
            try:
                if self.device.pulse_source:
                    os.environ["PULSE_SOURCE"] = self.device.pulse_source
                stream = open_stream(lambda: sd.InputStream(
                    device=self.device.portaudio_name, **kwargs))
            except (sd.PortAudioError, ValueError) as exc:
                raise DeviceError(f"cannot open {self.device.label} at "
                                  f"{rate} Hz: {exc}") from None
            try:
                with portaudio_lock():
                    stream.start()
            except sd.PortAudioError as exc:
                self._close(stream)
                raise DeviceError(f"cannot start {self.device.label} at "
                                  f"{rate} Hz: {exc}") from None
            finally:
                if saved is None:
                    os.environ.pop("PULSE_SOURCE", None)
                else:
                    os.environ["PULSE_SOURCE"] = saved
        self._stream = stream

    def take_losses(self) -> tuple[int, float]:
        """Worker side: (PortAudio overflow flags, seconds of audio lost to a full buffer)
        since the last call, so a busy computer is said, not silently glossed over."""
        flags = self.status_flags
        dropped = sum(b.dropped for b in self._raw) + sum(
            b.dropped for b in self.buffers if b not in self._raw)
        seen_flags, seen_dropped = self._losses_seen
        self._losses_seen = (flags, dropped)
        return flags - seen_flags, (dropped - seen_dropped) / self.rate / len(self.channels)

    def _use_rate(self, rate: int) -> None:
        """Capture at the device's `rate`: the callback fills raw buffers at that rate and
        `pump` resamples them into `buffers` (16 kHz) on the worker, never in the callback."""
        import soxr

        self.rate = rate
        capacity = int(self.config.buffer_s * rate)
        self._raw = tuple(RingBuffer(capacity) for _ in self.channels)
        self._resamplers = [soxr.ResampleStream(rate, self.config.sample_rate, 1,
                                                dtype="float32") for _ in self.channels]

    def pump(self) -> None:
        """Worker side: move what the callback captured into `buffers` (resampled if the
        device runs at another rate; nothing to do otherwise)."""
        for raw, out, rs in zip(self._raw, self.buffers, self._resamplers, strict=False):
            _, block = raw.read()
            if len(block):
                out.write(rs.resample_chunk(block))

    @property
    def holds_stream(self) -> bool:
        """A stream is open (perhaps dead with its device) until `stop`."""
        return self._stream is not None

    @property
    def active(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def check(self) -> None:
        """Called by the worker now and then: notice a stream that died silently.

        PulseAudio/PipeWire do not fail a recording whose source vanishes (a headset
        unplugged, a softphone's sink removed): they move it to another source. So a
        pulse source is also looked up by name every couple of seconds.
        """
        if self._stopped.is_set() or any(f.fatal for f in self.faults):
            return
        if self._stream is not None and not self._stream.active:
            self._fault("the device stopped (unplugged or taken by another program)",
                        fatal=True)
            return
        now = time.monotonic()
        if self.device.pulse_source and now - self._last_lookup >= _LOOKUP_EVERY_S:
            self._last_lookup = now
            if self.device.pulse_source not in {s[0] for s in pulse_sources()}:
                self._fault(f"{self.device.pulse_source} disappeared (unplugged or its "
                            "program closed); its side continues as silence", fatal=True)

    def stop(self) -> None:
        self._stopped.set()
        stream, self._stream = self._stream, None
        if stream is not None:
            self._close(stream)

    def _close(self, stream) -> None:
        try:
            with portaudio_lock():  # PortAudio calls one at a time, from any thread
                stream.stop()
                stream.close()
        except Exception as exc:  # noqa: BLE001 - a vanished device may fail to close
            self._fault(f"closing the stream failed: {exc}", fatal=False)
        finally:
            stream_closed()
