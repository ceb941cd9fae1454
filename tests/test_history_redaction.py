"""The call history and personal data: a history an older callcoach wrote is redacted
when opened (the file rewritten, the old pages gone), a deleted call leaves no bytes
behind in the database or its write-ahead log, and the CSV says what was redacted."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

from desktop.history.legacy_redaction import LEGACY_NOTE
from desktop.history.schema import SCHEMA_V1
from desktop.history.store import CallHistory
from tests.pii_calls import leaks


def _files(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def _legacy_document() -> dict:
    words = [("My", 10.0), ("card", 10.3), ("is", 10.6), ("4539", 10.9), ("1488", 11.4),
             ("0343", 11.9), ("6467.", 12.4)]
    return {
        "schema": 1, "recording": "call.wav", "duration_s": 60.0, "agent_channel": "left",
        "channels": "stereo", "model": "tiny.en", "notes": [],
        "transcript": [
            {"speaker": "customer", "start": 10.0, "end": 12.8,
             "text": "My card is 4539 1488 0343 6467.",
             "words": [{"start": t, "end": t + 0.28, "text": w, "probability": 0.9}
                       for w, t in words]},
            {"speaker": "agent", "start": 14.0, "end": 16.0,
             "text": "And the security code?"},
            {"speaker": "customer", "start": 17.0, "end": 18.0, "text": "It is 739."},
        ],
        "events": [{"kind": "prompt_apologize", "speaker": "agent", "start": 12.0,
                    "end": 13.0, "prompt": "Apologize",
                    "reason": "the customer said \u201cMy card is 4539 1488 0343 6467\u201d",
                    "evidence": "My card is 4539 1488 0343 6467."}],
        "scorecard": {"score": 70, "checks": [
            {"id": "apologized", "passed": False, "evidence": [
                {"t": 17.0, "text": "It is 739."}]}], "metrics": {}, "notes": []},
    }


def _old_history(path: Path) -> None:
    """A schema-1 file as an older callcoach left it, with a call and a live call's
    items holding a card number as Whisper wrote it."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_V1)
    db.execute("ALTER TABLE calls DROP COLUMN redaction_off")
    db.execute("ALTER TABLE calls DROP COLUMN redactions")
    db.execute("INSERT INTO schema_version VALUES (1)")
    doc = _legacy_document()
    db.execute("INSERT INTO calls (started_at, source, document, search_text) VALUES "
               "('2024-05-01T10:00:00+00:00', 'live', ?, ?)",
               (json.dumps(doc), "my card is 4539 1488 0343 6467."))
    cur = db.execute("INSERT INTO calls (started_at, finished, source) VALUES "
                     "('2024-05-02T10:00:00+00:00', 0, 'live')")
    db.execute("INSERT INTO live_items (call_id, kind, body) VALUES (?, 'utterance', ?)",
               (cur.lastrowid, json.dumps({"speaker": "customer", "start": 3.0, "end": 5.0,
                                           "text": "it's 4539-1488-0343-6467"})))
    db.commit()
    db.close()
    assert "card group" in leaks(_files(path))


def test_an_older_history_is_redacted_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    _old_history(path)
    with CallHistory(path) as history:
        (summary,) = history.list_calls()
        doc = history.load(summary.id)
        assert summary.redactions == 2 and summary.redaction_off == ""
        assert doc["transcript"][0]["text"] == "My card is [card number]."
        assert doc["transcript"][0]["words"][-1]["text"] == "[card number]."
        assert doc["transcript"][2]["text"] == "It is [security code]."
        assert doc["events"][0]["evidence"] == "My card is [card number]."
        assert "[card number]" in doc["events"][0]["reason"]
        assert doc["scorecard"]["checks"][0]["evidence"][0]["text"] == "It is [security code]."
        assert LEGACY_NOTE in doc["notes"]
        assert {r["kind"] for r in doc["redactions"]} == {"card_number", "security_code"}
        assert not history.list_calls(search="4539")
        (unfinished,) = history.unfinished_calls()
        history.recover(unfinished.id)
        recovered = [c for c in history.list_calls() if c.source == "recovered"][0]
        assert history.load(recovered.id)["transcript"][0]["text"] == "it's [card number]"
    assert leaks(_files(path)) == []  # nor in free pages, nor in the -wal


def test_a_deleted_call_leaves_nothing_in_the_file_or_its_log(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    marker = "Zanzibar-Quokka-Marmalade"  # stands for anything a call held
    with CallHistory(path) as history:
        doc = _legacy_document() | {"redaction": {"on": [], "off": []}}
        doc["transcript"][1]["text"] = marker
        call_id = history.save_call(doc, source="replay")
        assert marker.encode() in _files(path)
        history.delete(call_id)
    assert marker.encode() not in _files(path)


def test_the_csv_says_how_much_was_redacted_and_what_was_not(tmp_path: Path) -> None:
    with CallHistory(tmp_path / "history.sqlite3") as history:
        doc = _legacy_document()
        doc["redaction"] = {"on": ["ssn"], "off": ["card_number", "phone_number"]}
        doc["redactions"] = [{"kind": "ssn", "speaker": "customer", "start": 1, "end": 2}]
        history.save_call(doc, source="replay")
        out = tmp_path / "calls.csv"
        history.export_csv(out)
    (row,) = csv.DictReader(out.open(encoding="utf-8"))
    assert row["redactions"] == "1" and row["redaction_off"] == "card_number phone_number"


def test_a_call_recovered_after_a_crash_still_says_card_redaction_was_off(tmp_path) -> None:
    from coaching.playbook import load_playbook
    from coaching.timeline import Utterance
    from desktop.history.live_recorder import LiveRecorder

    playbook = tmp_path / "pb.toml"
    playbook.write_text("[redaction]\ncard_numbers = false\n")
    config = load_playbook(playbook).redaction
    with CallHistory(tmp_path / "history.sqlite3") as history:
        recorder = LiveRecorder(history, on_error=print)
        recorder.begin("mic", "softphone", "tiny.en", config)
        recorder.transcript([Utterance("customer", 1.0, 2.0, "my social is [social security "
                                       "number]")])
        doc = history.load(history.recover(recorder.call_id))  # as if it had crashed
    assert config.notes[0] in doc["notes"]
    assert doc["redaction"]["off"] == ["card_number"]
    assert [r["kind"] for r in doc["redactions"]] == ["ssn"]
