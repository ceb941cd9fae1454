"""Where unexpected errors go: a log file for the developers, a line for the user."""

from __future__ import annotations

import datetime
import os
import traceback
from pathlib import Path

import platformdirs

__all__ = ["log_dir", "log_exception"]


def log_dir() -> Path:
    """The platform's log folder, or `$CALLCOACH_DATA_DIR/logs` (tests, portable use)."""
    if override := os.environ.get("CALLCOACH_DATA_DIR"):
        return Path(override) / "logs"
    return Path(platformdirs.user_log_dir("callcoach", appauthor=False))


def log_exception(exc: BaseException) -> Path:
    """Append the traceback of `exc` to the error log; return the log's path."""
    path = log_dir() / "errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.datetime.now().isoformat(timespec='seconds')}\n")
            log.write("".join(traceback.format_exception(exc)))
    except OSError:
        pass
    return path
