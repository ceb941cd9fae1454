"""The live coach through a real PulseAudio server: two null sinks ("agent" and
"softphone"), each party's track played into one with paplay, both monitors captured.

Event times are compared with the played file through the first agent turn (capture and
playback start a few hundred ms apart); latency is measured by the engine from the audio
moment the condition became true to the moment the prompt was emitted.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import soundfile as sf

from audio.analysis import analyze_recording
from audio.devices import find_device, list_input_devices
from audio.live import LiveConfig
from audio.live_session import LiveSession, SessionConfig
from audio.transcribe import Transcriber
from coaching.playbook import load_playbook
from tests.calls import ANGRY
from tests.callsynth import synth_call
from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

pytestmark = [pytest.mark.slow]


def _pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, check=True,
                          timeout=10).stdout.strip()


@pytest.fixture(scope="module")
def pulse():
    """A running PulseAudio server (started here as CI does) and two fresh null sinks."""
    ensure_pulse_server()
    tag = f"cc{os.getpid()}"
    sinks = {role: (f"{tag}_{role}", load_null_sink(f"{tag}_{role}"))
             for role in ("agent", "softphone")}
    yield {role: name for role, (name, _) in sinks.items()}, {r: m for r, (_, m) in
                                                              sinks.items()}
    for _, module in sinks.values():
        unload_module(module)


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pulse")
    synth = synth_call(ANGRY, folder / "angry.wav")
    audio, rate = sf.read(synth.path, dtype="float32")
    tracks = {}
    for role, ch in (("agent", 0), ("softphone", 1)):
        tracks[role] = folder / f"{role}.wav"
        sf.write(tracks[role], audio[:, ch], rate)
    return synth, tracks


def _devices(names):
    devices = list_input_devices()
    return {role: find_device(f"pulse:{name}.monitor", devices) for role, name in names.items()}


def _play(sink: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen(["paplay", f"--device={sink}", str(path)])


def test_live_call_through_pulseaudio(pulse, call) -> None:
    names, _ = pulse
    synth, tracks = call
    dev = _devices(names)
    seen = []
    session = LiveSession(dev["agent"], dev["softphone"], SessionConfig(), load_playbook(),
                          Transcriber(), on_event=seen.append)
    session.engine._transcriber.load()
    session.start()
    players = [_play(names[r], tracks[r]) for r in ("agent", "softphone")]
    for p in players:
        assert p.wait(timeout=120) == 0
    time.sleep(1.5)
    result = session.stop()
    assert session.faults == []
    # Two null sinks of one server run on one clock: the drift measured is near zero (a
    # minute of arrivals on a busy 2-core machine measures it to within ~100 ppm; the
    # estimator's accuracy is tested on simulated clocks in test_drift), and keeping the
    # customer to the agent's clock moved a handful of samples, not seconds.
    assert session.drift is not None and abs(session.drift.ppm) < 250, session.drift
    assert abs(session.drift.adjusted_samples) < 320, session.drift

    # Align the capture with the file through the first agent turn.
    first_turn = next(t for t in result.timeline.turns if t.speaker == "agent")
    shift = first_turn.start - synth.lines[0].start
    interruptions = [e for e in result.events if e.kind == "interruption"]
    assert len(interruptions) == 2
    for e, line in zip(interruptions, ("Have you tried", "I need to stop you"), strict=True):
        assert e.start - shift == pytest.approx(synth.line(line).start, abs=0.25)
    raised = [e for e in result.events if e.kind == "raised_voice"]
    assert len(raised) == 1
    shout = synth.line("You need to calm down")
    assert shout.start - 0.3 <= raised[0].start - shift <= shout.start + 2.0

    # Latency targets: acoustic prompts within 0.5 s, transcripts within 1.5 s of the
    # utterance end, phrase prompts within 2 s.
    for e in interruptions + raised:
        assert session.engine.latency_of(e) < 0.5, e
    # Transcripts: the target is 1.5 s from the utterance's end, met on a whole call by
    # bench/live_latency.py (p95 about 1 s). Here the suite may run beside other work on
    # 2 cores and the serial Whisper worker makes one party's utterance wait behind the
    # other's, so the bound is looser: a guard against regressions, not the measurement.
    lat = sorted(session.engine.transcript_latencies)
    assert lat and lat[len(lat) // 2] < 2.0 and lat[-1] < 3.0, lat
    phrase = [e for e in seen if e.kind in ("prompt_apologize", "forbidden_phrase")]
    assert {e.kind for e in phrase} == {"prompt_apologize", "forbidden_phrase"}
    for e in phrase:
        assert session.engine.latency_of(e) < 2.0

    # The live scorecard judges the call as `callcoach analyze` does on the same file.
    batch = analyze_recording(synth.path)
    # Live, Whisper hears each utterance as it was cut from the capture, so once in a
    # while a customer's words differ enough to change whether a check applies at all
    # (empathy applies when the customer complains): at most one check may apply on one
    # side only, and every check that applies on both is judged the same.
    live_checks = {c.id: c.passed for c in result.scorecard.checks if c.applicable}
    batch_checks = {c.id: c.passed for c in batch.scorecard.checks if c.applicable}
    both = live_checks.keys() & batch_checks.keys()
    assert {k: live_checks[k] for k in both} == {k: batch_checks[k] for k in both}
    assert len(live_checks.keys() ^ batch_checks.keys()) <= 1, (live_checks, batch_checks)
    assert len(both) >= 8, both


def test_device_lost_mid_call_is_reported_the_call_kept_and_the_device_taken_back(
        pulse, call) -> None:
    """A sink of its own is unloaded mid-call (the softphone closed), then loaded again
    (it restarted): the loss is reported, the agent's side goes on, and the customer's
    side is picked up again once the device is back."""
    names, _ = pulse
    synth, tracks = call
    # What the customer says once the softphone is back: their first line, at once.
    audio, rate = sf.read(tracks["softphone"], dtype="float32")
    first = synth.line("I have called").start
    again = tracks["softphone"].with_name("softphone_again.wav")
    sf.write(again, audio[int((first - 0.3) * rate):], rate)
    lost = f"{names['softphone']}_lost"
    module = load_null_sink(lost)
    players = []
    try:
        dev = _devices({"agent": names["agent"], "softphone": lost})
        faults = []
        session = LiveSession(dev["agent"], dev["softphone"],
                              SessionConfig(live=LiveConfig(transcribe=False)), load_playbook(),
                              on_fault=faults.append)
        session.start()
        players = [_play(names["agent"], tracks["agent"]), _play(lost, tracks["softphone"])]
        time.sleep(8)
        at_loss = session.engine.status().call_time_s
        subprocess.run(["pactl", "unload-module", module], check=True)
        module = None
        time.sleep(4)
        assert any(f.fatal for f in faults), "the lost device was not reported"
        module = load_null_sink(lost)  # the softphone is back
        deadline = time.monotonic() + 10
        while not any("is back" in f.message for f in faults):
            assert time.monotonic() < deadline, [f.message for f in faults]
            time.sleep(0.1)
        back_at = session.engine.status().call_time_s
        players.append(_play(lost, again))
        time.sleep(10)
        result = session.stop()
    finally:
        for p in players:
            p.kill()
        if module is not None:
            unload_module(module)
    # The call went on after the loss: the agent's side kept being analysed.
    # (A reloaded null sink delivers in bursts at first, so the end of the call may be
    # short of the wall time by a second or two; the loss itself lasted over 4 s.)
    assert result.timeline.duration_s > at_loss + 8.0, (at_loss, result.timeline.duration_s)
    assert result.timeline.customer_frames is not None
    assert any(t.speaker == "agent" for t in result.timeline.turns)
    # And the customer was heard again after the device came back.
    assert any(t.speaker == "customer" and t.start > back_at for t in result.timeline.turns)


def test_agent_only_live(pulse, call) -> None:
    names, _ = pulse
    _, tracks = call
    dev = _devices({"agent": names["agent"]})
    session = LiveSession(dev["agent"], None, SessionConfig(live=LiveConfig(transcribe=False)),
                          load_playbook())
    session.start()
    player = _play(names["agent"], tracks["agent"])
    time.sleep(8)
    assert session.drift is None  # one device, one clock: no drift to measure or show
    result = session.stop()
    player.kill()
    assert not result.timeline.has_customer
    assert "interruption" in result.skipped_kinds
    assert any(t.speaker == "agent" for t in result.timeline.turns)
