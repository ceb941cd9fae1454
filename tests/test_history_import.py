"""`callcoach history import`: a team's batch of real `callcoach analyze` reports into the
call history, as a QA lead runs it (a real process, a real SQLite file), re-imported,
mapped to agents by pattern and by manifest; and an older history migrated to schema 3
with its calls kept."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from desktop.history.legacy_redaction import LEGACY_NOTE
from desktop.history.report_import import (
    ReportImportError,
    agent_pattern,
    import_reports,
    read_manifest,
)
from desktop.history.schema import SCHEMA_VERSION
from desktop.history.store import CallHistory
from tests.report_batch import (
    AGENTS,
    BROKEN,
    UNRELATED,
    callcoach,
    make_batch,
    report_files,
)

pytestmark = [pytest.mark.model]


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """The folder the batch's reports are in (its recordings beside it, in ../team)."""
    return make_batch(tmp_path_factory.mktemp("batch"))


def _history(data_dir: Path) -> CallHistory:
    return CallHistory(data_dir / "history.sqlite3")


def _summary(proc) -> str:
    return next(line for line in proc.stdout.splitlines() if " imported, " in line)


def test_a_batch_is_imported_with_its_agents_and_the_rest_skipped(batch, tmp_path) -> None:
    proc = callcoach("history", "import", str(batch), "--agent-from", "{agent}_*",
                     cwd=batch.parent, data_dir=tmp_path)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 1, proc.stderr  # two files were skipped
    assert _summary(proc).startswith("4 imported, 0 already there, 2 skipped")
    problems = proc.stderr.splitlines()
    assert len(problems) == 2
    assert BROKEN in problems[0] and "not valid JSON" in problems[0]
    assert UNRELATED in problems[1] and "not a callcoach report" in problems[1]
    assert "summary.csv" not in proc.stderr  # not a report, not a problem either
    off = next(line for line in proc.stdout.splitlines() if "card redaction OFF" in line)
    assert "dee_0504.json" in off and "ana_0501.json" not in off

    with _history(tmp_path) as history:
        calls = history.list_calls()
        assert {Path(c.recording).name: c.agent for c in calls} == AGENTS
        assert {c.source for c in calls} == {"imported"}
        assert history.agents() == [(name, 1) for name in sorted(AGENTS.values())]
        for report in report_files(batch):
            written = json.loads(report.read_text(encoding="utf-8"))
            (call,) = [c for c in calls if c.recording == written["recording"]]
            stored = history.load(call.id)
            assert stored.pop("history")["audio_path"] == str(
                (batch.parent / written["recording"]).resolve())  # so replay can play it
            assert stored == written  # nothing changed, nothing un-redacted
            assert call.score == written["scorecard"]["score"]
        dee = next(c for c in calls if c.agent == "dee")
        assert dee.redaction_off == "card_number"
        assert any("OFF" in n and "card" in n for n in history.load(dee.id)["notes"])


def test_importing_the_same_reports_again_adds_nothing(batch, tmp_path) -> None:
    first = callcoach("history", "import", str(batch), cwd=batch.parent, data_dir=tmp_path)
    assert _summary(first).startswith("4 imported, 0 already there, 2 skipped")
    again = callcoach("history", "import", str(batch), cwd=batch.parent, data_dir=tmp_path)
    assert _summary(again).startswith("0 imported, 4 already there, 2 skipped")
    # The same reports copied elsewhere are the same calls; one whose content changed
    # (a call analysed again with another playbook) is a call of its own.
    copy = tmp_path / "copy"
    shutil.copytree(batch, copy)
    changed = json.loads((copy / "ana_0501.json").read_text(encoding="utf-8"))
    changed["scorecard"]["score"] = 99
    (copy / "ana_0501.json").write_text(json.dumps(changed), encoding="utf-8")
    third = callcoach("history", "import", str(copy), cwd=batch.parent, data_dir=tmp_path)
    assert _summary(third).startswith("1 imported, 3 already there, 2 skipped")
    with _history(tmp_path) as history:
        assert len(history.list_calls()) == 5
        assert sorted(c.score for c in history.list_calls(search="ana_0501")) == sorted(
            [99, json.loads((batch / "ana_0501.json").read_text())["scorecard"]["score"]])


def test_agents_by_regular_expression_and_by_template() -> None:
    regex = agent_pattern(r"team/(?P<agent>[a-z]+)_\d+")
    assert regex("team/ana_0501.wav") == "ana"
    assert regex("C:\\calls\\team\\bo_0502.flac") == "bo"
    assert regex("elsewhere/ana_0501.wav") == ""
    assert agent_pattern(r"^(\w+?)_")("cy_0503.wav") == "cy"  # the first group
    template = agent_pattern("{agent}_*.wav")
    assert template("team/ana_0501.wav") == "ana"
    assert template("team/bo_0502.flac") == ""  # not a .wav
    assert agent_pattern("calls/{agent}/*")("/srv/calls/Maria Lopez/0501.wav") == \
        "Maria Lopez"
    for bad in ("team/(unclosed", "no group here"):
        with pytest.raises(ReportImportError):
            agent_pattern(bad)


def test_agents_by_manifest_by_path_or_file_name(batch, tmp_path) -> None:
    manifest = tmp_path / "agents.csv"
    manifest.write_text("\ufeffRecording,Agent,team\n"
                        'team/ana_0501.wav,Ana Silva,"north,\nsecond floor"\n'
                        "BO_0502.FLAC,Bo Chen,north\n"
                        "/somewhere/else/cy_0503.wav,Cy Ward,south\n", encoding="utf-8")
    proc = callcoach("history", "import", str(batch), "--manifest", str(manifest),
                     cwd=batch.parent, data_dir=tmp_path)
    assert _summary(proc).startswith("4 imported")
    missing = next(line for line in proc.stdout.splitlines() if "with no agent" in line)
    assert "dee_0504.flac" in missing
    with _history(tmp_path) as history:
        agents = {Path(c.recording).name: c.agent for c in history.list_calls()}
    assert agents == {"ana_0501.wav": "Ana Silva", "bo_0502.flac": "Bo Chen",
                      "cy_0503.wav": "Cy Ward", "dee_0504.flac": ""}
    listed = callcoach("history", "list", "--agent", "Bo Chen", cwd=batch.parent,
                       data_dir=tmp_path)
    assert listed.returncode == 0
    rows = listed.stdout.splitlines()[1:]
    assert len(rows) == 1 and "bo_0502.flac" in rows[0] and "Bo Chen" in rows[0]
    # Imported again with a manifest that names dee: the call already there gets its
    # agent, and nothing is added.
    manifest.write_text("recording,agent\ndee_0504.flac,Dee Park\n", encoding="utf-8")
    again = callcoach("history", "import", str(batch), "--manifest", str(manifest),
                      cwd=batch.parent, data_dir=tmp_path)
    assert _summary(again).startswith(
        "0 imported, 4 already there, 2 skipped (agent now named on 1 already there)")
    with _history(tmp_path) as history:
        assert [Path(c.recording).name for c in history.list_calls(agent="Dee Park")] == [
            "dee_0504.flac"]
        assert len(history.list_calls()) == 4
        assert history.list_calls(search="dee park")  # the search finds the agent too


@pytest.mark.parametrize("content, words", [
    (None, "cannot read the manifest"),
    ("file,who\na.wav,Ana\n", "recording,agent"),
    (b"recording,agent\n\xff\xfe,x\n", "not UTF-8"),
])
def test_a_bad_manifest_is_one_line_and_nothing_imported(batch, tmp_path, content,
                                                         words) -> None:
    manifest = tmp_path / "agents.csv"
    if isinstance(content, bytes):
        manifest.write_bytes(content)
    elif content is not None:
        manifest.write_text(content, encoding="utf-8")
    proc = callcoach("history", "import", str(batch), "--manifest", str(manifest),
                     cwd=batch.parent, data_dir=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr
    with _history(tmp_path) as history:
        assert history.list_calls() == []


def test_a_folder_that_is_not_one_is_one_line(batch, tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    for folder, words in ((tmp_path / "nope", "there is no folder"),
                          (batch / "ana_0501.json", "is a file, not a folder"),
                          (tmp_path / "empty", "no reports (*.json)")):
        proc = callcoach("history", "import", str(folder), cwd=tmp_path, data_dir=tmp_path)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], proc.stderr


def test_a_report_from_before_redaction_is_redacted_on_the_way_in(batch, tmp_path) -> None:
    report = json.loads((batch / "bo_0502.json").read_text(encoding="utf-8"))
    report.pop("redaction")
    report.pop("redactions")
    said = "My card is 4539 1488 0343 6467."
    report["transcript"][0] |= {"text": said, "words": [
        {"start": 0.5 * i, "end": 0.5 * i + 0.4, "text": w, "probability": 0.9}
        for i, w in enumerate(said.split())]}
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "old.json").write_text(json.dumps(report), encoding="utf-8")
    with _history(tmp_path) as history:
        result = import_reports(history, folder)
        assert [r.status for r in result.reports] == ["imported"]
        stored = history.load(result.reports[0].call_id)
        assert stored["transcript"][0]["text"] == "My card is [card number]."
        assert LEGACY_NOTE in stored["notes"]
        assert not history.list_calls(search="4539")
        again = import_reports(history, folder)  # known by the report as it was written
        assert [r.status for r in again.reports] == ["already"]


# -- an older history keeps its calls --------------------------------------------------------
_SCHEMA_1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 1, source TEXT NOT NULL, duration_s REAL,
    score INTEGER, agent TEXT NOT NULL DEFAULT '', recording TEXT NOT NULL DEFAULT '',
    audio_path TEXT, audio_kept INTEGER NOT NULL DEFAULT 0, agent_talk_ratio REAL,
    interruptions INTEGER, raised_voice_s REAL, dead_air_s REAL, prompts_shown INTEGER,
    search_text TEXT NOT NULL DEFAULT '', document TEXT,
    agent_device TEXT NOT NULL DEFAULT '', customer_device TEXT NOT NULL DEFAULT '',
    model TEXT, owner_pid INTEGER, owner_host TEXT);
CREATE INDEX calls_started ON calls (finished, started_at);
CREATE INDEX calls_score ON calls (finished, score);
CREATE TABLE live_items (id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX live_items_call ON live_items (call_id);
INSERT INTO schema_version VALUES (1);
"""
_SCHEMA_2 = _SCHEMA_1.replace("VALUES (1)", "VALUES (2)").replace(
    "owner_host TEXT);", "owner_host TEXT, redactions INTEGER, "
                         "redaction_off TEXT NOT NULL DEFAULT '');")


@pytest.mark.parametrize("version, ddl", [(1, _SCHEMA_1), (2, _SCHEMA_2)])
def test_an_older_history_keeps_its_calls_and_takes_imports(batch, tmp_path, version,
                                                            ddl) -> None:
    path = tmp_path / "history.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(ddl)
    old = json.loads((batch / "ana_0501.json").read_text(encoding="utf-8"))
    for n, agent in enumerate(("Sam", "")):
        db.execute("INSERT INTO calls (started_at, source, agent, score, recording, "
                   "document, search_text) VALUES (?, 'replay', ?, ?, ?, ?, ?)",
                   (f"2024-05-0{n + 1}T10:00:00+00:00", agent, 60 + n, f"old{n}.wav",
                    json.dumps(old | {"recording": f"old{n}.wav", "scorecard": old[
                        "scorecard"] | {"score": 60 + n}}), f"{agent} old{n}.wav"))
    db.commit()
    db.close()
    with CallHistory(path) as history:
        calls = history.list_calls(descending=False)
        assert [(c.recording, c.agent, c.score) for c in calls] == [
            ("old0.wav", "Sam", 60), ("old1.wav", "", 61)]
        assert history.load(calls[0].id)["transcript"] == old["transcript"]
        assert history.agents() == [("Sam", 1)]
        assert [c.recording for c in history.list_calls(agent="Sam")] == ["old0.wav"]
        result = import_reports(history, batch, agent_pattern("{agent}_*"))
        assert len(result.imported) == 4
        assert len(history.list_calls()) == 6
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"calls_report_key", "calls_agent"} <= indexes
    db.close()


def test_a_new_history_has_the_same_schema_as_a_migrated_one(tmp_path) -> None:
    def columns(path: Path) -> list[tuple]:
        db = sqlite3.connect(path)
        try:
            return sorted((r[1], r[2]) for r in db.execute("PRAGMA table_info(calls)"))
        finally:
            db.close()

    CallHistory(tmp_path / "new.sqlite3").close()
    db = sqlite3.connect(tmp_path / "old.sqlite3")
    db.executescript(_SCHEMA_1)
    db.close()
    CallHistory(tmp_path / "old.sqlite3").close()
    assert columns(tmp_path / "new.sqlite3") == columns(tmp_path / "old.sqlite3")


def test_manifest_reader_needs_its_columns(tmp_path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("agent,recording\nAna,x/ana.wav\n,empty.wav\n", encoding="utf-8")
    agent_of = read_manifest(manifest)
    assert agent_of("x/ana.wav") == "Ana" and agent_of("y/ANA.wav") == "Ana"
    assert agent_of("empty.wav") == "" and agent_of("other.wav") == ""
