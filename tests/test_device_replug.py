"""A headset unplugged mid-call comes back where PortAudio's old device list can't open
it: the live session finds it in a fresh list, restarts PortAudio and goes on.

Runs tests/replug_driver.py in a child process (its own HOME, so its ~/.asoundrc can
define and remove the "headset", and its own PortAudio) against real PulseAudio servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def replug(tmp_path_factory) -> dict:
    ensure_pulse_server()
    home = tmp_path_factory.mktemp("replug_home")
    tone = home / "tone.wav"
    t = np.arange(60 * 16000) / 16000
    sf.write(tone, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    server = subprocess.run(["pactl", "info"], capture_output=True, text=True,
                            check=True).stdout
    address = next(line.split(":", 1)[1].strip() for line in server.splitlines()
                   if line.startswith("Server String:"))
    sink = f"replug{os.getpid()}"
    module = load_null_sink(sink)
    try:
        env = {**os.environ, "HOME": str(home), "PULSE_SERVER": address}
        run = subprocess.run([sys.executable, str(ROOT / "tests" / "replug_driver.py"),
                              str(home), str(tone), sink], capture_output=True, text=True,
                             timeout=120, env=env, cwd=ROOT)
    finally:
        unload_module(module)
    assert run.returncode == 0, _without_alsa_noise(run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1])


def _without_alsa_noise(stderr: str) -> str:
    """The driver's error, without PortAudio's and ALSA's lines about the dead server."""
    return "\n".join(line for line in stderr.splitlines()
                     if line.strip() and not line.startswith(("Expression ", "ALSA lib")))[-3000:]


def test_the_headset_is_taken_back_after_a_portaudio_restart(replug) -> None:
    assert replug["lost_noticed"], replug["faults"]
    assert replug["back"], replug["faults"]
    assert replug["portaudio_restarts"] == 1  # the old list could not open it
    # While a replay played it was said (once) why the headset could not be taken back.
    assert replug["busy_said"] and replug["restarts_while_busy"] == 0
    assert sum("other audio" in m for _, m, _ in replug["faults"]) == 1
    assert replug["back_at"] - replug["replugged_at"] < 20
    agent = replug["agent"]
    assert agent["before"] > -30 and agent["after"] > -30, agent  # the tone, both times
    assert agent["gone"] < -90, agent  # silence while unplugged, not a stale buffer


def test_the_customer_goes_on_and_the_call_keeps_to_the_clock(replug) -> None:
    customer = replug["customer"]
    assert customer["before"] > -30 and customer["gone"] > -30 and customer["after"] > -30
    # The restart closes the customer's stream too, for about a second at most.
    assert replug["customer_silent_s"] < 2.5, replug
    assert abs(replug["call_s"] - replug["wall_s"]) < 1.0, replug
    assert replug["streams_left_open"] == 0


def test_a_headset_plugged_in_after_start_is_listed_after_a_rescan(tmp_path) -> None:
    ensure_pulse_server()
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "replug_driver.py"),
                          "plug-in", str(tmp_path)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "HOME": str(tmp_path)}, cwd=ROOT)
    assert run.returncode == 0, _without_alsa_noise(run.stderr)
    out = json.loads(run.stdout.strip().splitlines()[-1])
    headset = "portaudio:cc_headset (ALSA)"
    assert headset not in out["before"] and headset not in out["old_list"]
    assert headset in out["rescanned"] and out["restarts"] == 1
    assert out["rescanned_again"] == out["rescanned"] and out["restarts_again"] == 1
