"""A batch that stopped at call 6,000 of 10,000 picks up at 6,001, and never trusts half a report.

Each analysed call leaves a small marker, `.callcoach/<stem>.done` in the reports' folder
(JSON, out of the way of tools that read the reports' `*.json`), written last and atomically
after its JSON and HTML (each also written to a temporary file and renamed). The marker
holds the call's *content key*: a SHA-256 over the audio file's bytes and the run's
*settings key* (the playbook's text, the model and its settings, the analysis options,
callcoach's version). A re-run skips a call whose marker has the same content key; a
changed recording, playbook, model or version analyses it again. To avoid reading every
file of a large backlog on each re-run, a marker also keeps the file's size and mtime:
when they are unchanged the stored audio hash is trusted, as `make` and `rsync` do.

Report names (stems) depend only on the batch's paths, never on the order the calls
finish in, so a re-run (and every node of a cluster) names each call's report alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from audio.analysis import AnalysisOptions
from audio.transcribe import TranscriberConfig
from coaching.playbook import default_playbook_path

__all__ = ["BatchRow", "settings_key", "audio_digest", "content_key", "report_stems",
           "write_atomic", "read_done", "mark_done", "marker_path", "MARKER_DIR"]

MARKER_DIR = ".callcoach"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BatchRow:
    """One line of summary.csv: a call's headline figures or its one-line error."""

    recording: str
    status: str  # "ok" or the one-line error
    duration_s: float | None = None
    score: int | None = None
    interruptions: int | None = None
    raised_voice: int | None = None
    events: int | None = None
    failed_checks: str = ""
    report: str = ""
    redactions: int | None = None  # personal data taken out of the transcript
    redaction_off: str = ""  # kinds the playbook did not redact


def callcoach_version() -> str:
    try:
        return metadata.version("callcoach")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def _model_identity(model: str | None) -> str:
    """The model as named, plus its weights' size and date when it is a local folder."""
    if model and Path(model).is_dir():
        weights = Path(model) / "model.bin"
        if weights.exists():
            st = weights.stat()
            return f"{Path(model).resolve()}:{st.st_size}:{st.st_mtime_ns}"
    return str(model)


def settings_key(options: AnalysisOptions) -> str:
    """Everything besides the audio that decides a report, hashed (one per run)."""
    playbook = Path(options.playbook_path) if options.playbook_path else default_playbook_path()
    h = hashlib.sha256()
    h.update(b"callcoach " + callcoach_version().encode())
    h.update(b"\0playbook\0" + playbook.read_bytes())
    # CPU threads change the speed, not the words: a worker with other threads agrees.
    h.update(b"\0options\0" + repr(replace(options, cpu_threads=0, playbook_path=None)).encode())
    if options.transcribe:
        h.update(b"\0model\0" + _model_identity(options.model).encode())
        h.update(b"\0decoding\0" + repr(TranscriberConfig(model=None, cpu_threads=0)).encode())
    return h.hexdigest()


def audio_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def content_key(audio_sha256: str, settings: str) -> str:
    return hashlib.sha256(f"{audio_sha256}:{settings}".encode()).hexdigest()


def report_stems(paths: list[Path]) -> dict[Path, str]:
    """Each recording's report name: its file name's stem, and where two recordings share
    a stem (same name in different folders), the stem plus 8 hex digits of its absolute
    path, for every one of them: the same name whatever the order or the other calls."""
    by_stem: dict[str, list[Path]] = {}
    for p in paths:
        by_stem.setdefault(p.stem, []).append(p)
    stems: dict[Path, str] = {}
    for stem, group in by_stem.items():
        for p in group:
            if len(group) == 1:
                stems[p] = stem
            else:
                tag = hashlib.sha256(str(Path(os.path.abspath(p))).encode()).hexdigest()[:8]
                stems[p] = f"{stem}-{tag}"
    return stems


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, flush it to disk, rename it over `path`:
    readers (a re-run, another node) see the old file or the whole new one, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stat_sig(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def marker_path(out_dir: Path, stem: str) -> Path:
    """Where a call's done-marker lives."""
    return out_dir / MARKER_DIR / f"{stem}.done"


def mark_done(out_dir: Path, stem: str, audio_path: Path, audio_sha256: str, settings: str,
              row: BatchRow, worker: str = "") -> None:
    """The call's commit record: written last, after its JSON and HTML are in place."""
    marker = {"content_key": content_key(audio_sha256, settings), "audio_sha256": audio_sha256,
              "audio_stat": _stat_sig(audio_path), "worker": worker, "row": asdict(row)}
    path = marker_path(out_dir, stem)
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, json.dumps(marker, indent=1) + "\n")


def read_done(out_dir: Path, stem: str, audio_path: Path, settings: str) -> BatchRow | None:
    """The summary row of a call already analysed with this content, or None to analyse it.

    Trusted only if the marker, the JSON and the HTML are all there and the content key
    matches (the audio hashed again when its size or mtime changed)."""
    try:
        marker: dict[str, Any] = json.loads(marker_path(out_dir, stem).read_text("utf-8"))
        sig = _stat_sig(audio_path)
        digest = (marker["audio_sha256"] if marker.get("audio_stat") == sig
                  else audio_digest(audio_path))
        if marker["content_key"] != content_key(digest, settings):
            return None
        if not ((out_dir / f"{stem}.json").is_file() and (out_dir / f"{stem}.html").is_file()):
            return None
        return BatchRow(**marker["row"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
