"""Opening a history file: create the tables of a new one, or bring an older one up to
`SCHEMA_VERSION` one step at a time (`schema.MIGRATIONS`).

Kept apart from the store's operations so that a new schema version is written here and
in `schema`, nowhere else. Several processes may open the same file at once: each step
runs in its own IMMEDIATE transaction and is skipped if another process got there first.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop.history.legacy_redaction import redact_stored_calls
from desktop.history.schema import MIGRATIONS, SCHEMA_NEW, SCHEMA_VERSION

__all__ = ["prepare_schema", "SchemaError"]


class SchemaError(Exception):
    """The file is not a history this callcoach can read; str() is one line for the user."""


def prepare_schema(db: sqlite3.Connection, path: Path) -> None:
    """Make `db` a history of the current schema (migrating it, if older)."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:  # a new file; idempotent, as another process may be creating it too
        db.executescript(
            "BEGIN IMMEDIATE;" + SCHEMA_NEW + f"INSERT INTO schema_version SELECT "
            f"{SCHEMA_VERSION} WHERE NOT EXISTS (SELECT 1 FROM schema_version); COMMIT;")
        return
    if "schema_version" not in tables:
        raise SchemaError(f"{path} is not a callcoach call history")
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    version = row[0] or 0
    if version < 1:
        raise SchemaError(f"the call history {path} has no schema version; move it aside "
                          "to start a new one")
    if version > SCHEMA_VERSION:
        raise SchemaError(f"the call history {path} was written by a newer callcoach "
                          f"(schema {version}); update callcoach to read it")
    redacted = 0
    for target in range(version + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            now = db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            if now < target:  # another process may have migrated meanwhile
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
                if target == 2:
                    redacted += redact_stored_calls(db)
                db.execute("UPDATE schema_version SET version = ?", (target,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    if redacted:  # rewrite the file: the pages that held the words are gone
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
