"""Audio the computer was too busy to take is said, not silently lost: the capture
counts PortAudio's overflow flags and what a full ring buffer dropped, and the session
turns them into a fault the agent sees (at most every 10 s per device)."""

from __future__ import annotations

import numpy as np

from audio.capture import CaptureConfig, DeviceCapture
from audio.devices import InputDevice
from audio.live import LiveConfig
from audio.live_session import LiveSession, SessionConfig
from coaching.playbook import load_playbook

MIC = InputDevice(id="portaudio:Test Mic (ALSA)", label="Test Mic", channels=1,
                  sample_rate=16000.0, portaudio_name="Test Mic")


def _block(n: int) -> np.ndarray:
    return np.zeros((n, 1), np.float32)


def test_capture_counts_overflows_and_dropped_audio() -> None:
    capture = DeviceCapture(MIC, CaptureConfig(buffer_s=0.1))  # 1,600 samples
    capture._callback(_block(320), 320, None, 0)
    assert capture.take_losses() == (0, 0.0)
    for _ in range(10):  # 3,200 samples into 1,600: the worker never read
        capture._callback(_block(320), 320, None, 1)  # and PortAudio flagged an overflow
    flags, lost_s = capture.take_losses()
    assert flags == 10
    assert lost_s == 1920 / 16000  # what did not fit
    assert capture.take_losses() == (0, 0.0)  # said once


def test_session_reports_losses_once_per_ten_seconds() -> None:
    faults = []
    session = LiveSession(MIC, None, SessionConfig(live=LiveConfig(transcribe=False)),
                          load_playbook(), on_fault=faults.append)
    capture = session.captures[0]
    capture._callback(_block(320), 320, None, 1)
    session._check_faults()
    assert len(faults) == 1 and not faults[0].fatal
    assert "could not keep up" in faults[0].message and "Test Mic" in faults[0].message
    capture._callback(_block(320), 320, None, 1)
    session._check_faults()
    assert len(faults) == 1, "repeated within 10 s"
