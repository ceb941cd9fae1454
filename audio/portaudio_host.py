"""PortAudio's device list, read again when a device comes back where the old list can't
reach it.

PortAudio lists devices once, when it starts. A USB headset unplugged and plugged back
in can come back as a new device (another ALSA card number, a new Windows endpoint) that
the old list cannot open. Restarting PortAudio reads the list again, but it also closes
every open stream under its owner's feet, so streams are counted here as they open and
close, and PortAudio is restarted only when none is open. Whether a lost device is back
at all is asked of a short-lived child process, whose PortAudio starts fresh: that
costs ~0.1 s and disturbs nothing, where a restart interrupts the other party's capture.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["portaudio_lock", "open_stream", "stream_closed", "open_streams", "restart_portaudio",
           "restarts", "rescan_if_changed", "fresh_input_names"]

_lock = threading.RLock()  # one PortAudio call at a time; held across a restart
_open = 0
_restarts = 0

_LIST_INPUTS = ("import json, sounddevice as sd; print(json.dumps([d['name'] for d in "
                "sd.query_devices() if d['max_input_channels'] > 0]))")


def open_stream(make: Callable[[], Any]) -> Any:
    """Open a stream with `make()` and count it (until `stream_closed`)."""
    global _open
    with _lock:
        stream = make()
        _open += 1
        return stream


def stream_closed() -> None:
    """A stream counted by `open_stream` is closed (or gone with its device)."""
    global _open
    with _lock:
        _open = max(0, _open - 1)


def portaudio_lock() -> threading.RLock:
    """Hold it around every PortAudio call made outside a stream's callback (open, start,
    stop, close, queries): PortAudio's host APIs are not safe to call from two threads
    at once (a level test closing while a replay opens), and a restart must not free a
    device list being read."""
    return _lock


def open_streams() -> int:
    return _open


def restarts() -> int:
    """How often PortAudio was restarted in this process (shown in diagnostics, tests)."""
    return _restarts


def restart_portaudio() -> bool:
    """Read PortAudio's device list again; False (nothing done) while a stream is open."""
    global _restarts
    import sounddevice as sd

    with _lock:
        if _open:
            return False
        sd._terminate()  # sounddevice's own (private) pair: there is no public one
        sd._initialize()
        _restarts += 1
        return True


def rescan_if_changed() -> bool:
    """Restart PortAudio if a process starting now would list other inputs than ours (a
    headset plugged in or out since we started). False if nothing changed, the fresh
    list can't be had, or a stream is open (the old list then stays)."""
    import sounddevice as sd

    fresh = fresh_input_names()
    if fresh is None:
        return False
    with _lock:
        try:
            ours = [d["name"] for d in sd.query_devices() if d["max_input_channels"] > 0]
        except sd.PortAudioError:
            ours = []
        return sorted(fresh) != sorted(ours) and restart_portaudio()


def fresh_input_names(timeout_s: float = 10.0) -> list[str] | None:
    """PortAudio's input device names as a process starting now sees them; None if that
    can't be asked (no PortAudio, a child that fails)."""
    try:
        out = subprocess.run([sys.executable, "-c", _LIST_INPUTS], capture_output=True,
                             text=True, timeout=timeout_s, check=True).stdout
        names = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None
