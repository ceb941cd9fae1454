"""Device lists a person can read: labels that two inputs share are told apart.

PulseAudio names every null sink's monitor "Monitor of Null Output", and two headsets of
one model share a description; a list with two identical lines makes the agent guess.
Checked on a list as `list_input_devices` builds it on a Linux desktop, then on a real
PulseAudio server with two null sinks.
"""

from __future__ import annotations

import os

import pytest

from audio.devices import InputDevice, find_device, list_input_devices, unique_labels
from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module


def _pa(name: str, api: str = "ALSA", channels: int = 2) -> InputDevice:
    return InputDevice(id=f"portaudio:{name} ({api})", label=f"{name} ({api})",
                       channels=channels, sample_rate=44100.0, portaudio_name=name)


def _pulse(source: str, label: str, channels: int = 2) -> InputDevice:
    return InputDevice(id=f"pulse:{source}", label=label, channels=channels,
                       sample_rate=48000.0, is_monitor=source.endswith(".monitor"),
                       pulse_source=source, portaudio_name="pulse")


# A laptop with its own sound card, two headsets of one model, and two softphone sinks.
DESKTOP = [
    _pa("HDA Intel PCH: ALC257 Analog (hw:0,0)"),
    _pa("pulse"),
    _pa("default"),
    _pulse("alsa_output.pci-0000_00_1f.3.analog-stereo.monitor",
           "Monitor of Built-in Audio Analog Stereo"),
    _pulse("alsa_input.pci-0000_00_1f.3.analog-stereo", "Built-in Audio Analog Stereo"),
    _pulse("alsa_input.usb-Jabra_Link_380_08C8C2A4B3C1-00.mono-fallback",
           "Jabra Link 380 Mono", 1),
    _pulse("alsa_input.usb-Jabra_Link_380_08C8C2A4F0D7-00.mono-fallback",
           "Jabra Link 380 Mono", 1),
    _pulse("agent.monitor", "Monitor of Null Output"),
    _pulse("softphone.monitor", "Monitor of Null Output"),
]


def test_colliding_labels_get_their_source_name_and_nothing_else_changes() -> None:
    out = unique_labels(DESKTOP)
    assert [d.label for d in out] == [
        "HDA Intel PCH: ALC257 Analog (hw:0,0) (ALSA)",
        "pulse (ALSA)",
        "default (ALSA)",
        "Monitor of Built-in Audio Analog Stereo",
        "Built-in Audio Analog Stereo",
        "Jabra Link 380 Mono (alsa_input.usb-Jabra_Link_380_08C8C2A4B3C1-00.mono-fallback)",
        "Jabra Link 380 Mono (alsa_input.usb-Jabra_Link_380_08C8C2A4F0D7-00.mono-fallback)",
        "Monitor of Null Output (agent.monitor)",
        "Monitor of Null Output (softphone.monitor)",
    ]
    assert [d.id for d in out] == [d.id for d in DESKTOP]  # saved in settings: never moved
    # Only the label differs: everything capture needs is the same device.
    for before, after in zip(DESKTOP, out, strict=True):
        assert after == (before if after.label == before.label else
                         InputDevice(**{**before.__dict__, "label": after.label}))
    # A saved id still finds its own device.
    assert find_device("pulse:softphone.monitor", out).label.endswith("(softphone.monitor)")


def test_a_list_without_collisions_is_left_as_it_is() -> None:
    plain = [DESKTOP[0], DESKTOP[3], DESKTOP[4], DESKTOP[7]]
    assert unique_labels(plain) == plain
    assert unique_labels([]) == []


def test_a_label_shared_with_a_portaudio_device_is_told_apart_too() -> None:
    """A pulse source described like a PortAudio entry: the pulse one gets its source
    name, the PortAudio one its id (the only other thing known about it)."""
    out = unique_labels([_pa("USB Headset"), _pulse("usb_headset", "USB Headset (ALSA)")])
    assert [d.label for d in out] == ["USB Headset (ALSA) (portaudio:USB Headset (ALSA))",
                                      "USB Headset (ALSA) (usb_headset)"]


def test_entries_with_one_id_stay_alike() -> None:
    """Two PortAudio devices of one name have one id: nothing known tells them apart
    (PortAudio cannot open one rather than the other by name), so no label pretends to."""
    twins = [_pa("USB Audio Device"), _pa("USB Audio Device")]
    assert unique_labels(twins) == twins


@pytest.fixture
def two_null_sinks():
    ensure_pulse_server()
    names = [f"cclabel{os.getpid()}_{role}" for role in ("agent", "softphone")]
    modules = [load_null_sink(name) for name in names]
    yield names
    for module in modules:
        unload_module(module)


def test_two_null_sinks_are_told_apart_in_the_real_list(two_null_sinks) -> None:
    devices = list_input_devices()
    mine = [find_device(f"pulse:{name}.monitor", devices) for name in two_null_sinks]
    assert [d.label for d in mine] == [f"Monitor of Null Output ({name}.monitor)"
                                       for name in two_null_sinks]
    labels = [d.label for d in devices]
    assert len(set(labels)) == len(labels), labels
