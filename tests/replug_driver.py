"""A headset unplugged mid-call and plugged back in where PortAudio's old list can't
reach it; run in a child process by tests/test_device_replug.py.

The "headset" is an ALSA device defined in this process's ~/.asoundrc (HOME is a temp
folder): a `pulse` PCM on a private PulseAudio server playing a tone. Unplugging kills
that server and removes the device from ~/.asoundrc; plugging back starts another
server, where the old definition cannot reach, and defines the device again. Only a
PortAudio that reads its list afresh can open it: the live session must notice the
device in a fresh process's list, restart PortAudio and go on with both parties. The
customer is a null sink on the tests' main server (PULSE_SERVER) with its own tone.

Prints one JSON line: the faults, when they came, and the loudness of both sides before,
during and after. `replug_driver.py plug-in HOME` instead plugs the headset in after
start and lists the devices without and with a rescan.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.pulse_server import start_private_server  # noqa: E402

HEADSET = "cc_headset"


def define_headset(home: Path, folder: str | None) -> None:
    """The headset in ~/.asoundrc, on the server at `folder` (None: unplugged)."""
    text = "" if folder is None else (
        f'pcm.{HEADSET} {{\n  type pulse\n  server "unix:{folder}/native"\n'
        f'  device "usb.monitor"\n  hint {{ show on description "Test headset" }}\n}}\n')
    (home / ".asoundrc").write_text(text)


def play(tone: str, server: str | None, sink: str) -> subprocess.Popen:
    where = [f"--server={server}"] if server else []
    return subprocess.Popen(["paplay", *where, f"--device={sink}", tone])


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def level(frames, start: float, end: float) -> float | None:
    """Median loudness (dBFS) of the frames in [start, end)."""
    values = [f.dbfs for f in frames if start <= f.t < end]
    return float(np.median(values)) if values else None


def plugged_in_after_start(home: Path) -> None:
    """A headset plugged in after PortAudio started: only a rescan lists it, and a
    rescan with nothing changed restarts nothing."""
    define_headset(home, None)
    from audio.devices import list_input_devices
    from audio.portaudio_host import restarts

    def ids(**kw) -> list[str]:
        return [d.id for d in list_input_devices(**kw)]

    out = {"before": ids()}
    server = start_private_server(str(home / "server1"), "usb")
    try:
        define_headset(home, str(home / "server1"))
        out["old_list"] = ids()
        out["rescanned"] = ids(rescan=True)
        out["restarts"] = restarts()
        out["rescanned_again"] = ids(rescan=True)
        out["restarts_again"] = restarts()
    finally:
        server.kill()
    print(json.dumps(out))


def main() -> None:
    if sys.argv[1] == "plug-in":
        plugged_in_after_start(Path(sys.argv[2]))
        return
    home, tone, customer_sink = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    first, second = str(home / "server1"), str(home / "server2")
    servers = [start_private_server(first, "usb")]
    players = [play(tone, f"unix:{first}/native", "usb"), play(tone, None, customer_sink)]
    define_headset(home, first)
    from audio.devices import find_device, list_input_devices
    from audio.live_session import LiveSession, SessionConfig
    from audio.playback import CallPlayer
    from audio.portaudio_host import open_streams, restarts
    from coaching.playbook import load_playbook

    devices = list_input_devices()
    agent = find_device(f"portaudio:{HEADSET}", devices)
    customer = find_device(f"pulse:{customer_sink}.monitor", devices)
    faults: list[tuple[float, str, bool]] = []
    session = LiveSession(agent, customer, SessionConfig(), load_playbook(),
                          on_fault=lambda f: faults.append((time.monotonic(), f.message,
                                                            f.fatal)))
    session.start()
    out: dict = {}
    try:
        wait_for(lambda: session.started_at is not None, 10)
        zero = session.started_at
        time.sleep(5)  # ALSA's pulse plugin takes a moment to deliver
        out["unplugged_at"] = time.monotonic() - zero
        servers[0].kill()
        servers[0].wait()
        define_headset(home, None)
        out["lost_noticed"] = wait_for(lambda: any(f[2] for f in faults), 10)
        time.sleep(3)  # the reopener asks a fresh list: the headset is gone from it
        servers.append(start_private_server(second, "usb"))
        players.append(play(tone, f"unix:{second}/native", "usb"))
        define_headset(home, second)
        out["replugged_at"] = time.monotonic() - zero
        # A replay playing meanwhile holds the sound system: no restart until it stops.
        replay = CallPlayer(np.zeros(16000 * 30, np.float32), 16000, device="pulse")
        replay.play()
        out["busy_said"] = wait_for(lambda: any("other audio" in f[1] for f in faults), 15)
        out["restarts_while_busy"] = restarts()
        replay.close()
        out["back"] = wait_for(lambda: any("is back" in f[1] for f in faults), 25)
        back = next((f[0] - zero for f in faults if "is back" in f[1]), None)
        out["back_at"] = back
        time.sleep(6)
        out["wall_s"] = time.monotonic() - zero
    finally:
        result = session.stop()
        for p in players:
            p.kill()
        for s in servers:
            s.kill()
    tl = result.timeline
    out["call_s"] = tl.duration_s
    out["portaudio_restarts"] = restarts()
    out["streams_left_open"] = open_streams()
    out["faults"] = [(round(t - zero, 2), m, fatal) for t, m, fatal in faults]
    u, r = out["unplugged_at"], out["replugged_at"]
    end = tl.duration_s
    for side, frames in (("agent", tl.agent_frames), ("customer", tl.customer_frames)):
        out[side] = {"before": level(frames, 3.0, u - 0.3),
                     "gone": level(frames, u + 1.0, r),
                     "after": level(frames, (back or end) + 3.0, end)}
    out["customer_silent_s"] = round(sum(f.dbfs < -60 for f in tl.customer_frames
                                         if f.t >= 3.0) * tl.hop_s, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
