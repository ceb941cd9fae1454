"""File > Import reports in the window, offscreen: a team's batch of real `callcoach analyze`
reports imported through the menu action (only the folder chooser and the pattern's
input box answered by the test), the result said, the list refreshed and narrowed to one
agent; again (nothing added); a folder that is not one (a clear message, no traceback)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.history.store import CallHistory
from desktop.window.main_window import MainWindow
from desktop.window.settings import SettingsStore
from tests.report_batch import AGENTS, make_batch

pytestmark = [pytest.mark.model]


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    return make_batch(tmp_path_factory.mktemp("batch"))


@pytest.fixture
def window(qapp, request, tmp_path):
    win = MainWindow(store=SettingsStore.at(str(tmp_path / "settings.ini")),
                     history=CallHistory(tmp_path / "history.sqlite3"), load_model=False,
                     check_devices=False)
    win.show()
    yield win
    win.close()
    win.history.close()
    win.deleteLater()
    QtBot(request).wait(50)
    gc.collect()


def _import_result(window, qtbot) -> QMessageBox:
    importer = window.scorecards.importer
    qtbot.waitUntil(lambda: not importer.busy and importer.box is not None, timeout=60_000)
    box = importer.box
    assert box.isVisible()
    assert "Traceback" not in box.text() + box.informativeText()
    return box


def _shown_recordings(window) -> list[str]:
    page = window.scorecards
    return sorted(Path(page.history.load(i)["recording"]).name for i in page.call_ids())


def test_import_through_the_menu_then_filter_by_agent(window, qtbot, batch, monkeypatch,
                                                      tmp_path) -> None:
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: asked.append("folder") or str(batch)))
    monkeypatch.setattr(QInputDialog, "getText",
                        staticmethod(lambda *a, **k: (asked.append("pattern") or
                                                      "{agent}_*", True)))
    page = window.scorecards
    assert page.call_ids() == [] and page.agent_names() == []
    assert page.agent.currentText() == "All agents"
    action = window.findChild(QAction, "act_import_reports")
    assert action in window.menuBar().actions()[0].menu().actions()  # File
    action.trigger()
    box = _import_result(window, qtbot)
    assert asked == ["folder", "pattern"]
    assert window.page == "scorecards"
    assert box.text() == "4 imported, 0 already there, 2 skipped."
    assert "broken.json: not valid JSON" in box.informativeText()
    assert "package.json: not a callcoach report" in box.informativeText()
    assert "card redaction OFF" in box.informativeText()
    assert box.icon() == QMessageBox.Warning  # something to read: not just "done"
    box.close()

    assert _shown_recordings(window) == sorted(AGENTS)
    assert page.agent_names() == sorted(AGENTS.values())
    assert not page.table.isColumnHidden(1)  # the Agent column, now that calls name one
    page.filter_agent("bo")
    assert _shown_recordings(window) == ["bo_0502.flac"]
    assert page.document["recording"].endswith("bo_0502.flac")  # its scorecard shown
    window.grab().save(str(tmp_path / "scorecards-filtered.png"))
    page.search.setText("ana")  # the search narrows within the agent's calls
    assert page.proxy.rowCount() == 0
    page.search.clear()
    page.filter_agent(None)
    assert len(page.call_ids()) == 4

    # Again, the slot the action calls, with the folder: nothing added, and the agent
    # filter keeps its choice across the reload.
    page.filter_agent("dee")
    window.import_reports(str(batch), "{agent}_*")
    box = _import_result(window, qtbot)
    assert box.text() == "0 imported, 4 already there, 2 skipped."
    assert page.agent.currentData() == "dee" and _shown_recordings(window) == [
        "dee_0504.flac"]
    assert len(page.history.list_calls()) == 4


def test_agents_from_a_manifest_given_in_the_window(window, qtbot, batch, tmp_path) -> None:
    manifest = tmp_path / "agents.csv"
    manifest.write_text("recording,agent\nana_0501.wav,Ana Silva\nbo_0502.flac,Bo Chen\n",
                        encoding="utf-8")
    window.import_reports(str(batch), str(manifest))
    box = _import_result(window, qtbot)
    assert box.text() == "4 imported, 0 already there, 2 skipped."
    assert "2 calls with no agent" in box.informativeText()
    assert window.scorecards.agent_names() == ["Ana Silva", "Bo Chen"]
    assert window.scorecards.agent.itemText(1) == "Ana Silva (1)"
    window.scorecards.filter_agent("Bo Chen")
    assert _shown_recordings(window) == ["bo_0502.flac"]
    window.import_reports(str(batch), str(tmp_path / "missing.csv"))
    box = window.scorecards.importer.box
    assert box.windowTitle() == "Cannot import reports" and "missing.csv" in box.text()


def test_a_folder_that_is_not_one_is_said_plainly(window, qtbot, tmp_path) -> None:
    window.import_reports(str(tmp_path / "nowhere"))
    box = _import_result(window, qtbot)
    assert box.windowTitle() == "Cannot import reports"
    assert "There is no folder" in box.text() and "nowhere" in box.text()
    box.close()
    (tmp_path / "empty").mkdir()
    window.import_reports(str(tmp_path / "empty"))
    box = _import_result(window, qtbot)
    assert box.windowTitle() == "No reports found"
    box.close()
    assert not window.scorecards.import_reports(str(tmp_path), "bad (pattern")
    box = window.scorecards.importer.box
    assert box.windowTitle() == "Cannot import reports" and "regular expression" in \
        box.text()
    assert window.scorecards.call_ids() == []
