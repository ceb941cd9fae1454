"""A live call: capture from the agent's and the customer's devices into the live engine.

Capture callbacks only fill ring buffers; one worker thread reads both every 20 ms,
lines the two streams up by their first block's time, and feeds the engine. Two devices
run on two clocks: the customer's stream is kept to the agent's by `audio.drift` (else
it slides by seconds an hour, and overlaps are measured against the wrong moment). A
device that fails mid-call is reported and its side continues as silence, so the call's
data and the other side's cues are kept; meanwhile the device is looked for again every
couple of seconds (a headset plugged back in, a softphone restarted) and, once it
delivers, its side goes on from there; one that comes back where PortAudio's old device
list can't open it is taken back by restarting PortAudio (`audio.portaudio_host`). With
no side delivering, silence is fed as long as the clock says, so call time and prompt
latency keep to the clock. Kept call audio is written behind the transcript, with what
the redactor took out silenced (`audio.kept_audio`). The session never raises from its
worker.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from audio.capture import CaptureConfig, CaptureFault, DeviceCapture
from audio.devices import DeviceError, InputDevice, find_device, list_input_devices
from audio.drift import DriftCorrector, DriftReport
from audio.kept_audio import RedactedRecorder
from audio.live import LiveConfig, LiveEngine, LiveResult
from audio.portaudio_host import open_streams, restart_portaudio
from audio.recording import SAMPLE_RATE
from audio.reopener import Reopener
from audio.transcribe import Transcriber
from coaching.playbook import Playbook
from coaching.timeline import Event

__all__ = ["SessionConfig", "LiveSession"]

_TICK_S = 0.02
_LOSS_EVERY_S = 10.0  # overflows are said at most this often per device


@dataclass(frozen=True)
class SessionConfig:
    """Frozen: handed to the session's worker.

    Attributes:
        record_to: also write the call's audio here (a stereo WAV, agent left, customer
            right, 16 kHz), for agents who opted in to keep call audio: written a few
            seconds behind the call, once its transcript is redacted, with redacted
            speech silenced. Not kept without a speech model (it could not be checked).
    """

    live: LiveConfig = field(default_factory=LiveConfig)
    capture: CaptureConfig = field(default_factory=CaptureConfig)
    record_to: str | None = None


class LiveSession:
    """Start, run in the background, stop: a LiveResult with the whole call.

    `agent`/`customer` may be the same device with `customer_channel` set (a stereo
    headset adapter carrying both parties; `agent_channel` says which channel is the
    agent's, 0 unless the adapter puts the agent on the right).
    """

    def __init__(self, agent: InputDevice, customer: InputDevice | None,
                 config: SessionConfig, playbook: Playbook,
                 transcriber: Transcriber | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 on_fault: Callable[[CaptureFault], None] | None = None,
                 customer_channel: int | None = None, agent_channel: int = 0) -> None:
        if customer_channel is not None and customer_channel == agent_channel:
            raise ValueError("the agent and the customer need different channels")
        live = LiveConfig(**{**config.live.__dict__,
                             "has_customer": customer is not None or customer_channel is not None})
        self.engine = LiveEngine(live, playbook, transcriber, on_event)
        self.on_fault = on_fault or (lambda f: None)
        if customer_channel is not None:  # one stereo device, both parties
            self.captures = [DeviceCapture(agent, config.capture,
                                           (agent_channel, customer_channel))]
        else:
            self.captures = [DeviceCapture(agent, config.capture)]
            if customer is not None:
                self.captures.append(DeviceCapture(customer, config.capture))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: set[int] = set()
        self.faults: list[CaptureFault] = []
        self.started_at: float | None = None
        self._record_to = config.record_to
        self._recorder: RedactedRecorder | None = None  # while keeping the call's audio
        self.kept_audio: str | None = None  # the call's audio file, once it is being kept
        # Two devices, two clocks; one stereo device has one clock for both parties.
        self._drift = DriftCorrector(SAMPLE_RATE) if len(self.captures) == 2 else None
        self._reopeners: dict[int, Reopener] = {}  # capture index -> its reopening
        self._waking: set[DeviceCapture] = set()  # reopened, not delivering yet
        self._fed = 0  # samples per side handed to the engine
        self._said_busy = False  # "stop the other audio" is said once a call
        self._listed: dict[str, bool] = {}  # lost device -> in a fresh list at the last restart
        self._losses: dict[str, tuple[int, float, float]] = {}  # device -> unsaid, said at

    def _buffers(self):
        return [b for c in self.captures for b in c.buffers]

    def start(self) -> None:
        """Open the devices (DeviceError if one can't be) and start the worker."""
        for capture in self.captures:
            capture.start()
        if self._record_to:
            self._open_recorder()
        self._thread = threading.Thread(target=self._run, name="callcoach-live", daemon=True)
        self._thread.start()

    def _check_faults(self) -> None:
        for capture in self.captures:
            capture.check()
            self._report_losses(capture)
            for fault in capture.faults:
                if id(fault) not in self._reported:
                    self._reported.add(id(fault))
                    self.faults.append(fault)
                    self.on_fault(fault)

    def _run(self) -> None:
        buffers = self._buffers()
        # Line the streams up: drop the head of whichever device started first.
        while not self._stop.is_set() and any(c.first_block_time is None
                                              for c in self.captures):
            self._check_faults()
            if any(f.fatal for f in self.faults):
                break
            time.sleep(_TICK_S)
        for capture in self.captures:
            capture.pump()
        starts = [c.first_block_time or time.monotonic() for c in self.captures]
        zero = max(starts)
        for capture, start in zip(self.captures, starts, strict=True):
            skip = int(round((zero - start) * SAMPLE_RATE))
            for buf in capture.buffers:
                buf.read(skip)
        self.started_at = zero
        dead = [False] * len(buffers)
        while not self._stop.is_set():
            time.sleep(_TICK_S)
            self._feed(buffers, dead, zero)
        self._feed(buffers, dead, zero)

    def _report_losses(self, capture: DeviceCapture) -> None:
        """Overflows, said at most every `_LOSS_EVERY_S` per device (summed meanwhile)."""
        flags, lost_s = capture.take_losses()
        key = capture.device.id
        pending = self._losses.get(key, (0, 0.0, -math.inf))
        flags, lost_s, last = pending[0] + flags, pending[1] + lost_s, pending[2]
        now = time.monotonic()
        if (flags or lost_s > 0) and now - last >= _LOSS_EVERY_S:
            lost = f", {lost_s * 1000:.0f} ms of audio lost" if lost_s > 0 else ""
            self._note(f"{capture.device.label} could not keep up ({flags} input "
                       f"overflow(s){lost}): the computer is very busy", key)
            flags, lost_s, last = 0, 0.0, now
        self._losses[key] = (flags, lost_s, last)

    def _reconnect(self, buffers: list, dead: list[bool]) -> None:
        """Look for lost devices again; put back the ones that opened."""
        for i, capture in enumerate(self.captures):
            lost = any(f.fatal for f in capture.faults)
            if lost and i not in self._reopeners and not self._stop.is_set():
                self._reopeners[i] = Reopener(capture,
                                               self._listed.get(capture.device.id, False))
            reopener = self._reopeners.get(i)
            if reopener is not None and reopener.restart_wanted:
                self._restart_portaudio(buffers, dead)
                return
            if reopener is None or reopener.result is None:
                continue
            fresh = reopener.result
            del self._reopeners[i]
            self._swap(i, fresh, buffers, dead)
            self._note(f"{fresh.device.label} is back: its side of the call goes on",
                       fresh.device.id)

    def _swap(self, i: int, fresh: DeviceCapture, buffers: list, dead: list[bool]) -> None:
        """Capture `i` goes on from `fresh` once it delivers, from then on (the gap is
        filled with silence, so the two sides stay in step)."""
        old = self.captures[i]
        old.stop()
        self.captures[i] = fresh
        self._waking.add(fresh)  # silence until its first block (a stream can take ~2 s)
        for old_buf, new_buf in zip(old.buffers, fresh.buffers, strict=True):
            j = buffers.index(old_buf)
            buffers[j] = new_buf
            dead[j] = True
        if self._drift is not None:  # a new stream, a new clock to follow
            self._drift = DriftCorrector(SAMPLE_RATE)

    def _restart_portaudio(self, buffers: list, dead: list[bool]) -> None:
        """A lost device is back where PortAudio's old device list can't open it: close
        every capture, read the list again, open them all. The other party's side pauses
        for that moment (filled with silence, so call time keeps to the clock)."""
        for i, reopener in self._reopeners.items():
            self._listed[self.captures[i].device.id] = reopener.listed
            reopener.cancel()
        self._reopeners.clear()
        ours = sum(c.holds_stream for c in self.captures)
        if open_streams() > ours:  # a replay or a level test holds the sound system
            self._listed.clear()  # so it is tried again once that audio is closed
            if not self._said_busy:
                self._said_busy = True
                self._note("a device is back but cannot be taken back while other audio "
                           "plays in callcoach (a replay, a level test): stop it",
                           "portaudio")
            return
        for capture in self.captures:
            capture.pump()
            capture.stop()
        restarted = restart_portaudio()
        try:
            devices = list_input_devices()
        except DeviceError:
            devices = []
        for i, old in enumerate(self.captures):
            try:
                fresh = DeviceCapture(find_device(old.device.id, devices), old.config,
                                      old.channels)
                fresh.start()
            except Exception as exc:  # noqa: BLE001 - it stays lost; looked for again
                if not any(f.fatal for f in old.faults):
                    old.faults.append(CaptureFault(old.device.id, f"{old.device.label} "
                                                   f"could not be opened again: {exc}",
                                                   True, time.monotonic()))
                for j, buf in enumerate(buffers):
                    dead[j] = dead[j] or buf in old.buffers
                continue
            was_lost = any(f.fatal for f in old.faults)
            self._swap(i, fresh, buffers, dead)
            if was_lost:
                self._note(f"{fresh.device.label} is back: its side of the call goes on",
                           fresh.device.id)
        if not restarted:
            self._note("the audio system could not be restarted to find the device "
                       "again (other audio was opened meanwhile)", "portaudio")

    def _feed(self, buffers, dead: list[bool], zero: float) -> None:
        self._check_faults()
        self._reconnect(buffers, dead)
        for capture in self.captures:
            capture.pump()
        for capture in self.captures:
            if any(f.fatal for f in capture.faults):
                for j, buf in enumerate(buffers):
                    if buf in capture.buffers:
                        dead[j] = True
            elif capture in self._waking and capture.first_block_time is not None:
                self._waking.discard(capture)  # delivering at last: on from now
                for j, buf in enumerate(buffers):
                    if buf in capture.buffers:
                        buf.read()
                        dead[j] = False
        if self._drift is not None and not any(dead):
            written = [b.written for b in buffers]  # counts first, then the clock
            self._drift.observe(time.monotonic(), written[0], written[1])
            pair = self._drift.read(buffers[0], buffers[1])
            if pair is None:
                return
            blocks = list(pair)
        else:
            live = [b.available() for b, d in zip(buffers, dead, strict=True) if not d]
            # No side delivering: silence as long as the clock says, so call time (and
            # prompt latency) stays with the clock through a lost device or a restart.
            n = min(live) if live else int((time.monotonic() - zero) * SAMPLE_RATE) - self._fed
            if n <= 0:
                return
            blocks = [np.zeros(n, np.float32) if d else b.read(n)[1]
                      for b, d in zip(buffers, dead, strict=True)]
        self._fed += len(blocks[0])
        self.engine.push(blocks[0], blocks[1] if len(blocks) > 1 else None, audio_zero=zero)
        if self._recorder is not None:
            self._record(blocks)

    def _open_recorder(self) -> None:
        if not self.engine.checks_speech:
            self._note("the call audio is not kept: without the speech model, card numbers "
                       "and other personal data in it could not be found and silenced")
            return
        recorder = RedactedRecorder(self._record_to,
                                    self.engine.playbook.redaction.audio_margin_s)
        try:
            recorder.open()
        except (OSError, RuntimeError) as exc:
            self._note(f"the call audio cannot be saved to {self._record_to}: {exc}")
            return
        self._recorder = recorder
        self.kept_audio = self._record_to

    def _record(self, blocks: list[np.ndarray]) -> None:
        recorder = self._recorder
        recorder.add(blocks[0], blocks[1] if len(blocks) > 1 else None)
        cleared = self.engine.audio_cleared_until()
        if not recorder.due(cleared):
            return
        try:
            recorder.write(cleared, self.engine.silence_spans())
        except (OSError, RuntimeError) as exc:  # a full disk must not end the call
            recorder.abandon()
            self._recorder = None
            self._note(f"saving the call audio stopped: {exc}")

    def _note(self, message: str, device_id: str = "recording") -> None:
        """A non-fatal word for the agent (a device back, the audio file not writable)."""
        fault = CaptureFault(device_id, message, False, time.monotonic())
        self.faults.append(fault)
        self.on_fault(fault)

    @property
    def drift(self) -> DriftReport | None:
        """The customer device's clock against the agent's, once measured (10 s into a
        call); None with one device (or one stereo device). Cheap and safe from any
        thread: the window reads it on every repaint while the worker runs."""
        corrector = self._drift  # one read: a device back replaces it
        return None if corrector is None else corrector.report()

    def stop(self) -> LiveResult:
        """End the call: stop the devices, analyse and transcribe what is left, score."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for reopener in self._reopeners.values():
            reopener.cancel()
        self._reopeners.clear()
        for capture in self.captures:
            capture.stop()
        result = self.engine.finish()  # every transcript in: the redactions are final
        if self._recorder is not None:
            try:
                self._recorder.close(result.silenced)
            except (OSError, RuntimeError) as exc:
                self._note(f"saving the end of the call audio failed: {exc}")
            self._recorder = None
        return result
