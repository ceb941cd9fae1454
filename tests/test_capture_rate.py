"""A device that only captures at its own rate (44.1 kHz here) still feeds the engine
16 kHz: the callback stores what the device gives, the worker resamples it.

Through a real PulseAudio null sink: a 440 Hz tone is played into it and its monitor is
captured at 44.1 kHz; what comes out is 16 kHz, on time, at the tone's pitch and level.
"""

from __future__ import annotations

import os
import subprocess
import time

import numpy as np
import pytest
import soundfile as sf

from audio.capture import CaptureConfig, DeviceCapture
from audio.devices import find_device
from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

pytestmark = [pytest.mark.slow]


def test_capture_at_the_devices_rate_is_resampled_to_16k(tmp_path) -> None:
    ensure_pulse_server()
    sink = f"ccrate{os.getpid()}"
    module = load_null_sink(sink)
    tone = tmp_path / "tone.wav"
    t = np.arange(48000 * 6) / 48000
    sf.write(tone, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48000)
    capture = DeviceCapture(find_device(f"pulse:{sink}.monitor"),
                            CaptureConfig(device_rate=44100))
    player = None
    try:
        capture.start()
        assert capture.rate == 44100
        player = subprocess.Popen(["paplay", f"--device={sink}", str(tone)])
        got: list[np.ndarray] = []
        deadline = time.monotonic() + 10.0
        # A fresh null-sink monitor may deliver in bursts: wait for 1.5 s of audio.
        while sum(len(g) for g in got) < 24000:
            assert time.monotonic() < deadline, "no audio captured"
            time.sleep(0.05)
            capture.pump()
            got.append(capture.buffers[0].read()[1])
        raw_in, out = capture._raw[0].written, capture.buffers[0].written
    finally:
        if player is not None:
            player.kill()
        capture.stop()
        unload_module(module)
    audio = np.concatenate(got)
    # 16 kHz out for 44.1 kHz in (less the resampler's few ms of delay).
    assert out / raw_in == pytest.approx(16000 / 44100, rel=0.03), (out, raw_in)
    loud = audio[len(audio) // 2:]  # the tone is playing by then
    assert 20 * np.log10(np.sqrt(np.mean(loud ** 2)) + 1e-12) > -20
    spectrum = np.abs(np.fft.rfft(loud * np.hanning(len(loud))))
    peak_hz = np.argmax(spectrum) * 16000 / len(loud)
    assert peak_hz == pytest.approx(440, abs=5)
