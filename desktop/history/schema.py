"""The on-disk format of the call history: tables, indexed columns, rows as dataclasses.

Kept apart from `desktop.history.store` (the operations) so that a later schema version and
its migration are written in one place. Dates are stored as ISO 8601 text in UTC, so
they sort as text; they come back as aware datetimes in local time.
"""

from __future__ import annotations

import csv
import math
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_VERSION", "SCHEMA_V1", "SCHEMA_NEW", "MIGRATIONS", "SOURCES", "CallSummary",
           "UnfinishedCall", "SUMMARY_COLUMNS", "ORDER_BY", "indexed_columns", "utc_text",
           "local_time", "like_pattern", "write_summaries_csv"]

SCHEMA_VERSION = 3
# "imported": a report of `callcoach analyze` loaded by `callcoach history import`.
SOURCES = ("live", "replay", "practice", "recovered", "imported")
# Metrics of document["scorecard"]["metrics"] (coaching.metrics) kept as columns.
METRICS = ("agent_talk_ratio", "interruptions", "raised_voice_s", "dead_air_s",
            "prompts_shown")
SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,           -- ISO 8601, UTC: sorts as text
    finished INTEGER NOT NULL DEFAULT 1,
    source TEXT NOT NULL,
    duration_s REAL, score INTEGER,
    agent TEXT NOT NULL DEFAULT '',
    recording TEXT NOT NULL DEFAULT '',
    audio_path TEXT, audio_kept INTEGER NOT NULL DEFAULT 0,
    agent_talk_ratio REAL, interruptions INTEGER, raised_voice_s REAL, dead_air_s REAL,
    prompts_shown INTEGER,
    search_text TEXT NOT NULL DEFAULT '',
    document TEXT,                      -- NULL while a live call is running
    agent_device TEXT NOT NULL DEFAULT '', customer_device TEXT NOT NULL DEFAULT '',
    model TEXT, owner_pid INTEGER, owner_host TEXT,
    redactions INTEGER,                 -- personal data taken out (NULL: not known)
    redaction_off TEXT NOT NULL DEFAULT ''  -- kinds the call's playbook did not redact
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (finished, started_at);
CREATE INDEX IF NOT EXISTS calls_score ON calls (finished, score);
CREATE TABLE IF NOT EXISTS live_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                 -- 'event' | 'utterance'
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS live_items_call ON live_items (call_id);
"""
# version reached -> statements that reach it from the one before. Schema 2 also redacts
# the calls an older callcoach stored (desktop.history.migration runs that part).
# Schema 3: `report_key` identifies an imported report (a hash of its content, so a
# folder imported twice adds nothing), and the agent is indexed for the agent filter.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: ("ALTER TABLE calls ADD COLUMN redactions INTEGER",
        "ALTER TABLE calls ADD COLUMN redaction_off TEXT NOT NULL DEFAULT ''"),
    3: ("ALTER TABLE calls ADD COLUMN report_key TEXT",
        "CREATE UNIQUE INDEX IF NOT EXISTS calls_report_key ON calls (report_key) "
        "WHERE report_key IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS calls_agent ON calls (finished, agent)"),
}
# A new file: SCHEMA_V1 (which already has schema 2's columns) and schema 3's statements.
SCHEMA_NEW = SCHEMA_V1 + "".join(f"{statement};\n" for statement in MIGRATIONS[3])


@dataclass(frozen=True)
class CallSummary:
    """One row of the history list (and of the CSV export, in this order).

    `audio_path` is where the call can be played from; `audio_kept` says the file is the
    store's own copy (inside `CallHistory.audio_dir`), which delete and purge remove.
    """

    id: int
    started_at: datetime
    source: str
    duration_s: float | None
    score: int | None
    agent: str
    recording: str
    audio_path: str | None
    audio_kept: bool
    agent_talk_ratio: float | None
    interruptions: int | None
    raised_voice_s: float | None
    dead_air_s: float | None
    prompts_shown: int | None
    redactions: int | None = None
    redaction_off: str = ""


SUMMARY_COLUMNS = tuple(f.name for f in fields(CallSummary))
ORDER_BY = frozenset(SUMMARY_COLUMNS) - {"audio_path", "audio_kept"}


@dataclass(frozen=True)
class UnfinishedCall:
    """A live call that never reached `finish_call` (the app stopped mid-call)."""

    id: int
    started_at: datetime
    agent_device: str
    customer_device: str
    events: int
    utterances: int


def utc_text(when: datetime | None) -> str:
    """How a date is stored: UTC ISO text (a naive date is taken as local time)."""
    when = when or datetime.now(UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def local_time(text: str) -> datetime:
    """A stored date as the user reads it: aware, in local time."""
    return datetime.fromisoformat(text).astimezone()


def _number(value: Any, kind: type = float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value):
        return None
    return kind(value)


def indexed_columns(document: dict[str, Any], agent: str) -> dict[str, Any]:
    """The columns a document fills; missing or odd values become NULL, never an error."""
    if not isinstance(document, dict) or document.get("schema") != 1:
        raise ValueError("not a schema-1 call document")
    card = document.get("scorecard") if isinstance(document.get("scorecard"), dict) else {}
    metrics = card.get("metrics") if isinstance(card.get("metrics"), dict) else {}
    transcript = document.get("transcript") if isinstance(document.get("transcript"),
                                                          list) else []
    said = [str(u.get("text", "")) for u in transcript if isinstance(u, dict)]
    recording = str(document.get("recording") or "")
    out = {"duration_s": _number(document.get("duration_s")),
           "score": _number(card.get("score"), int), "recording": recording,
           "search_text": " ".join([agent, recording, *said]).lower()}
    for name in METRICS:
        kind = int if name in ("interruptions", "prompts_shown") else float
        out[name] = _number(metrics.get(name), kind)
    redactions = document.get("redactions")
    out["redactions"] = len(redactions) if isinstance(redactions, list) else None
    redaction = document.get("redaction") if isinstance(document.get("redaction"),
                                                        dict) else {}
    out["redaction_off"] = " ".join(str(k) for k in redaction.get("off") or [])
    return out


def like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def write_summaries_csv(path: str | Path, calls: list[CallSummary]) -> int:
    """The CSV export: a header row (SUMMARY_COLUMNS), one row per call; the row count."""
    with Path(path).open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(SUMMARY_COLUMNS)
        for call in calls:
            values = list(astuple(call))
            values[SUMMARY_COLUMNS.index("started_at")] = call.started_at.isoformat(
                timespec="seconds")
            writer.writerow(["" if v is None else v for v in values])
    return len(calls)
