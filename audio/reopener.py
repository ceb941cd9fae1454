"""A lost capture device, looked for again on a thread of its own.

Opening a device can take a second, and the other party's cues must not wait for it, so
the live session hands each lost device to a `Reopener` and checks on it every tick.
"""

from __future__ import annotations

import threading

from audio.capture import DeviceCapture
from audio.devices import find_device, list_input_devices
from audio.portaudio_host import fresh_input_names

__all__ = ["Reopener", "RETRY_S"]

RETRY_S = 2.0  # how often a lost device is looked for


class Reopener:
    """Opens a lost device again, on its own thread: opening can take a second and the
    other party's cues must not wait for it. `result` is the new capture once it runs.

    A device PortAudio opened by its own list (not a pulse source) may come back where
    that old list can't open it (see `audio.portaudio_host`). Then `restart_wanted` is
    set, once each time the device reappears in a fresh process's list, and the session
    restarts PortAudio: at most one interruption per replug, never a loop of them.
    """

    def __init__(self, lost: DeviceCapture, listed: bool = False) -> None:
        """`listed`: the device was in a fresh list when last asked (a restart since)."""
        self.lost = lost
        self.result: DeviceCapture | None = None
        self.restart_wanted = False
        self.listed = listed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="callcoach-reopen",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(RETRY_S):
            try:
                device = find_device(self.lost.device.id, list_input_devices())
                fresh = DeviceCapture(device, self.lost.config, self.lost.channels)
                fresh.start()
            except Exception:  # noqa: BLE001 - not back yet, or half-gone: try again later
                if self._back_where_the_old_list_cannot_reach():
                    self.restart_wanted = True
                    return
                continue
            if self._stop.is_set():
                fresh.stop()
            else:
                self.result = fresh
            return

    def _back_where_the_old_list_cannot_reach(self) -> bool:
        """In a fresh list again (first seen there since it was lost, or since the last
        restart) and yet not opened from the old one."""
        name = self.lost.device.portaudio_name
        if self.lost.device.pulse_source or not name:
            return False  # pulse sources are looked up afresh every time already
        names = fresh_input_names()
        if names is None:
            return False
        listed = name in names
        appeared, self.listed = listed and not self.listed, listed
        return appeared

    def cancel(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.result is not None:
            self.result.stop()
            self.result = None
