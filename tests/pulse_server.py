"""A real PulseAudio server for the tests that play and capture through null sinks.

CI starts with no sound server; the first test that needs one starts it here, as a user
session would (`pulseaudio --start --exit-idle-time=-1`). PortAudio only lists its
`pulse` device if the server ran when PortAudio was initialised, so if sounddevice was
initialised earlier in the test session without a server, it is initialised again.
"""

from __future__ import annotations

import shutil
import subprocess
import time

__all__ = ["ensure_pulse_server", "load_null_sink", "unload_module", "start_private_server"]


def _server_up() -> bool:
    return subprocess.run(["pactl", "info"], capture_output=True, timeout=10).returncode == 0


def ensure_pulse_server() -> None:
    """Start the server if none runs; make PortAudio see it."""
    assert shutil.which("pulseaudio") and shutil.which("pactl") and shutil.which("paplay"), \
        "pulseaudio and pulseaudio-utils are test dependencies (scripts/setup --test)"
    if not _server_up():
        subprocess.run(["pulseaudio", "--start", "--exit-idle-time=-1"], check=True,
                       capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while not _server_up():  # a server process starting, not Qt: polling is right here
            assert time.monotonic() < deadline, "PulseAudio did not start"
            time.sleep(0.1)
    import sounddevice as sd

    if "pulse" not in [d["name"] for d in sd.query_devices()]:
        sd._terminate()
        sd._initialize()


def load_null_sink(name: str) -> str:
    """A null sink called `name`; returns its module id (for `unload_module`)."""
    return subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}"],
                          capture_output=True, text=True, check=True, timeout=10).stdout.strip()


def unload_module(module: str) -> None:
    subprocess.run(["pactl", "unload-module", module], capture_output=True, timeout=10)


def start_private_server(folder: str, sink: str) -> subprocess.Popen:
    """A second PulseAudio server of its own (socket `folder`/native) with one null sink:
    a sound device that can vanish (kill it) without touching the tests' main server."""
    import os

    os.makedirs(folder, exist_ok=True)
    env = {**os.environ, "PULSE_RUNTIME_PATH": folder, "PULSE_STATE_PATH": folder}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "--disable-shm=yes",
         "-L", f"module-native-protocol-unix socket={folder}/native auth-anonymous=1",
         "-L", f"module-null-sink sink_name={sink}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", f"--server=unix:{folder}/native", "info"],
                         capture_output=True, timeout=10).returncode != 0:
        assert server.poll() is None and time.monotonic() < deadline, \
            "a private PulseAudio server did not start"
        time.sleep(0.1)
    return server
