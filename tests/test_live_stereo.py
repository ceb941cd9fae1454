"""`callcoach live --stereo-device`: one device whose two channels carry the two parties
(a call-center headset adapter), through a real PulseAudio server.

A two-channel null sink stands in for the adapter: the call is played into it as one
stereo file and its monitor is captured as the stereo device. The file has the agent on
the right, so the test also proves `--agent-side right` swaps the parties: the wrong way
round, the agent's two interruptions would come out as the customer's.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest
import soundfile as sf

from desktop.cli.commands import EXIT_USAGE, main
from desktop.history.store import CallHistory
from tests.calls import ANGRY
from tests.callsynth import synth_call
from tests.pulse_server import ensure_pulse_server, unload_module

pytestmark = [pytest.mark.slow]


@pytest.fixture
def adapter():
    """A two-channel null sink: the 'adapter' whose monitor is the stereo device."""
    ensure_pulse_server()
    name = f"cc{os.getpid()}_adapter"
    module = subprocess.run(["pactl", "load-module", "module-null-sink", f"sink_name={name}",
                             "channels=2", "channel_map=front-left,front-right"],
                            capture_output=True, text=True, check=True, timeout=10
                            ).stdout.strip()
    yield name
    unload_module(module)


def test_stereo_device_agent_on_the_right(adapter, tmp_path, capsys) -> None:
    synth = synth_call(ANGRY, tmp_path / "angry.wav")
    audio, rate = sf.read(synth.path, dtype="float32")
    swapped = tmp_path / "agent_right.wav"
    # Customer left, agent right; after 3 s of silence, so the capture (which opens only
    # once the command has found its devices) has started before anyone speaks.
    lead = 3.0
    sf.write(swapped, np.vstack([np.zeros((int(lead * rate), 2), np.float32),
                                 audio[:, ::-1]]), rate)
    out = tmp_path / "call.json"
    player = subprocess.Popen(["paplay", f"--device={adapter}", str(swapped)])
    try:
        code = main(["live", "--stereo-device", f"pulse:{adapter}.monitor",
                     "--agent-side", "right", "--duration", str(lead + synth.duration_s + 1.5),
                     "--json", str(out), "--no-transcribe"])
    finally:
        assert player.wait(timeout=30) == 0
    assert code == 0
    doc = json.loads(out.read_text())
    with CallHistory() as store:  # saved as it happened, finished with the scorecard
        latest = max(store.list_calls(source="live"), key=lambda c: c.id)
        saved = store.load(latest.id)
    assert saved["events"] == doc["events"] and saved["scorecard"] == doc["scorecard"]
    assert doc["channels"] == "stereo" and doc["faults"] == []
    assert doc["clock_drift"] is None  # one device, one clock: nothing to correct
    printed = capsys.readouterr()
    assert "(right); customer = the same device (left)" in printed.err

    # Align the capture with the file through the first agent turn (as test_live_pulse).
    turns = [t for t in doc["speech_turns"] if t["speaker"] == "agent"]
    shift = turns[0]["start"] - synth.lines[0].start  # the lead-in and the capture's start
    kinds = [e["kind"] for e in doc["events"]]
    assert kinds.count("customer_interruption") == 0, kinds
    interruptions = [e for e in doc["events"] if e["kind"] == "interruption"]
    assert len(interruptions) == 2, kinds
    for e, line in zip(interruptions, ("Have you tried", "I need to stop you"), strict=True):
        assert e["start"] - shift == pytest.approx(synth.line(line).start, abs=0.25)
        assert e["latency_s"] < 0.5
    raised = [e for e in doc["events"] if e["kind"] == "raised_voice"]
    assert len(raised) == 1
    shout = synth.line("You need to calm down")
    assert shout.start - 0.3 <= raised[0]["start"] - shift <= shout.start + 2.0
    assert "Listen" in printed.out  # the interruption prompt was printed as it fired


def test_stereo_device_excludes_the_two_device_options(capsys) -> None:
    code = main(["live", "--stereo-device", "x", "--agent-device", "y"])
    assert code == EXIT_USAGE
    assert "--stereo-device carries both parties" in capsys.readouterr().err
