"""Call playback through a real PulseAudio server: a null sink stands in for the trainer's
headset and its monitor is recorded, so what the player sends is what is checked.

The null sink only runs in real time once a low-latency client listens to its monitor
(before that it renders in 2 s blocks), so the recorder starts first and stays open for
the whole module. Waits are bounded polls; the file takes about 10 s.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from audio.playback import CallPlayer, PlaybackError, SilentClock, stereo_samples
from audio.portaudio_host import open_streams
from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

RATE = 16000


def _wait_for(cond: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def _tone(seconds: float, hz: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@contextmanager
def _env(**values: str) -> Iterator[None]:
    """PulseAudio streams bind to the sink/source named when they are opened."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _Recorder:
    """The sink's monitor, kept as (arrival time, block) pairs."""

    def __init__(self, sd, source: str) -> None:
        self.blocks: list[tuple[float, np.ndarray]] = []
        with _env(PULSE_SOURCE=source):
            self.stream = sd.InputStream(device="pulse", channels=2, samplerate=RATE,
                                         latency="low", callback=self._callback)
            self.stream.start()

    def _callback(self, data, frames, time_info, status) -> None:
        self.blocks.append((time.monotonic(), data.copy()))

    def since(self, t0: float, t1: float = float("inf")) -> np.ndarray:
        got = [b for t, b in list(self.blocks) if t0 <= t < t1]
        return np.concatenate(got) if got else np.zeros((0, 2), np.float32)


@pytest.fixture(scope="module")
def pulse_sink():
    """(sink name, recorder of its monitor) on a running PulseAudio server."""
    ensure_pulse_server()
    import sounddevice as sd

    sink = f"ccplay{os.getpid()}"
    module = load_null_sink(sink)
    recorder = _Recorder(sd, f"{sink}.monitor")
    try:
        assert _wait_for(lambda: len(recorder.since(0.0)) > RATE // 10, 8.0), "no capture"
        yield sink, recorder
    finally:
        recorder.stream.close()
        unload_module(module)


def _rms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(x), axis=0)) if len(x) else np.zeros(2)


@pytest.mark.slow
def test_a_tone_reaches_the_sink_agent_left(pulse_sink) -> None:
    sink, recorder = pulse_sink
    samples = stereo_samples(_tone(1.0), np.zeros(RATE, np.float32))
    done = threading.Event()
    with _env(PULSE_SINK=sink):
        player = CallPlayer(samples, RATE, device="pulse", on_finished=done.set)
        t0 = time.monotonic()
        player.play()
    try:
        assert done.wait(8.0), "playback never finished"
        assert not player.playing and player.position == pytest.approx(1.0)
        time.sleep(0.2)  # the monitor delivers the tail a little later
        heard = recorder.since(t0)
        left, right = _rms(heard)
        assert left > 0.05, (left, right)  # a 0.3 sine has RMS 0.21; silence around it
        assert right < 0.01 * left  # the customer's channel stayed silent
        spectrum = np.abs(np.fft.rfft(heard[:, 0]))
        assert np.argmax(spectrum) * RATE / len(heard) == pytest.approx(440.0, abs=5.0)
    finally:
        player.close()


@pytest.mark.slow
def test_position_follows_play_pause_and_seek(pulse_sink) -> None:
    sink, recorder = pulse_sink
    with _env(PULSE_SINK=sink):
        player = CallPlayer(_tone(4.0), RATE, device="pulse")  # mono: both ears
        player.play()
    try:
        assert player.playing and player.duration == pytest.approx(4.0)
        assert _wait_for(lambda: player.position > 0.2, 5.0), "position never moved"
        t0, p0 = time.monotonic(), player.position
        assert _wait_for(lambda: time.monotonic() - t0 > 0.5, 1.0)
        rate = (player.position - p0) / (time.monotonic() - t0)
        assert 0.7 < rate < 1.3, rate  # about real time

        left, right = _rms(recorder.since(time.monotonic() - 0.3))
        assert left > 0.05 and right > 0.05  # a mono call plays in both ears

        streams = open_streams()
        player.pause()
        paused_at, held = time.monotonic(), player.position
        assert not player.playing
        assert open_streams() == streams - 1  # paused, the output is released
        assert _wait_for(lambda: time.monotonic() - paused_at > 0.6, 1.0)
        assert player.position == held
        assert _rms(recorder.since(paused_at + 0.3)).max() < 0.01  # and it went quiet

        player.seek(3.0)
        assert player.position == pytest.approx(3.0)
        player.play()
        assert _wait_for(lambda: player.position > 3.1, 5.0)
        assert player.position < 4.0
    finally:
        player.close()


def test_no_portaudio_is_a_one_line_error(monkeypatch) -> None:
    import audio.playback as playback

    monkeypatch.setattr(playback, "portaudio_status", lambda: (
        False, "PortAudio is not installed (libportaudio.so: not found); live capture is off."))
    player = CallPlayer(_tone(0.5), RATE)
    with pytest.raises(PlaybackError) as info:
        player.play()
    assert "PortAudio is not installed" in str(info.value) and "\n" not in str(info.value)
    assert not player.playing and player.position == 0.0


def test_unknown_output_device_is_a_one_line_error() -> None:
    player = CallPlayer(_tone(0.5), RATE, device="no such headset 4711")
    with pytest.raises(PlaybackError) as info:
        player.play()
    assert "no such headset 4711" in str(info.value) and "\n" not in str(info.value)


def test_stereo_samples() -> None:
    agent, customer = _tone(0.1), _tone(0.2, hz=300)
    both = stereo_samples(agent, customer)
    assert both.shape == (len(agent), 2) and both.dtype == np.float32
    assert np.array_equal(both[:, 0], agent) and np.array_equal(both[:, 1], customer[:len(agent)])
    assert stereo_samples(agent).shape == (len(agent), 1)


def test_a_player_for_a_recording() -> None:
    from pathlib import Path

    from audio.recording import load_recording

    rec = load_recording(Path(__file__).resolve().parents[1] / "assets" / "demo_call.flac")
    player = CallPlayer.from_recording(rec)
    assert player.duration == pytest.approx(rec.duration_s, abs=1e-3)
    player.seek(12.5)
    assert player.position == pytest.approx(12.5) and not player.playing
    player.seek(1e9)
    assert player.position == pytest.approx(player.duration)
    player.close()


def test_silent_clock_moves_in_real_time() -> None:
    done = threading.Event()
    clock = SilentClock(0.6, on_finished=done.set)
    assert clock.position == 0.0 and not clock.playing
    clock.play()
    t0 = time.monotonic()
    assert _wait_for(lambda: time.monotonic() - t0 > 0.2, 1.0)
    assert clock.position == pytest.approx(time.monotonic() - t0, abs=0.05)
    clock.pause()
    held = clock.position
    assert _wait_for(lambda: time.monotonic() - t0 > 0.3, 1.0)
    assert clock.position == held and not clock.playing
    clock.seek(0.4)
    assert clock.position == 0.4
    clock.play()
    assert done.wait(2.0), "on_finished never came"
    assert clock.position == 0.6 and not clock.playing
    clock.play()  # at the end, play starts over
    assert clock.playing and clock.position < 0.1
    clock.close()
    assert not clock.playing


def test_silent_clock_seek_while_playing_rearms_the_end() -> None:
    now = [100.0]
    done = threading.Event()
    clock = SilentClock(10.0, on_finished=done.set, clock=lambda: now[0])
    clock.play()
    now[0] += 2.5
    assert clock.position == 2.5
    clock.seek(9.95)  # the end is now 50 ms away in real time
    assert clock.position == pytest.approx(9.95) and clock.playing
    assert done.wait(2.0)
    clock.close()
