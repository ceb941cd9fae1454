"""Loading a folder of `callcoach analyze` reports into the call history.

A QA lead runs `callcoach analyze` over a team's recordings (on one machine or a cluster)
and gets one JSON report per call; importing that folder lets a trainer browse the batch
in the window's Scorecards page, by agent. Every `*.json` file under the folder is looked
at (summary.csv and the HTML scorecards are not reports); one that is not JSON or not a
callcoach report is said and skipped, the others are imported.

A report is known by a hash of its content (every field but `timings_s`, which changes
from run to run), so importing a folder again adds nothing, and a re-analysed call that
came out the same is the same call. Nothing is ever un-redacted: a report is stored as it
was written (already redacted by the engine); one an older callcoach wrote before
redaction existed is redacted on the way in, as an older history is; one made with card
redaction off keeps the note that says so, and the result lists it.

The agent of each call comes from its recording's path (`agent_pattern`) or a CSV
manifest (`read_manifest`). No Qt here: the CLI and the window's job both call
`import_reports`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from coaching.redaction_config import KINDS, PAYMENT_KINDS, RedactionConfig, default_redaction
from desktop.history.legacy_redaction import is_legacy, redact_legacy_document
from desktop.history.store import CallHistory, HistoryError

__all__ = ["ReportImportError", "ImportedReport", "ImportResult", "AgentOf",
           "agent_pattern", "read_manifest", "report_files", "iter_import", "import_reports",
           "report_key"]

MAX_REPORT_BYTES = 64 * 1024 * 1024  # a ten-minute call's report is well under 1 MB
_TEMPLATE_FIELD = "{agent}"
AgentOf = Callable[[str], str]  # the recording's path as the report names it -> agent


class ReportImportError(Exception):
    """The import cannot start (no such folder, a bad pattern or manifest); one line."""


@dataclass(frozen=True)
class ImportedReport:
    """What became of one report file: status "imported", "already" (there before) or
    "skipped" (with the reason)."""

    file: Path
    status: str
    reason: str = ""
    recording: str = ""
    agent: str = ""
    call_id: int | None = None
    card_redaction_off: bool = False
    agent_set: bool = False  # "already": its agent was named now


@dataclass
class ImportResult:
    folder: Path
    reports: list[ImportedReport] = field(default_factory=list)

    def _with(self, status: str) -> list[ImportedReport]:
        return [r for r in self.reports if r.status == status]

    @property
    def imported(self) -> list[ImportedReport]:
        return self._with("imported")

    @property
    def already(self) -> list[ImportedReport]:
        return self._with("already")

    @property
    def skipped(self) -> list[ImportedReport]:
        return self._with("skipped")

    @property
    def card_redaction_off(self) -> list[ImportedReport]:
        return [r for r in self.reports if r.status != "skipped" and r.card_redaction_off]

    @property
    def without_agent(self) -> list[ImportedReport]:
        return [r for r in self.reports if r.status != "skipped" and not r.agent]

    def summary_line(self) -> str:
        """"3 imported, 1 already there, 2 skipped" (and what else a trainer must know)."""
        line = (f"{len(self.imported)} imported, {len(self.already)} already there, "
                f"{len(self.skipped)} skipped")
        named = sum(r.agent_set for r in self.already)
        if named:
            line += f" (agent now named on {named} already there)"
        return line

    def notes(self, with_agents: bool) -> list[str]:
        """The lines after the summary: redaction off, calls no agent was found for."""
        out = []
        if off := self.card_redaction_off:
            said = ("1 report made with card redaction OFF (its transcript may hold card "
                    "data as spoken, as its scorecard says)" if len(off) == 1 else
                    f"{len(off)} reports made with card redaction OFF (their transcripts "
                    "may hold card data as spoken, as their scorecards say)")
            out.append(f"{said}: " + ", ".join(r.file.name for r in off))
        if with_agents and (lost := self.without_agent):
            calls = "1 call" if len(lost) == 1 else f"{len(lost)} calls"
            out.append(f"{calls} with no agent (the pattern or manifest named none): "
                       + ", ".join(Path(r.recording).name or r.file.name for r in lost))
        return out


# -- which agent ----------------------------------------------------------------------------
def _template_regex(template: str) -> re.Pattern[str]:
    """`{agent}_*.wav` style: `{agent}` one name (no /), `*` any text within a folder or
    file name, `?` one character; it matches the end of the path (a whole name or more)."""
    parts = []
    for piece in re.split(r"(\{agent\}|\*|\?)", template):
        if piece == _TEMPLATE_FIELD:
            parts.append("(?P<agent>[^/]+?)")
        elif piece == "*":
            parts.append("[^/]*")
        elif piece == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(piece))
    return re.compile("(?:^|/)" + "".join(parts) + "$", re.IGNORECASE)


def agent_pattern(pattern: str) -> AgentOf:
    """The agent of a recording from its path (with / between folders).

    Two forms: a template holding `{agent}` (`{agent}_*.wav`, `calls/{agent}/*`), matched
    against the end of the path; or else a regular expression, searched in the path, whose
    group `agent` (or else its first group) is the agent. No match: no agent ("").
    """
    if _TEMPLATE_FIELD in pattern:
        regex = _template_regex(pattern)
    else:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ReportImportError(f"--agent-from {pattern!r} is not a valid regular "
                                    f"expression ({exc}); or write a template such as "
                                    "'{agent}_*.wav'") from None
        if not regex.groups:
            raise ReportImportError(f"--agent-from {pattern!r} has no group to take the "
                                    "agent from: write (?P<agent>...) around the name, or "
                                    "a template such as '{agent}_*.wav'")

    def agent_of(recording: str) -> str:
        match = regex.search(recording.replace("\\", "/"))
        if match is None:
            return ""
        name = match.groupdict().get("agent") if "agent" in regex.groupindex else match[1]
        return (name or "").strip()

    return agent_of


def read_manifest(path: str | Path) -> AgentOf:
    """A CSV with a header row naming the columns `recording` and `agent` (other columns
    are ignored); a recording is matched by its path as written, else by its file name."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ReportImportError(f"cannot read the manifest {path}: "
                                f"{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ReportImportError(f"the manifest {path} is not UTF-8 text (save it as "
                                "'CSV UTF-8')") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(rows, [])]
    if "recording" not in header or "agent" not in header:
        raise ReportImportError(f"the manifest {path} needs a header row with the columns "
                                "recording,agent")
    at_rec, at_agent = header.index("recording"), header.index("agent")
    by_path: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for row in rows:
        if len(row) <= max(at_rec, at_agent) or not row[at_rec].strip():
            continue
        recording, agent = row[at_rec].strip().replace("\\", "/"), row[at_agent].strip()
        by_path[recording] = agent
        by_name.setdefault(recording.rsplit("/", 1)[-1].casefold(), agent)

    def agent_of(recording: str) -> str:
        recording = recording.replace("\\", "/")
        if recording in by_path:
            return by_path[recording]
        return by_name.get(recording.rsplit("/", 1)[-1].casefold(), "")

    return agent_of


# -- reading the reports ----------------------------------------------------------------------
def report_files(folder: str | Path) -> list[Path]:
    """The `*.json` files under a folder, in a stable order; ReportImportError if it is
    not a folder that can be read."""
    folder = Path(folder)
    if not folder.exists():
        raise ReportImportError(f"there is no folder {folder}")
    if not folder.is_dir():
        raise ReportImportError(f"{folder} is a file, not a folder of reports (give the "
                                "folder `callcoach analyze --out-dir` wrote)")
    try:
        return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".json"
                      and p.is_file())
    except OSError as exc:
        raise ReportImportError(f"cannot read the folder {folder}: "
                                f"{exc.strerror or exc}") from None


def _problem(document: Any) -> str | None:
    """Why a parsed JSON value is not a callcoach report (None: it is one)."""
    if not isinstance(document, dict):
        return "not a callcoach report (not a JSON object)"
    if "schema" not in document or "scorecard" not in document:
        return "not a callcoach report (no schema and scorecard fields)"
    if document["schema"] != 1:
        return (f"a report of schema {document['schema']!r}; this callcoach reads schema 1 "
                "(a newer callcoach wrote it?)")
    for name, kind in (("scorecard", dict), ("transcript", list), ("events", list)):
        if not isinstance(document.get(name, []), kind):
            return f"not a callcoach report (its {name} is not a JSON {kind.__name__})"
    if not isinstance(document.get("recording", ""), str):
        return "not a callcoach report (its recording is not a path)"
    return None


def report_key(document: dict[str, Any]) -> str:
    """The report's identity: a hash of everything in it but the timings of the run."""
    content = {k: v for k, v in document.items() if k not in ("timings_s", "history")}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(file: Path) -> dict[str, Any] | str:
    """The report in a file, or why it is skipped."""
    try:
        if file.stat().st_size > MAX_REPORT_BYTES:
            return "too large to be a callcoach report"
        data = file.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return f"not valid JSON ({str(exc).splitlines()[0][:120]})"
    return _problem(document) or document


def _card_redaction_off(document: dict[str, Any]) -> bool:
    off = (document.get("redaction") or {}).get("off") or []
    return any(kind in PAYMENT_KINDS for kind in off)


def _with_redaction_notes(document: dict[str, Any]) -> dict[str, Any]:
    """The report as stored: an unredacted (pre-redaction) report redacted; the note
    that card redaction was off present even if the report's writer left it out."""
    if is_legacy(document):
        document, _ = redact_legacy_document(document, default_redaction())
        return document
    redaction = document.get("redaction")
    off = redaction.get("off") if isinstance(redaction, dict) else None
    config = RedactionConfig(enabled=frozenset(KINDS) - {str(k) for k in off or []})
    notes = [str(n) for n in document.get("notes") or []]
    missing = [n for n in config.notes if n not in notes]
    return dict(document, notes=notes + missing) if missing else document


def _audio_of(recording: str, folder: Path) -> Path | None:
    """The recording on this machine, if it is there (the report names it as analyze was
    given it: absolute, or relative to where it ran, often the reports' parent)."""
    if not recording or recording == "live":
        return None
    path = Path(recording)
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, folder / path,
                                                    folder.parent / path]
    return next((p.resolve() for p in candidates if p.is_file()), None)


def _started_at(file: Path, audio: Path | None) -> datetime:
    """When the call was: the recording's file time if it is here, else the report's."""
    for p in (audio, file):
        try:
            if p is not None:
                return datetime.fromtimestamp(p.stat().st_mtime).astimezone()
        except OSError:
            continue
    return datetime.now().astimezone()


def _import_one(history: CallHistory, file: Path, folder: Path,
                agent_of: AgentOf | None) -> ImportedReport:
    document = _read(file)
    if isinstance(document, str):
        return ImportedReport(file, "skipped", document)
    recording = str(document.get("recording") or "")
    agent = agent_of(recording) if agent_of is not None else ""
    key = report_key(document)
    base = dict(recording=recording, agent=agent,
                card_redaction_off=_card_redaction_off(document))
    if (known := history.imported_call(key)) is not None:
        call_id, stored_agent = known
        if agent and agent != stored_agent:
            history.set_agent(call_id, agent)
            return ImportedReport(file, "already", call_id=call_id, agent_set=True, **base)
        return ImportedReport(file, "already", call_id=call_id,
                              **(base | {"agent": stored_agent}))
    stored = _with_redaction_notes(document)
    audio = _audio_of(recording, folder)
    try:
        call_id = history.save_call(stored, source="imported", agent=agent,
                                    started_at=_started_at(file, audio),
                                    audio_path=str(audio) if audio else None, report_key=key)
    except HistoryError:
        if (known := history.imported_call(key)) is None:
            raise
        # another import (another process) stored it first
        return ImportedReport(file, "already", call_id=known[0], **base)
    return ImportedReport(file, "imported", call_id=call_id,
                          **(base | {"card_redaction_off": _card_redaction_off(stored)}))


def iter_import(history: CallHistory, folder: str | Path,
                agent_of: AgentOf | None = None) -> Iterator[tuple[int, ImportedReport]]:
    """Import report by report: (how many files in all, what became of this one)."""
    folder = Path(folder)
    files = report_files(folder)
    for file in files:
        try:
            yield len(files), _import_one(history, file, folder, agent_of)
        except ValueError as exc:  # a value the history refuses
            yield len(files), ImportedReport(file, "skipped", f"not stored ({exc})")


def import_reports(history: CallHistory, folder: str | Path,
                   agent_of: AgentOf | None = None,
                   progress: Callable[[int, int, ImportedReport], None] | None = None
                   ) -> ImportResult:
    """Import every report under `folder`; `progress(done, total, report)` after each.

    Raises:
        ReportImportError: not a folder that can be read.
        desktop.history.store.HistoryError: the history cannot be written (what was
            imported so far stays).
    """
    result = ImportResult(Path(folder))
    for total, report in iter_import(history, folder, agent_of):
        result.reports.append(report)
        if progress is not None:
            progress(len(result.reports), total, report)
    return result
