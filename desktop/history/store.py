"""The call history: every analysed call in one SQLite file beside the user's other data.

Each call keeps its whole schema-1 document (what the scorecard page shows again) plus a
few indexed columns (when, how long, score, a handful of metrics) so the history list can
sort and filter thousands of calls without parsing JSON.

A live call is written while it happens: its events and utterances are committed as they
come, so a crash loses seconds, not the call; the next start finds it unfinished and
`recover` stores what there is. One connection guarded by a lock serves every thread (the
live worker writes while the GUI thread reads); WAL mode lets another process read too.

Only redacted text is ever written here (the engine redacts before anything sees the
words); deleted rows are overwritten, not just unlinked (`secure_delete`), and the
write-ahead log is truncated after checkpoints, so a deleted call leaves nothing behind.
A history an older callcoach wrote is redacted once when opened (schema 2).

No Qt here: the CLI uses it on machines without a display.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs

from desktop.history.migration import SchemaError, prepare_schema
from desktop.history.recovery import parse_live_items, process_alive, recovered_document
from desktop.history.schema import (
    ORDER_BY,
    SCHEMA_VERSION,
    SOURCES,
    SUMMARY_COLUMNS,
    CallSummary,
    UnfinishedCall,
    indexed_columns,
    like_pattern,
    local_time,
    utc_text,
    write_summaries_csv,
)

__all__ = ["HistoryError", "CallSummary", "UnfinishedCall", "CallHistory", "SOURCES",
           "ORDER_BY", "SCHEMA_VERSION", "default_path"]

# Live calls begun by this process and not yet finished: (database, call id).
_ACTIVE: set[tuple[str, int]] = set()
_ACTIVE_LOCK = threading.Lock()


class HistoryError(Exception):
    """The history cannot be read or written; str() is one line for the user."""


def default_path() -> Path:
    """`$CALLCOACH_DATA_DIR/history.sqlite3`, else the platform's user data folder."""
    folder = os.environ.get("CALLCOACH_DATA_DIR")
    if not folder:
        folder = platformdirs.user_data_dir("callcoach", appauthor=False)
    return Path(folder) / "history.sqlite3"


class CallHistory:
    """The history database. Safe to share between threads; `close()` when done.

    Args:
        path: the SQLite file (created with its folder); default `default_path()`.

    Raises:
        HistoryError: the file cannot be created or opened, is not a callcoach history,
            is corrupt, or was written by a newer callcoach.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.audio_dir = self.path.parent / "audio"
        self._key = str(self.path.resolve())
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot create the folder of the call history "
                               f"{self.path.parent}: {exc.strerror or exc}") from None
        try:
            self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                       check_same_thread=False)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the call history {self.path}: {exc}") from None
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA journal_size_limit = 0")
            self._db.execute("PRAGMA synchronous = NORMAL")
            prepare_schema(self._db, self.path)
        except SchemaError as exc:
            self._db.close()
            raise HistoryError(str(exc)) from None
        except sqlite3.Error as exc:
            self._db.close()
            raise HistoryError(f"the call history {self.path} is unreadable ({exc}); move it "
                               "aside to start a new one") from None

    # -- plumbing ----------------------------------------------------------------------
    @contextmanager
    def _guard(self, what: str, transaction: bool = False) -> Iterator[sqlite3.Connection]:
        """Hold the lock, optionally in a transaction; sqlite errors become HistoryError."""
        with self._lock:
            try:
                if transaction:
                    self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    if transaction and self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
                if transaction:
                    self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise HistoryError(f"call history {self.path}: could not {what}: "
                                   f"{exc}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> CallHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def owns(self, audio_path: str | Path | None) -> bool:
        """Whether a file is the store's own copy (inside `audio_dir`): delete removes it."""
        if not audio_path:
            return False
        return Path(audio_path).resolve().is_relative_to(self.audio_dir.resolve())

    # -- whole calls ---------------------------------------------------------------------
    def save_call(self, document: dict[str, Any], *, source: str,
                  started_at: datetime | None = None, audio_path: str | None = None,
                  agent: str = "", report_key: str | None = None) -> int:
        """Store an analysed call (schema-1 document); returns its id. `report_key`: an
        imported report's identity (`imported_call`); a second call with it is refused."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        cols = indexed_columns(document, agent)
        cols.update(started_at=utc_text(started_at), source=source, agent=agent,
                    audio_path=audio_path, audio_kept=int(self.owns(audio_path)),
                    document=json.dumps(document, ensure_ascii=False), finished=1,
                    report_key=report_key)
        names = ", ".join(cols)
        with self._guard("save the call") as db:
            cur = db.execute(f"INSERT INTO calls ({names}) VALUES "
                             f"({', '.join('?' * len(cols))})", tuple(cols.values()))
            return int(cur.lastrowid)

    def list_calls(self, *, search: str = "", source: str | None = None,
                   agent: str | None = None, order_by: str = "started_at",
                   descending: bool = True, limit: int | None = None) -> list[CallSummary]:
        """Finished calls (recovered ones included), filtered and sorted.

        `search` matches the agent, the recording's name and the transcript, ignoring case;
        `agent` is one agent's name exactly ("": the calls with no agent).
        """
        if order_by not in ORDER_BY:
            raise ValueError(f"cannot sort by {order_by!r}; one of {sorted(ORDER_BY)}")
        where, args = ["finished = 1"], []
        if search.strip():
            where.append("search_text LIKE ? ESCAPE '\\'")
            args.append(like_pattern(search.strip()))
        if source is not None:
            where.append("source = ?")
            args.append(source)
        if agent is not None:
            where.append("agent = ?")
            args.append(agent)
        direction = "DESC" if descending else "ASC"
        sql = (f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM calls WHERE {' AND '.join(where)} "
               f"ORDER BY {order_by} {direction}, id {direction}")
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._guard("list the calls") as db:
            rows = db.execute(sql, args).fetchall()
        return [self._summary(r) for r in rows]

    def agents(self) -> list[tuple[str, int]]:
        """The agents named in the finished calls, with their number of calls, by name."""
        with self._guard("list the agents") as db:
            rows = db.execute("SELECT agent, COUNT(*) FROM calls WHERE finished = 1 AND "
                              "agent != '' GROUP BY agent").fetchall()
        return sorted(((a, int(n)) for a, n in rows), key=lambda r: (r[0].casefold(), r[0]))

    def imported_call(self, report_key: str) -> tuple[int, str] | None:
        """(id, agent) of the call stored from the report with this key, if any."""
        with self._guard("look for the report") as db:
            return db.execute("SELECT id, agent FROM calls WHERE report_key = ?",
                              (report_key,)).fetchone()

    def set_agent(self, call_id: int, agent: str) -> None:
        """Name the agent of a finished call (the search then finds it by that name)."""
        with self._guard("name the agent", transaction=True) as db:
            row = db.execute("SELECT document FROM calls WHERE id = ? AND finished = 1",
                             (call_id,)).fetchone()
            if row is None:
                raise HistoryError(f"there is no finished call {call_id} in the history")
            search = indexed_columns(json.loads(row[0]), agent)["search_text"]
            db.execute("UPDATE calls SET agent = ?, search_text = ? WHERE id = ?",
                       (agent, search, call_id))

    @staticmethod
    def _summary(row: tuple) -> CallSummary:
        values = dict(zip(SUMMARY_COLUMNS, row, strict=True))
        values["started_at"] = local_time(values["started_at"])
        values["audio_kept"] = bool(values["audio_kept"])
        return CallSummary(**values)

    def load(self, call_id: int) -> dict[str, Any]:
        """The call's document, plus a "history" key: id, started_at, source, agent,
        audio_path. HistoryError for an unknown or still unfinished call."""
        with self._guard("load the call") as db:
            row = db.execute("SELECT document, started_at, source, agent, audio_path "
                             "FROM calls WHERE id = ?", (call_id,)).fetchone()
        if row is None:
            raise HistoryError(f"there is no call {call_id} in the history")
        if row[0] is None:
            raise HistoryError(f"call {call_id} is unfinished (running, or to recover)")
        try:
            document = json.loads(row[0])
        except ValueError:
            raise HistoryError(f"call {call_id} in the history is damaged") from None
        document["history"] = {"id": call_id, "started_at": local_time(row[1]).isoformat(),
                               "source": row[2], "agent": row[3], "audio_path": row[4]}
        return document

    def delete(self, call_id: int) -> bool:
        """Forget a call (finished or not) and remove its kept audio; False if unknown."""
        with self._guard("delete the call", transaction=True) as db:
            row = db.execute("SELECT audio_path, audio_kept FROM calls WHERE id = ?",
                             (call_id,)).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM calls WHERE id = ?", (call_id,))
        self._forget_active(call_id)
        if row[1]:
            self._remove_audio(row[0])
        return True

    @staticmethod
    def _remove_audio(path: str | None) -> None:
        if path:
            try:
                Path(path).unlink(missing_ok=True)
            except OSError:  # read-only or in use: the row is gone either way
                pass

    def export_csv(self, path: str | Path, calls: Iterable[CallSummary] | None = None) -> int:
        """Write a header row and one row per call (all calls by default); the row count."""
        return write_summaries_csv(path, list(self.list_calls(descending=False)
                                              if calls is None else calls))

    def purge_audio(self, older_than_days: float) -> int:
        """Remove the kept audio of calls older than N days; the number of calls affected."""
        cutoff = utc_text(datetime.now(UTC) - timedelta(days=older_than_days))
        with self._guard("purge old audio", transaction=True) as db:
            rows = db.execute("SELECT id, audio_path FROM calls WHERE audio_kept = 1 AND "
                              "started_at < ?", (cutoff,)).fetchall()
            db.executemany("UPDATE calls SET audio_path = NULL, audio_kept = 0 WHERE id = ?",
                           [(r[0],) for r in rows])
        for _, path in rows:
            self._remove_audio(path)
        return len(rows)

    def score_trend(self, limit: int = 20) -> list[tuple[datetime, int]]:
        """The last `limit` scores, oldest first (calls without a score are skipped)."""
        with self._guard("read the scores") as db:
            rows = db.execute("SELECT started_at, score FROM calls WHERE finished = 1 AND "
                              "score IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT ?",
                              (int(limit),)).fetchall()
        return [(local_time(t), int(s)) for t, s in reversed(rows)]

    # -- live calls, written as they happen ---------------------------------------------
    def begin_call(self, *, started_at: datetime, agent_device: str,
                   customer_device: str | None, agent: str = "",
                   model: str | None = None) -> int:
        """Open a live call; events and utterances then go in with `append_*`."""
        with self._guard("start the call") as db:
            cur = db.execute(
                "INSERT INTO calls (started_at, finished, source, agent, agent_device, "
                "customer_device, model, owner_pid, owner_host) VALUES (?, 0, 'live', ?, ?, "
                "?, ?, ?, ?)", (utc_text(started_at), agent, agent_device,
                                customer_device or "", model, os.getpid(),
                                socket.gethostname()))
            call_id = int(cur.lastrowid)
        with _ACTIVE_LOCK:
            _ACTIVE.add((self._key, call_id))
        return call_id

    def _append(self, call_id: int, kind: str, item: dict[str, Any]) -> None:
        body = json.dumps(item, ensure_ascii=False)
        with self._guard(f"write the call's {kind}") as db:
            db.execute("INSERT INTO live_items (call_id, kind, body) VALUES (?, ?, ?)",
                       (call_id, kind, body))

    def append_event(self, call_id: int, event: dict[str, Any]) -> None:
        """Commit one event (`audio.contract.event_to_dict`) of a running call."""
        self._append(call_id, "event", event)

    def note_redaction(self, call_id: int, info: dict[str, Any]) -> None:
        """What a running call redacts and does not ({"redaction", "notes"})."""
        self._append(call_id, "redaction", info)

    def append_utterance(self, call_id: int, utt: dict[str, Any]) -> None:
        """Commit one transcript entry ({"speaker", "start", "end", "text"}) of a call."""
        self._append(call_id, "utterance", utt)

    def note_progress(self, call_id: int, call_time_s: float) -> None:
        """How far a running call got, so a recovered call keeps its length even when
        its last seconds produced no event or transcript."""
        with self._guard("note the call's progress") as db:
            db.execute("UPDATE calls SET duration_s = MAX(COALESCE(duration_s, 0), ?) "
                       "WHERE id = ? AND finished = 0", (float(call_time_s), call_id))

    def finish_call(self, call_id: int, document: dict[str, Any],
                    audio_path: str | None = None, source: str = "live") -> None:
        """The call ended and was scored: store its document, drop the live items.
        `source` "practice" for a recording played into the live coach."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        self._store(call_id, document, audio_path, source, "finish the call")

    def _store(self, call_id: int, document: dict[str, Any], audio_path: str | None,
               source: str, what: str) -> None:
        with self._guard(what, transaction=True) as db:
            row = db.execute("SELECT agent FROM calls WHERE id = ?", (call_id,)).fetchone()
            if row is None:
                raise HistoryError(f"there is no call {call_id} in the history")
            cols = indexed_columns(document, row[0])
            cols.update(source=source, audio_path=audio_path,
                        audio_kept=int(self.owns(audio_path)), finished=1,
                        document=json.dumps(document, ensure_ascii=False))
            db.execute(f"UPDATE calls SET {', '.join(f'{k} = ?' for k in cols)} WHERE id = ?",
                       (*cols.values(), call_id))
            db.execute("DELETE FROM live_items WHERE call_id = ?", (call_id,))
        self._forget_active(call_id)

    def _forget_active(self, call_id: int) -> None:
        with _ACTIVE_LOCK:
            _ACTIVE.discard((self._key, call_id))

    def _running(self, pid: int | None, host: str | None, call_id: int) -> bool:
        """Whether a live call's process is still at it (then it is not to recover)."""
        if pid is None or host != socket.gethostname():
            return False
        if pid == os.getpid():
            with _ACTIVE_LOCK:
                return (self._key, call_id) in _ACTIVE
        return process_alive(pid)

    def unfinished_calls(self) -> list[UnfinishedCall]:
        """Live calls whose process ended before `finish_call`, oldest first."""
        with self._guard("look for unfinished calls") as db:
            rows = db.execute(
                "SELECT c.id, c.started_at, c.agent_device, c.customer_device, c.owner_pid, "
                "c.owner_host, SUM(i.kind = 'event'), SUM(i.kind = 'utterance') FROM calls c "
                "LEFT JOIN live_items i ON i.call_id = c.id WHERE c.finished = 0 "
                "GROUP BY c.id ORDER BY c.started_at, c.id").fetchall()
        return [UnfinishedCall(r[0], local_time(r[1]), r[2], r[3], r[6] or 0, r[7] or 0)
                for r in rows if not self._running(r[4], r[5], r[0])]

    def recover(self, call_id: int) -> int:
        """Store an unfinished call from what was written of it (source "recovered")."""
        with self._guard("read the unfinished call") as db:
            row = db.execute("SELECT finished, customer_device, model, duration_s FROM calls "
                             "WHERE id = ?", (call_id,)).fetchone()
            items = db.execute("SELECT kind, body FROM live_items WHERE call_id = ? "
                               "ORDER BY id", (call_id,)).fetchall()
        if row is None:
            raise HistoryError(f"there is no call {call_id} in the history")
        if row[0]:
            raise HistoryError(f"call {call_id} is not unfinished")
        parsed = parse_live_items(items)
        document = recovered_document(parsed["event"], parsed["utterance"],
                                      has_customer=bool(row[1]), model=row[2],
                                      reached_s=row[3] or 0.0,
                                      redaction=(parsed["redaction"] or [None])[-1])
        self._store(call_id, document, None, "recovered", "recover the call")
        return call_id
