"""Redaction on synthesized calls, through the real pipeline: `callcoach analyze` (JSON,
HTML) and the live engine; kept audio without a speech model. (A live call in the window,
with its audio kept and its scorecard exported: test_gui_redaction.py.)

Each test first shows that Whisper tiny.en really heard the digits (the same audio with
redaction turned off), so that "no digits in the output" cannot pass for want of them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from audio.analysis import AnalysisOptions, analyze_recording
from audio.devices import find_device, list_input_devices
from audio.live import LiveConfig, LiveEngine
from audio.live_session import LiveSession, SessionConfig
from audio.recording import load_recording
from coaching.playbook import load_playbook
from coaching.redaction_config import KINDS, SWITCHES
from tests.pii_calls import (
    HeardTranscriber,
    leaks,
    make_card_call,
    make_contact_call,
    make_identity_call,
)
from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

pytestmark = [pytest.mark.model, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
_SWITCHES = tuple(SWITCHES.values())  # every kind off: the control
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
            "identity": make_identity_call(folder / "identity.wav"),
            "contact": make_contact_call(folder / "contact.wav")}


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


def _answer_words(text: str) -> set[str]:
    """The words of an answer after its lead-in ("Yes, it is ..."), as Whisper wrote
    them, that are not common ones: the name or address it heard, however it heard it
    ("Maria Lopez" once came out "very low, Ben")."""
    from coaching.common_words import COMMON_WORDS

    words = [w.strip(".,!?-").lower() for w in text.split()]
    return {w for w in words if w and w not in COMMON_WORDS
            and w not in ("yes", "it", "is", "very")}


def test_callcoach_analyze_redacts_the_name_and_address_whisper_heard(
        calls, folder, off_playbook, transcriber) -> None:
    """The customer's name and home address, as Whisper heard them, appear nowhere in
    the transcript of the JSON or the HTML; the agent's own name stays, and using the
    customer's (redacted) name still counts on the scorecard."""
    call = calls["contact"]
    heard = analyze_recording(call.path, AnalysisOptions(playbook_path=off_playbook),
                              transcriber=transcriber)
    customer = [u.text for u in heard.timeline.utterances if u.speaker == "customer"]
    name, address = _answer_words(customer[0]), _answer_words(customer[1])
    assert name and "42" in address, customer  # the control: what there was to take out

    out_json, out_html = folder / "contact.json", folder / "contact.html"
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "analyze", str(call.path),
                           "--json", str(out_json), "--html", str(out_html)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out_json.read_text())
    said = " ".join(u["text"] for u in doc["transcript"]).lower()
    page = _html_text(out_html.read_text()).lower()
    for word in name | address:
        pattern = rf"(?<!\w){re.escape(word)}(?!\w)"
        assert not re.search(pattern, said), (word, said)
        # The page's figures have numbers of their own ("Agent words 42").
        assert word.isdigit() or not re.search(pattern, page), (word, page)
    assert {"name", "postal_address"} <= {r["kind"] for r in doc["redactions"]}
    agent = " ".join(u["text"] for u in doc["transcript"] if u["speaker"] == "agent")
    assert "Sam" in agent, "the agent's own name stays"
    used = next(c for c in doc["scorecard"]["checks"] if c["id"] == "used_name")
    assert used["applicable"], used


def _html_text(page: str) -> str:
    """What an HTML page says (its text, not its markup: SVG coordinates are numbers)."""
    parts: list[str] = []

    class Text(HTMLParser):
        hidden = 0  # inside <style> or <script>: not what the page says

        def handle_starttag(self, tag, attrs) -> None:
            self.hidden += tag in ("style", "script")

        def handle_endtag(self, tag) -> None:
            self.hidden -= tag in ("style", "script")

        def handle_data(self, data: str) -> None:
            if not self.hidden:
                parts.append(data)

    Text().feed(page)
    return " ".join(parts)


@pytest.mark.parametrize("name, secrets, kinds", [
    ("card", CARD_SECRETS, {"card_number", "expiry_date", "security_code"}),
    ("identity", ID_SECRETS, {"ssn", "date_of_birth"}),
])
def test_callcoach_analyze_redacts_what_whisper_heard(calls, folder, off_playbook, transcriber,
                                                      name, secrets, kinds) -> None:
    call = calls[name]
    heard = analyze_recording(call.path, AnalysisOptions(playbook_path=off_playbook),
                              transcriber=transcriber)
    said = _text(heard.timeline.utterances, "customer")
    assert set(leaks(said)) >= set(secrets), said  # the control: Whisper heard the digits
    assert heard.timeline.redactions == ()
    assert heard.notes and "OFF" in heard.notes[0]

    out_json, out_html = folder / f"{name}.json", folder / f"{name}.html"
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "analyze", str(call.path),
                           "--json", str(out_json), "--html", str(out_html)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert proc.returncode == 0, proc.stderr
    assert not leaks(proc.stdout + proc.stderr)
    doc = json.loads(out_json.read_text())
    for text in _strings(doc):
        assert not leaks(text), text
    page = out_html.read_text()
    assert not leaks(_html_text(page)), _html_text(page)
    assert "Personal data taken out of the transcript" in page
    found = {r["kind"] for r in doc["redactions"]}
    assert kinds <= found, doc["redactions"]
    assert set(doc["redactions"][0]) == {"kind", "speaker", "start", "end"}
    assert doc["redaction"] == {"on": list(KINDS), "off": []}
    # The markers sit where the digits were, with their times.
    markers = [w for u in doc["transcript"] for w in u["words"] if w["text"].startswith("[")]
    assert markers and all(w["end"] >= w["start"] > 0 for w in markers)
    # The rest of the call is coached as before: nothing else was taken out.
    assert "anything else" in " ".join(u["text"] for u in doc["transcript"]).lower()


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


# -- kept audio ----------------------------------------------------------------------
# (A live call in the window keeping its audio, through PulseAudio: test_gui_redaction.py)


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
