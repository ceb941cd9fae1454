"""Redaction on synthesized calls, through the real pipeline: the recorded-call analysis,
the live engine, and a live call through PulseAudio with the call's audio kept.

Each test first shows that Whisper tiny.en really heard the digits (the same audio with
redaction turned off), so that "no digits in the output" cannot pass for want of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.analysis import AnalysisOptions, analyze_recording
from audio.contract import analysis_to_dict
from audio.devices import find_device, list_input_devices
from audio.live import LiveConfig, LiveEngine
from audio.live_session import LiveSession, SessionConfig
from audio.recording import load_recording
from audio.transcribe import Transcriber
from coaching.playbook import load_playbook
from coaching.redaction_config import KINDS
from tests.pii_calls import SECRETS, leaks, make_card_call, make_identity_call
from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

pytestmark = [pytest.mark.model, pytest.mark.slow]
_SWITCHES = ("card_numbers", "security_codes", "expiry_dates", "social_security_numbers",
             "dates_of_birth", "bank_account_numbers", "routing_numbers", "email_addresses",
             "phone_numbers")
CARD_SECRETS = ("card number", "card group", "security code", "expiry")
ID_SECRETS = ("ssn", "date of birth")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("redaction")


@pytest.fixture(scope="module")
def off_playbook(folder) -> str:
    """Every kind turned off: what Whisper wrote, for the controls."""
    path = folder / "no_redaction.toml"
    path.write_text("[redaction]\n" + "".join(f"{k} = false\n" for k in _SWITCHES))
    return str(path)


@pytest.fixture(scope="module")
def calls(folder):
    return {"card": make_card_call(folder / "card.wav"),
            "identity": make_identity_call(folder / "identity.wav")}


class HeardTranscriber(Transcriber):
    """The bundled Whisper, keeping what it heard live before the engine redacted it:
    the control that the digits were there to be redacted."""

    def __init__(self) -> None:
        super().__init__()
        self.heard: list = []

    def transcribe_utterance(self, audio, speaker, offset_s):
        u = super().transcribe_utterance(audio, speaker, offset_s)
        if u is not None:
            self.heard.append(u)
        return u


@pytest.fixture(scope="module")
def transcriber() -> HeardTranscriber:
    t = HeardTranscriber()
    t.load()
    return t


def _text(utterances, speaker: str | None = None) -> str:
    return " ".join(u.text for u in utterances if speaker in (None, u.speaker))


def _strings(value, skip=("recording", "playbook")):
    """Every string in a JSON document (paths left out: a temp folder's digits)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in skip:
                yield from _strings(v, skip)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, skip)


@pytest.mark.parametrize("name, secrets, kinds", [
    ("card", CARD_SECRETS, {"card_number", "expiry_date", "security_code"}),
    ("identity", ID_SECRETS, {"ssn", "date_of_birth"}),
])
def test_the_analysis_redacts_what_whisper_heard(calls, off_playbook, transcriber, name,
                                                 secrets, kinds) -> None:
    call = calls[name]
    heard = analyze_recording(call.path, AnalysisOptions(playbook_path=off_playbook),
                              transcriber=transcriber)
    said = _text(heard.timeline.utterances, "customer")
    assert set(leaks(said)) >= set(secrets), said  # the control: Whisper heard the digits
    assert heard.timeline.redactions == ()
    assert heard.notes and "OFF" in heard.notes[0]

    analysis = analyze_recording(call.path, transcriber=transcriber)
    doc = analysis_to_dict(analysis)
    for text in _strings(doc):
        assert not leaks(text), text
    assert not leaks(json.dumps(doc))
    found = {r["kind"] for r in doc["redactions"]}
    assert kinds <= found, doc["redactions"]
    assert set(doc["redactions"][0]) == {"kind", "speaker", "start", "end"}
    assert doc["redaction"] == {"on": list(KINDS), "off": []}
    # The markers sit where the digits were, with their times.
    markers = [w for u in doc["transcript"] for w in u["words"] if w["text"].startswith("[")]
    assert markers and all(w["end"] >= w["start"] > 0 for w in markers)
    # The rest of the call is coached as before: nothing else was taken out.
    assert analysis.scorecard.check("offered_more_help").passed
    assert "anything else" in _text(analysis.timeline.utterances).lower()


BLOCK = 320


def _live(rec, playbook, transcriber):
    """The live engine fed the call block by block; after every block, what the window
    would show (the engine's utterances) is looked at for digits."""
    engine = LiveEngine(LiveConfig(), playbook, transcriber)
    shown: list[str] = []
    for i in range(0, len(rec.agent), BLOCK):
        engine.push(rec.agent[i:i + BLOCK], rec.customer[i:i + BLOCK])
        shown += [u.text for u in engine.utterances[len(shown):]]
        if i % (BLOCK * 50) == 0:
            time.sleep(0.005)  # let the transcription worker deliver as the call goes
    result = engine.finish()
    shown += [u.text for u in engine.utterances[len(shown):]]
    return engine, result, shown


def test_the_live_transcript_never_shows_the_digits(calls, transcriber) -> None:
    rec = load_recording(calls["card"].path)
    transcriber.heard.clear()
    engine, result, shown = _live(rec, load_playbook(), transcriber)
    said = _text(transcriber.heard, "customer")
    assert set(leaks(said)) >= {"card group", "expiry"}, said  # Whisper heard them
    for text in shown:
        assert not leaks(text), text
    assert {r.kind for r in result.timeline.redactions} >= {"card_number", "expiry_date"}
    for e in result.events:
        assert not leaks(e.evidence + " " + e.reason), e
    # Kept audio would be silent over every redacted word.
    for r in result.timeline.redactions:
        assert any(s.start <= r.start and s.end >= r.start for s in result.silenced), r


# -- a live call through PulseAudio, its audio kept --------------------------------------

def _play(sink: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen(["paplay", f"--device={sink}", str(path)])


def test_kept_live_audio_has_the_digits_silenced(calls, folder, off_playbook,
                                                 transcriber) -> None:
    """A real live session, devices and all, keeping the call's audio: transcribing the
    kept file again (redaction off) finds none of the digits, and the stretches where
    the customer read them are silent in both channels."""
    call = calls["card"]
    ensure_pulse_server()
    tag = f"red{os.getpid()}"
    names = {role: f"{tag}_{role}" for role in ("agent", "softphone")}
    modules = [load_null_sink(n) for n in names.values()]
    audio, rate = sf.read(call.path, dtype="float32")
    tracks = {}
    for role, ch in (("agent", 0), ("softphone", 1)):
        tracks[role] = folder / f"{role}.wav"
        sf.write(tracks[role], audio[:, ch], rate)
    kept = folder / "kept.wav"
    players = []
    try:
        devices = list_input_devices()
        dev = {r: find_device(f"pulse:{n}.monitor", devices) for r, n in names.items()}
        transcriber.heard.clear()
        session = LiveSession(dev["agent"], dev["softphone"],
                              SessionConfig(record_to=str(kept)), load_playbook(),
                              transcriber)
        session.start()
        players = [_play(names[r], tracks[r]) for r in ("agent", "softphone")]
        sizes = []
        while any(p.poll() is None for p in players):
            time.sleep(0.5)
            sizes.append(kept.stat().st_size if kept.exists() else 0)
        time.sleep(1.5)
        result = session.stop()
    finally:
        for p in players:
            p.kill()
        for m in modules:
            unload_module(m)
    assert [f.message for f in session.faults if f.fatal] == []
    heard = _text(transcriber.heard, "customer")
    assert set(leaks(heard)) >= {"card group"}, heard  # Whisper heard the digits live
    assert sizes[-1] > sizes[0], "the kept audio was written as the call went"
    assert {r.kind for r in result.timeline.redactions} >= {"card_number"}
    assert not leaks(_text(result.timeline.utterances))

    again = analyze_recording(kept, AnalysisOptions(playbook_path=off_playbook),
                              transcriber=transcriber)
    text = _text(again.timeline.utterances)
    assert not leaks(text, tuple(SECRETS)), text
    assert "payment" in text.lower()  # the rest of the call is there to be heard
    # Where the customer read the card number, both channels are silent.
    samples, kept_rate = sf.read(kept, dtype="float32")
    first_turn = next(t for t in result.timeline.turns if t.speaker == "agent")
    shift = first_turn.start - call.lines[0].start  # capture vs file, via the first turn
    for line in call.of("customer")[1:5]:
        a, b = (int((t + shift) * kept_rate) for t in (line.start + 0.1, line.end - 0.1))
        assert np.abs(samples[a:b]).max() == 0.0, line


def test_without_a_speech_model_call_audio_is_not_kept(folder) -> None:
    """Audio that cannot be checked for card numbers is not kept, and the agent is told."""
    ensure_pulse_server()
    name = f"nomodel{os.getpid()}"
    module = load_null_sink(name)
    kept = folder / "unchecked.wav"
    try:
        device = find_device(f"pulse:{name}.monitor", list_input_devices())
        faults = []
        session = LiveSession(device, None, SessionConfig(live=LiveConfig(transcribe=False),
                                                          record_to=str(kept)),
                              load_playbook(), on_fault=faults.append)
        session.start()
        time.sleep(1.0)
        session.stop()
    finally:
        unload_module(module)
    assert not kept.exists()
    assert any("not kept" in f.message and "card numbers" in f.message for f in faults), \
        [f.message for f in faults]
