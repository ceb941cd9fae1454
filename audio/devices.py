"""Audio inputs a person can choose from, by a name that survives restarts.

PortAudio's own list misses what a call-center PC most needs on Linux: the monitor of the
softphone's output (`<sink>.monitor`), which PulseAudio and PipeWire expose as a source
but PortAudio's ALSA backend does not list. Those sources are offered here too and opened
through PortAudio's `pulse` device with `PULSE_SOURCE` naming the source.

Two entries can share a label (two null sinks are both "Monitor of Null Output", two
headsets of one model have one name): those labels are told apart by the source's name,
so a person can see which is which; ids never change, they are saved in settings.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, replace

from audio.portaudio_host import portaudio_lock, rescan_if_changed

__all__ = ["InputDevice", "DeviceError", "portaudio_status", "list_input_devices",
           "find_device", "pick_device", "pulse_sources", "list_output_devices",
           "unique_labels", "NO_CUSTOMER"]

NO_CUSTOMER = "none"  # the customer device chosen by an agent who is coached alone


class DeviceError(Exception):
    """A device cannot be found or opened; the message says which and what to do."""


@dataclass(frozen=True)
class InputDevice:
    """An input to capture from.

    Attributes:
        id: the stable name to save in settings ("pulse:softphone.monitor",
            "portaudio:USB Headset (ALSA)").
        label: what a person reads in a list.
        channels: input channels it offers (a stereo headset adapter may carry agent and
            customer on its two channels).
        sample_rate: its default sample rate.
        is_monitor: it captures what a playback device plays (the softphone's output).
        pulse_source: the PulseAudio source to open through the `pulse` device, if any.
        portaudio_name: the PortAudio device name to open, if not through pulse.
    """

    id: str
    label: str
    channels: int
    sample_rate: float
    is_monitor: bool = False
    pulse_source: str | None = None
    portaudio_name: str | None = None


def portaudio_status() -> tuple[bool, str]:
    """(usable, message): whether sounddevice can load the PortAudio library."""
    try:
        import sounddevice  # noqa: F401  (import fails without libportaudio)
    except OSError as exc:
        return False, (f"PortAudio is not installed ({exc}); live capture is off. On "
                       "Debian/Ubuntu: sudo apt-get install libportaudio2. Replay and "
                       "scorecards still work.")
    except ImportError as exc:
        return False, f"the sounddevice package is missing ({exc}); live capture is off."
    return True, "PortAudio available"


def pulse_sources() -> list[tuple[str, str, int, int]]:
    """PulseAudio/PipeWire sources as (name, description, channels, rate); [] if none.

    Read with `pactl`, which both PulseAudio and PipeWire (pipewire-pulse) provide.
    """
    if shutil.which("pactl") is None:
        return []
    try:
        out = subprocess.run(["pactl", "list", "sources"], capture_output=True, text=True,
                             timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    sources: list[tuple[str, str, int, int]] = []
    name = desc = ""
    channels, rate = 1, 48000
    for raw in out.splitlines() + ["Source #end"]:
        line = raw.strip()
        if line.startswith("Source #"):
            if name:
                sources.append((name, desc or name, channels, rate))
            name, desc, channels, rate = "", "", 1, 48000
        elif line.startswith("Name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Description:"):
            desc = line.split(":", 1)[1].strip()
        elif line.startswith("Sample Specification:"):
            for part in line.split(":", 1)[1].split():
                if part.endswith("ch"):
                    channels = int(part[:-2] or 1)
                elif part.endswith("Hz"):
                    rate = int(part[:-2] or 48000)
    return sources


def list_input_devices(rescan: bool = False) -> list[InputDevice]:
    """Every input a person could pick: PortAudio inputs, then pulse sources (monitors too).

    Args:
        rescan: first read PortAudio's own list again if inputs were plugged in or out
            since it started (what a person pressing "Refresh" means); PortAudio keeps its
            old list while any stream is open (see `audio.portaudio_host`).

    Raises:
        DeviceError: PortAudio is not available (the message says how to install it).
    """
    ok, message = portaudio_status()
    if not ok:
        raise DeviceError(message)
    import sounddevice as sd

    if rescan:
        rescan_if_changed()
    devices: list[InputDevice] = []
    has_pulse = False
    try:
        with portaudio_lock():
            apis, listed = sd.query_hostapis(), sd.query_devices()
        for dev in listed:
            if dev["max_input_channels"] <= 0:
                continue
            api = apis[dev["hostapi"]]["name"]
            if dev["name"] in ("pulse", "pipewire"):
                has_pulse = True
            devices.append(InputDevice(
                id=f"portaudio:{dev['name']} ({api})", label=f"{dev['name']} ({api})",
                channels=int(dev["max_input_channels"]),
                sample_rate=float(dev["default_samplerate"]),
                is_monitor="monitor" in dev["name"].lower() or "loopback" in dev["name"].lower()
                or "stereo mix" in dev["name"].lower(),
                portaudio_name=dev["name"]))
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list audio devices: {exc}") from None
    if has_pulse:
        for name, desc, channels, rate in pulse_sources():
            monitor = name.endswith(".monitor")
            plays = monitor and "monitor" not in desc.lower()
            label = f"{desc} (what it plays)" if plays else desc
            devices.append(InputDevice(id=f"pulse:{name}", label=label, channels=channels,
                                       sample_rate=float(rate), is_monitor=monitor,
                                       pulse_source=name, portaudio_name="pulse"))
    return unique_labels(devices)


def unique_labels(devices: list[InputDevice]) -> list[InputDevice]:
    """The same devices, with every label that two or more share followed by what tells
    them apart: the source's name ("Monitor of Null Output (agent.monitor)"). Labels no
    other device has, ids and order stay as they are.

    Entries with one and the same id (two PortAudio devices of one name) are left alike:
    no name is known that would tell them apart, nor open one rather than the other.
    """
    def tag(device: InputDevice) -> str:
        return device.pulse_source or device.id

    shared = Counter(d.label for d in devices)
    tags = Counter((d.label, tag(d)) for d in devices)
    return [replace(d, label=f"{d.label} ({tag(d)})")
            if shared[d.label] > 1 and tags[(d.label, tag(d))] == 1 else d
            for d in devices]


def find_device(device_id: str, devices: list[InputDevice] | None = None) -> InputDevice:
    """The device with this stable id, or one whose label/name contains it (case-blind).

    Raises:
        DeviceError: none matches (the message lists what there is).
    """
    devices = list_input_devices() if devices is None else devices
    for dev in devices:
        if dev.id == device_id:
            return dev
    if device_id.startswith("pulse:"):
        source = device_id.split(":", 1)[1]
        for dev in devices:
            if dev.pulse_source == source:
                return dev
    wanted = device_id.lower()
    matches = [d for d in devices if wanted in d.id.lower() or wanted in d.label.lower()]
    if len(matches) >= 1:
        return matches[0]
    names = "; ".join(d.id for d in devices) or "none"
    raise DeviceError(f"no input device matches {device_id!r} (available: {names})")


def pick_device(name: str | None, devices: list[InputDevice], want_monitor: bool
                ) -> InputDevice | None:
    """The device a person named, or the first sensible one: a microphone for the agent
    (not the catch-all `pulse` device), a monitor/loopback input for the customer.

    Raises:
        DeviceError: a name was given and nothing matches it.
    """
    if name:
        return find_device(name, devices)
    for d in devices:
        if d.is_monitor == want_monitor and (want_monitor or d.portaudio_name != "pulse"):
            return d
    return None


def list_output_devices() -> list[str]:
    """PortAudio output device names a replay can play on (empty without PortAudio)."""
    ok, _ = portaudio_status()
    if not ok:
        return []
    import sounddevice as sd

    try:
        with portaudio_lock():
            listed = sd.query_devices()
        return [d["name"] for d in listed if d["max_output_channels"] > 0]
    except sd.PortAudioError:
        return []
