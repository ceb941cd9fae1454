"""Scorecards: the history of calls on the left, the chosen call's scorecard on the right.

For the agent after a call (the newest is chosen for them) and the team lead over time:
filter (by words, kind of call, agent), sort, export a scorecard (PDF, HTML) or the whole
list (CSV), delete a call and its kept audio, import a team's batch of `callcoach analyze`
reports (`ReportImporter`). The history is read on the GUI thread only in small pieces
(a list of summaries, one document), which SQLite answers in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.history.report_import import ImportResult
from desktop.history.store import CallHistory, CallSummary, HistoryError
from desktop.reports.export import ExportError, export_html, export_pdf
from desktop.window.report_importer import ReportImporter
from desktop.window.widgets.scorecard_view import ScorecardView

__all__ = ["HistoryPage"]

_COLUMNS = ("Date", "Agent", "Duration", "Score", "Source", "Talk share", "Interruptions",
            "Raised voice", "Recording")
_ID_ROLE = Qt.UserRole + 1
_SORT_ROLE = Qt.UserRole + 2
_AGENT_COLUMN = 1
_ALL_AGENTS = "All agents"


def _item(text: str, sort_value: object | None = None) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(sort_value if sort_value is not None else text, _SORT_ROLE)
    return item


class HistoryPage(QWidget):
    """Signals: `seekRequested(call document, t)` (open that call in replay at t),
    `message(str)` for the status bar."""

    seekRequested = Signal(object, float)
    message = Signal(str)

    def __init__(self, history: CallHistory | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.document: dict | None = None
        self.importer = ReportImporter(history, self)
        self.importer.message.connect(self.message)
        self.importer.imported.connect(self._imported)
        self.model = QStandardItemModel(0, len(_COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(_COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(_SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)

        self.search = QLineEdit(objectName="history_search", placeholderText="Filter calls")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Filter calls")
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.source = QComboBox(objectName="history_source")
        for label, value in (("All calls", None), ("Live calls", "live"),
                             ("Replayed recordings", "replay"),
                             ("Practice calls", "practice"),
                             ("Recovered after a crash", "recovered"),
                             ("Imported reports", "imported")):
            self.source.addItem(label, value)
        self.source.currentIndexChanged.connect(self.reload)
        self.agent = QComboBox(objectName="history_agent")
        self.agent.setAccessibleName("Agent")
        self.agent.setToolTip("Only the calls of one agent (named when reports are "
                              "imported)")
        self.agent.addItem(_ALL_AGENTS, None)
        self.agent.currentIndexChanged.connect(self.reload)
        for combo in (self.agent, self.source):  # narrow; the list opens at full width
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(9)
        self.table = QTableView(objectName="history_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Call history")
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.export_csv_button = QPushButton("Export list as &CSV\u2026",
                                             objectName="history_csv")
        self.export_csv_button.clicked.connect(self.export_csv)
        self.delete_button = QPushButton("&Delete call", objectName="history_delete")
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence.Delete, self.table, activated=self.delete_selected,
                  context=Qt.WidgetShortcut)

        self.scorecard = ScorecardView()
        self.scorecard.seekRequested.connect(self._seek)
        self.replay_button = QPushButton("Open in &replay", objectName="history_replay")
        self.replay_button.setToolTip("Play this call on the Replay page (when its audio "
                                      "was kept)")
        self.replay_button.clicked.connect(lambda: self._seek(0.0))
        self.pdf_button = QPushButton("Export &PDF\u2026", objectName="history_pdf")
        self.pdf_button.clicked.connect(lambda: self.export_scorecard("pdf"))
        self.html_button = QPushButton("Export &HTML\u2026", objectName="history_html")
        self.html_button.clicked.connect(lambda: self.export_scorecard("html"))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.scorecard)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        filters = QHBoxLayout()  # under the search: the list pane is narrow
        filters.addWidget(self.agent, 1)
        filters.addWidget(self.source, 1)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.export_csv_button)
        actions.addStretch(1)
        actions.addWidget(self.delete_button)
        left_layout.addLayout(actions)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(scroll, 1)
        exports = QHBoxLayout()
        exports.addWidget(self.replay_button)
        exports.addStretch(1)
        exports.addWidget(self.pdf_button)
        exports.addWidget(self.html_button)
        right_layout.addLayout(exports)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([340, 660])  # the scorecard needs the room; the list scrolls
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._update_buttons()
        self.reload()

    # -- the list -------------------------------------------------------------------------
    def reload(self, select_id: int | None = None) -> None:
        """Read the summaries again (after a call was saved or deleted)."""
        self.model.removeRows(0, self.model.rowCount())
        if self.history is None:
            self.scorecard.clear()
            return
        try:
            self._fill_agents(self.history.agents())
            calls = self.history.list_calls(source=self.source.currentData(),
                                            agent=self.agent.currentData())
            trend = self.history.score_trend(20)
        except HistoryError as exc:
            self.message.emit(str(exc))
            return
        self.table.setColumnHidden(_AGENT_COLUMN, self.agent.count() == 1)
        for c in calls:
            self.model.appendRow(self._row(c))
        self.scorecard.set_trend(trend)
        self.proxy.sort(self.proxy.sortColumn(), self.proxy.sortOrder())
        if select_id is not None:
            self.select_call(select_id)
        elif self.proxy.rowCount() and not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        self._update_buttons()

    def _fill_agents(self, agents: list[tuple[str, int]]) -> None:
        """The agent filter lists the agents present; the one chosen stays chosen (or
        "All agents", when its calls are gone)."""
        chosen = self.agent.currentData()
        names = [name for name, _ in agents]
        self.agent.blockSignals(True)
        self.agent.clear()
        self.agent.addItem(_ALL_AGENTS, None)
        for name, count in agents:
            self.agent.addItem(f"{name} ({count})", name)
        self.agent.setCurrentIndex(names.index(chosen) + 1 if chosen in names else 0)
        self.agent.blockSignals(False)

    def agent_names(self) -> list[str]:
        """The agents the filter offers, in its order."""
        return [self.agent.itemData(i) for i in range(1, self.agent.count())]

    def filter_agent(self, name: str | None) -> None:
        """Show one agent's calls (None: all agents)."""
        index = self.agent.findData(name) if name is not None else 0
        self.agent.setCurrentIndex(max(0, index))

    def _row(self, c: CallSummary) -> list[QStandardItem]:
        date = _item(c.started_at.strftime("%Y-%m-%d %H:%M"), c.started_at.timestamp())
        date.setData(c.id, _ID_ROLE)
        minutes = f"{int(c.duration_s // 60)}:{int(c.duration_s % 60):02d}"
        score = "\u2013" if c.score is None else str(c.score)
        talk = "" if c.agent_talk_ratio is None else f"{round(100 * c.agent_talk_ratio)}%"
        raised = "" if c.raised_voice_s is None else f"{c.raised_voice_s:.0f} s"
        return [date, _item(c.agent, c.agent.casefold()), _item(minutes, c.duration_s),
                _item(score, -1 if c.score is None else c.score),
                _item(c.source), _item(talk, c.agent_talk_ratio or 0.0),
                _item("" if c.interruptions is None else str(c.interruptions),
                      c.interruptions or 0),
                _item(raised, c.raised_voice_s or 0.0),
                _item(Path(c.recording).name if c.recording else "")]

    def call_ids(self) -> list[int]:
        """The ids in the order the table shows them."""
        return [self.proxy.index(r, 0).data(_ID_ROLE) for r in range(self.proxy.rowCount())]

    def select_call(self, call_id: int) -> None:
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data(_ID_ROLE) == call_id:
                self.table.selectRow(r)
                return

    def selected_id(self) -> int | None:
        index = self.table.currentIndex()
        return self.proxy.index(index.row(), 0).data(_ID_ROLE) if index.isValid() else None

    def _row_changed(self, current, _previous) -> None:
        call_id = self.proxy.index(current.row(), 0).data(_ID_ROLE) if current.isValid() \
            else None
        if call_id is None or self.history is None:
            self.document = None
            self.scorecard.clear()
        else:
            try:
                self.document = self.history.load(call_id)
                self.scorecard.set_document(self.document)
            except HistoryError as exc:
                self.document = None
                self.scorecard.clear()
                self.message.emit(str(exc))
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.document is not None
        for b in (self.pdf_button, self.html_button, self.delete_button):
            b.setEnabled(has)
        self.replay_button.setEnabled(has and self.audio_of(self.document) is not None)
        self.export_csv_button.setEnabled(self.history is not None and self.model.rowCount() > 0)

    def show_document(self, document: dict) -> None:
        """Show a scorecard that is not (yet) in the history (no history available)."""
        self.document = document
        self.scorecard.set_document(document)
        self._update_buttons()

    @staticmethod
    def audio_of(document: dict | None) -> str | None:
        """The call's audio file, if it is still on this PC (a recording, kept audio)."""
        if not document:
            return None
        path = (document.get("history") or {}).get("audio_path") or document.get("recording")
        return path if path and path != "live" and Path(path).is_file() else None

    # -- actions --------------------------------------------------------------------------
    def _seek(self, t: float) -> None:
        if self.document is not None:
            self.seekRequested.emit(self.document, t)

    def delete_selected(self) -> None:
        call_id = self.selected_id()
        if call_id is None or self.history is None:
            return
        answer = QMessageBox.question(
            self, "Delete call", "Delete this call from the history, with its saved audio? "
            "This cannot be undone.")
        if answer != QMessageBox.Yes:
            return
        self.delete_call(call_id)

    def delete_call(self, call_id: int) -> None:
        try:
            self.history.delete(call_id)
        except HistoryError as exc:
            self.message.emit(str(exc))
            return
        self.document = None
        self.reload()
        self.message.emit("Call deleted")

    def export_scorecard(self, kind: str, path: str | None = None) -> bool:
        if self.document is None:
            return False
        if path is None:
            stem = Path(str(self.document.get("recording") or "call")).stem or "call"
            path, _ = QFileDialog.getSaveFileName(
                self, f"Export scorecard as {kind.upper()}", f"{stem}-scorecard.{kind}",
                "PDF (*.pdf)" if kind == "pdf" else "HTML (*.html)")
            if not path:
                return False
        try:
            (export_pdf if kind == "pdf" else export_html)(self.document, path)
        except ExportError as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(f"Scorecard saved to {path}")
        return True

    def export_csv(self, path: str | None = None) -> bool:
        if self.history is None:
            return False
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export call history",
                                                  "callcoach-history.csv", "CSV (*.csv)")
            if not path:
                return False
        try:
            rows = self.history.export_csv(path)
        except (HistoryError, OSError) as exc:
            self.message.emit(f"Could not export: {exc}")
            return False
        self.message.emit(f"{rows} calls exported to {path}")
        return True

    # -- importing a batch of reports -----------------------------------------------------
    def import_reports(self, folder: str | None = None, agent_from: str | None = None
                       ) -> bool:
        """File > Import reports (`ReportImporter.start`): False if it did not start."""
        return self.importer.start(folder, agent_from)

    def _imported(self, result: ImportResult) -> None:
        self.reload(select_id=min((r.call_id for r in result.imported), default=None))
