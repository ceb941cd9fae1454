"""The call history: real SQLite files, real call documents, a real crashed process."""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from desktop.history.store import CallHistory, HistoryError, default_path

ROOT = Path(__file__).resolve().parents[1]

# A live call that dies mid-call: begun, events and utterances written, never finished.
CRASHING_CALL = """
import json, os, sys
from datetime import datetime
from desktop.history.store import CallHistory

db, items = sys.argv[1], json.loads(open(sys.argv[2], encoding="utf-8").read())
store = CallHistory(db)
call = store.begin_call(started_at=datetime.now().astimezone(), agent_device="mic",
                        customer_device=items["customer"], model="tiny.en")
for e in items["events"]:
    store.append_event(call, e)
for u in items["utterances"]:
    store.append_utterance(call, u)
if items["progress"]:
    store.note_progress(call, items["progress"])
print(call, flush=True)
os._exit(1)
"""

UTTERANCES = [
    {"speaker": "agent", "start": 0.8, "end": 3.1, "text": "Thank you for calling, Sam here."},
    {"speaker": "customer", "start": 3.6, "end": 9.4, "text": "My order never arrived."},
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The bundled demo call, analysed without Whisper (fast, no model)."""
    from audio.analysis import AnalysisOptions, analyze_recording
    from audio.contract import analysis_to_dict

    analysis = analyze_recording(str(ROOT / "assets" / "demo_call.flac"),
                                 AnalysisOptions(transcribe=False))
    return analysis_to_dict(analysis)


@pytest.fixture
def store(tmp_path: Path) -> CallHistory:
    with CallHistory(tmp_path / "history.sqlite3") as history:
        yield history


def with_transcript(document: dict[str, Any], score: int | None) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    doc["transcript"] = copy.deepcopy(UTTERANCES)
    doc["scorecard"]["score"] = score
    return doc


def crash_a_call(db: Path, events: list[dict], utterances: list[dict],
                 customer: str = "pulse:softphone.monitor", progress: float = 0.0) -> int:
    items = db.parent / "items.json"
    items.write_text(json.dumps({"events": events, "utterances": utterances,
                                 "customer": customer, "progress": progress}),
                     encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", CRASHING_CALL, str(db), str(items)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 1, proc.stderr
    return int(proc.stdout.strip())


def test_save_and_load_round_trip(store: CallHistory, document: dict[str, Any]) -> None:
    started = datetime(2024, 5, 2, 9, 30).astimezone()
    call_id = store.save_call(document, source="replay", started_at=started, agent="Sam")
    loaded = store.load(call_id)
    meta = loaded.pop("history")
    assert loaded == document
    assert meta["id"] == call_id and meta["source"] == "replay" and meta["agent"] == "Sam"
    assert datetime.fromisoformat(meta["started_at"]) == started


def test_summary_carries_the_indexed_columns(store: CallHistory,
                                             document: dict[str, Any]) -> None:
    call_id = store.save_call(document, source="replay", agent="Sam")
    [call] = store.list_calls()
    metrics = document["scorecard"]["metrics"]
    assert call.id == call_id and call.agent == "Sam" and call.source == "replay"
    assert call.score == document["scorecard"]["score"]
    assert call.duration_s == pytest.approx(document["duration_s"])
    assert call.recording == document["recording"]
    assert call.agent_talk_ratio == pytest.approx(metrics["agent_talk_ratio"])
    assert call.interruptions == metrics["interruptions"]
    assert call.raised_voice_s == pytest.approx(metrics["raised_voice_s"])
    assert call.prompts_shown == metrics["prompts_shown"]
    assert call.started_at.tzinfo is not None


def test_missing_metrics_and_score_are_null_not_errors(store: CallHistory,
                                                       document: dict[str, Any]) -> None:
    doc = copy.deepcopy(document)
    doc["scorecard"] = {"score": None, "notes": ["no speech was found"]}
    del doc["duration_s"]
    store.save_call(doc, source="replay")
    [call] = store.list_calls()
    assert call.score is None and call.duration_s is None
    assert call.agent_talk_ratio is None and call.interruptions is None
    with pytest.raises(ValueError):
        store.save_call({"schema": 99}, source="replay")
    with pytest.raises(ValueError):
        store.save_call(document, source="uploaded")


def test_list_filters_sorts_and_limits(store: CallHistory, document: dict[str, Any]) -> None:
    t0 = datetime(2024, 6, 1, 8, 0).astimezone()
    ids = [store.save_call(with_transcript(document, score), source=source, agent=agent,
                           started_at=t0 + timedelta(hours=i))
           for i, (score, source, agent) in enumerate(
               [(70, "replay", "Sam"), (90, "live", "Ana"), (None, "live", "Bo%b")])]
    assert [c.id for c in store.list_calls()] == ids[::-1]
    assert [c.id for c in store.list_calls(descending=False)] == ids
    assert [c.id for c in store.list_calls(order_by="score", descending=True)][:2] == [
        ids[1], ids[0]]
    assert [c.id for c in store.list_calls(source="live")] == [ids[2], ids[1]]
    assert [c.id for c in store.list_calls(search="ana")] == [ids[1]]
    assert [c.id for c in store.list_calls(search="ORDER NEVER")] == ids[::-1]  # transcript
    assert [c.id for c in store.list_calls(search="o%b")] == [ids[2]]  # % is a literal
    assert store.list_calls(search="m%a") == []  # unescaped, it would match every call
    assert store.list_calls(search="nobody said this") == []
    assert len(store.list_calls(limit=2)) == 2
    with pytest.raises(ValueError):
        store.list_calls(order_by="score; DROP TABLE calls")
    assert len(store.list_calls()) == 3


def test_delete_removes_the_kept_audio_only(store: CallHistory, document: dict[str, Any],
                                            tmp_path: Path) -> None:
    store.audio_dir.mkdir(parents=True, exist_ok=True)
    kept = store.audio_dir / "call.flac"
    kept.write_bytes(b"audio")
    users = tmp_path / "my_recording.wav"
    users.write_bytes(b"audio")
    a = store.save_call(document, source="live", audio_path=str(kept))
    b = store.save_call(document, source="replay", audio_path=str(users))
    assert {c.id: c.audio_kept for c in store.list_calls()} == {a: True, b: False}
    assert store.delete(a) and store.delete(b)
    assert not kept.exists()
    assert users.exists()  # the user's own file is never the store's to delete
    assert store.list_calls() == []
    assert store.delete(a) is False
    with pytest.raises(HistoryError, match="no call"):
        store.load(a)


def test_export_csv_has_a_row_per_call(store: CallHistory, document: dict[str, Any],
                                       tmp_path: Path) -> None:
    store.save_call(with_transcript(document, 81), source="replay", agent="Sam")
    store.save_call(with_transcript(document, None), source="live", agent="Ana, Jr.")
    out = tmp_path / "calls.csv"
    assert store.export_csv(out) == 2
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["agent"] for r in rows] == ["Sam", "Ana, Jr."]
    assert [r["score"] for r in rows] == ["81", ""]
    assert rows[0]["source"] == "replay" and rows[1]["source"] == "live"
    assert float(rows[0]["duration_s"]) == pytest.approx(document["duration_s"])
    datetime.fromisoformat(rows[0]["started_at"])
    only = store.list_calls(source="live")
    assert store.export_csv(out, only) == 1
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_purge_audio_drops_old_kept_files(store: CallHistory, document: dict[str, Any]) -> None:
    store.audio_dir.mkdir(parents=True, exist_ok=True)
    old, new = store.audio_dir / "old.flac", store.audio_dir / "new.flac"
    old.write_bytes(b"a")
    new.write_bytes(b"b")
    now = datetime.now().astimezone()
    a = store.save_call(document, source="live", audio_path=str(old),
                        started_at=now - timedelta(days=40))
    b = store.save_call(document, source="live", audio_path=str(new), started_at=now)
    assert store.purge_audio(30) == 1
    assert not old.exists() and new.exists()
    calls = {c.id: c for c in store.list_calls()}
    assert calls[a].audio_path is None and not calls[a].audio_kept
    assert calls[b].audio_path == str(new)
    assert store.purge_audio(30) == 0


def test_score_trend_is_oldest_first_and_skips_unscored(store: CallHistory,
                                                        document: dict[str, Any]) -> None:
    t0 = datetime(2024, 1, 1, 12, 0).astimezone()
    for i, score in enumerate([50, None, 60, 70, 80]):
        store.save_call(with_transcript(document, score), source="replay",
                        started_at=t0 + timedelta(days=i))
    trend = store.score_trend(limit=3)
    assert [s for _, s in trend] == [60, 70, 80]
    assert trend[0][0] == t0 + timedelta(days=2)


def test_finished_live_call_is_stored_whole(store: CallHistory,
                                            document: dict[str, Any]) -> None:
    call = store.begin_call(started_at=datetime.now().astimezone(), agent_device="mic",
                            customer_device="pulse:softphone.monitor")
    for e in document["events"]:
        store.append_event(call, e)
    assert store.list_calls() == []  # running calls are not in the list
    assert store.unfinished_calls() == []  # ... nor to recover: this process runs it
    store.finish_call(call, document)
    assert store.load(call)["events"] == document["events"]
    assert [c.source for c in store.list_calls()] == ["live"]


def test_a_crashed_call_is_recovered(tmp_path: Path, document: dict[str, Any]) -> None:
    db = tmp_path / "history.sqlite3"
    events = document["events"]
    assert events, "the demo call should have events"
    call = crash_a_call(db, events, UTTERANCES)
    with CallHistory(db) as store:
        [unfinished] = store.unfinished_calls()
        assert unfinished.id == call
        assert (unfinished.events, unfinished.utterances) == (len(events), len(UTTERANCES))
        assert store.recover(call) == call
        assert store.unfinished_calls() == []
        doc = store.load(call)
        [summary] = store.list_calls()
    assert summary.source == "recovered" and summary.score is None
    assert doc["schema"] == 1 and doc["history"]["source"] == "recovered"
    assert doc["events"] == sorted(events, key=lambda e: e["start"])
    assert [u["text"] for u in doc["transcript"]] == [u["text"] for u in UTTERANCES]
    last = max([e["end"] for e in UTTERANCES] + [max(e["end"], e["detected_at"])
                                                 for e in events])
    assert doc["duration_s"] == pytest.approx(last, abs=0.01)
    assert doc["scorecard"]["computed"] is False and doc["scorecard"]["score"] is None
    assert any("crash" in n for n in doc["notes"])
    interruptions = sum(e["kind"] == "interruption" for e in events)
    assert doc["scorecard"]["metrics"]["interruptions"] == interruptions
    assert summary.interruptions == interruptions


def test_a_worker_thread_writes_while_another_reads(store: CallHistory,
                                                    document: dict[str, Any]) -> None:
    call = store.begin_call(started_at=datetime.now().astimezone(), agent_device="mic",
                            customer_device="")
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for i in range(200):
                store.append_event(call, dict(document["events"][0], start=float(i)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=write)
    worker.start()
    while worker.is_alive():
        store.list_calls()
        store.unfinished_calls()
    worker.join()
    assert errors == []
    store.finish_call(call, document)
    assert store.load(call)["events"] == document["events"]


@pytest.mark.parametrize("content", [b"\x00garbage\xff" * 400,
                                     b"SQLite format 3\x00" + b"\x01" * 600])
def test_a_corrupt_file_is_one_clear_line(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "history.sqlite3"
    db.write_bytes(content)
    with pytest.raises(HistoryError) as err:
        CallHistory(db)
    message = str(err.value)
    assert "\n" not in message and str(db) in message
    assert "aside" in message  # says what to do


def test_other_databases_and_newer_versions_are_refused(tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(HistoryError, match="not a callcoach call history"):
        CallHistory(other)
    newer = tmp_path / "newer.sqlite3"
    CallHistory(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(HistoryError, match="newer callcoach"):
        CallHistory(newer)


def test_data_dir_comes_from_the_environment(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "history.sqlite3"
    with CallHistory() as store:
        assert store.path == tmp_path / "data" / "history.sqlite3"
        assert store.path.exists()


def test_live_cli_recovers_at_start_up(tmp_path: Path, document: dict[str, Any],
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from desktop.cli.live_cli import open_history

    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(tmp_path))
    call = crash_a_call(tmp_path / "history.sqlite3", document["events"], [], customer="",
                        progress=100.0)  # the call went on after its last event
    store = open_history()
    assert store is not None
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "recovered 1 call" in lines[0] and str(call) in lines[0]
    [summary] = store.list_calls()
    assert summary.source == "recovered" and summary.interruptions is None  # agent-only
    assert summary.duration_s == pytest.approx(100.0)
    store.close()
    assert open_history() is not None and capsys.readouterr().err == ""


def test_live_cli_runs_unsaved_when_the_history_is_broken(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from desktop.cli.commands import build_parser
    from desktop.cli.live_cli import open_history

    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(tmp_path))
    (tmp_path / "history.sqlite3").write_bytes(b"not a database" * 100)
    assert open_history() is None
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "not be saved" in lines[0]
    assert build_parser().parse_args(["live", "--no-history"]).no_history
