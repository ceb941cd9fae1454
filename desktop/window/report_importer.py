"""File > Import reports: a folder of `callcoach analyze` reports into the history, off the
GUI thread, with its result said in plain words.

Thousands of reports take seconds to parse and store, so the import runs as a job of
`workers.start_job` (its own QThread) and reports only through signals; the history is
shared safely between threads (`CallHistory` holds a lock). A problem the user can cause
(no such folder, a bad pattern, a history that cannot be written) arrives as `failed`
with one line; anything else too, with its traceback in the error log.

`ReportImporter` is the window's side: it asks for the folder (and the optional pattern
that names each call's agent), runs one job at a time, and shows the result in a message
box that does not block (how many imported, already there, skipped and why, which were
made with card redaction off).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from desktop.history.report_import import (
    AgentOf,
    ImportResult,
    ReportImportError,
    agent_pattern,
    import_reports,
    read_manifest,
)
from desktop.history.store import CallHistory, HistoryError
from desktop.window.workers import _Job, start_job

__all__ = ["ReportImportJob", "ReportImporter"]

_LISTED = 8  # skipped reports named in the result's message (the rest are counted)


class ReportImportJob(_Job):
    """Import every report under `folder` into `history`; `finished(ImportResult)` or
    `failed(str)`, and `progress(done, total)` after each report."""

    progress = Signal(int, int)
    finished = Signal(object)  # desktop.history.report_import.ImportResult
    failed = Signal(str)

    def __init__(self, history: CallHistory, folder: str | Path,
                 agent_of: AgentOf | None = None) -> None:
        super().__init__()
        self.history = history
        self.folder = Path(folder)
        self.agent_of = agent_of

    def _work(self) -> None:
        try:
            result = import_reports(self.history, self.folder, self.agent_of,
                                    progress=lambda done, total, _r: self.progress.emit(
                                        done, total))
        except (ReportImportError, HistoryError) as exc:
            self.failed.emit(str(exc))
            return
        self.finished.emit(result)

    def _fail(self, message: str) -> None:
        self.failed.emit(message)



class ReportImporter(QObject):
    """The folder, the agents' names (a pattern or a CSV manifest), one job at a time.

    Signals: `imported(ImportResult)` once a job finished (the page reloads),
    `message(str)` for the status bar (progress, the result in one line)."""

    imported = Signal(object)
    message = Signal(str)

    def __init__(self, history: CallHistory | None, parent: QWidget) -> None:
        super().__init__(parent)
        self.history = history
        self.widget = parent
        self.job: ReportImportJob | None = None
        self.box: QMessageBox | None = None  # the last result, on screen
        self.agent_from = ""  # the last pattern, offered again

    def start(self, folder: str | None = None, agent_from: str | None = None) -> bool:
        """Import `folder` (with no folder, the user picks one and then the optional
        agent pattern); False if no import started (said why, or the user cancelled)."""
        if self.history is None:
            self._say("Cannot import reports", "The call history is not available, so "
                      "reports cannot be imported into it.", error=True)
            return False
        if self.job is not None:
            self.message.emit("An import is already running")
            return False
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.widget,
                                                      "Import a folder of reports")
            if not folder:
                return False
            agent_from, ok = QInputDialog.getText(
                self.widget, "Agent names", "Optional: the agent's name from each "
                "recording's path, e.g. {agent}_*.wav or calls/{agent}/*\nor the path of a "
                "CSV file with the columns recording,agent:", text=self.agent_from)
            if not ok:
                return False
        agent_from = (agent_from or "").strip()
        try:
            agent_of = self._agent_of(agent_from)
        except ReportImportError as exc:
            self._say("Cannot import reports", str(exc), error=True)
            return False
        self.agent_from = agent_from
        self.job = ReportImportJob(self.history, folder, agent_of)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(self._failed)
        self.message.emit(f"Importing the reports in {folder}\u2026")
        start_job(self.job, self)
        return True

    @staticmethod
    def _agent_of(agent_from: str) -> AgentOf | None:
        """A pattern (`agent_pattern`), or a manifest named by its path (`*.csv`)."""
        if not agent_from:
            return None
        if agent_from.lower().endswith(".csv") and "{agent}" not in agent_from:
            return read_manifest(agent_from)
        return agent_pattern(agent_from)

    def _progress(self, done: int, total: int) -> None:
        self.message.emit(f"Importing reports: {done} of {total}")

    @property
    def busy(self) -> bool:
        return self.job is not None

    def _finished(self, result: ImportResult) -> None:
        self.job = None
        self.imported.emit(result)
        if not result.reports:
            self._say("No reports found", f"There are no callcoach reports (*.json) in "
                      f"{result.folder}.", error=True)
            return
        details = result.notes(with_agents=bool(self.agent_from))
        skipped = result.skipped
        details += [f"Skipped {r.file.name}: {r.reason}" for r in skipped[:_LISTED]]
        if len(skipped) > _LISTED:
            details.append(f"\u2026 and {len(skipped) - _LISTED} more skipped")
        self._say("Reports imported", f"{result.summary_line()}.", details,
                  error=bool(skipped or result.card_redaction_off))

    def _failed(self, message: str) -> None:
        self.job = None
        self._say("Cannot import reports", message[:1].upper() + message[1:] + ".",
                  error=True)

    def _say(self, title: str, text: str, details: list[str] | None = None,
             error: bool = False) -> None:
        """The result in a message box that does not block (and on the status bar)."""
        self.message.emit(text)
        box = QMessageBox(QMessageBox.Warning if error else QMessageBox.Information, title,
                          text, QMessageBox.Ok, self.widget)
        box.setObjectName("import_result")
        if details:
            box.setInformativeText("\n\n".join(details))
        if self.box is not None:
            self.box.close()
        self.box = box
        box.open()
