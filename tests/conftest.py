"""Shared test helpers: where the real speech recordings live.

The recordings sit beside the project (`../shared/data` from its root, the same layout in
CI), so every test names them through this one constant instead of its own path arithmetic.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The folder of real recordings (see its README.md for what each file holds)."""
    return SHARED_DATA


# The window's tests run offscreen, and nothing a test does may touch the user's own call
# history or settings: both are pointed at a folder of the test session's.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session", autouse=True)
def _private_data_dir(tmp_path_factory) -> None:
    os.environ["CALLCOACH_DATA_DIR"] = str(tmp_path_factory.mktemp("callcoach-data"))


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_main_thread(request):
    """A test that makes widgets runs with the app's own garbage collection: cycles are
    freed on the GUI thread only (`GuiThreadCollector`, as `callcoach` starts it). Left
    to CPython, a worker thread that allocates could free a widget off the GUI thread;
    Qt then deadlocks or crashes, in that test or a later one.

    At the end, the test's widgets are deleted and its cycles freed here, on the GUI
    thread, whether it passed or failed: pytest keeps a failed test's frames (its
    window, its pages) in `sys.last_traceback` for a debugger, which would leave them to
    be destroyed at some later moment, on whichever thread."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    from desktop.window.gc_guard import GuiThreadCollector

    request.getfixturevalue("qapp")
    collector = GuiThreadCollector()
    try:
        yield
    finally:
        collector.stop()
        collector.deleteLater()
        for name in ("last_type", "last_value", "last_traceback", "last_exc"):
            if hasattr(sys, name):
                delattr(sys, name)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()

_CONFIG: list[pytest.Config] = []


def pytest_configure(config: pytest.Config) -> None:
    _CONFIG.append(config)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Print a failure the moment it happens, not at the end: a run that a native crash
    ends later (a segfault in a Qt test) still shows what failed before it."""
    if not report.failed or not _CONFIG:
        return
    terminal = _CONFIG[0].pluginmanager.get_plugin("terminalreporter")
    if terminal is None:
        return
    terminal.write_line("")
    terminal.write_sep("!", f"FAILED at once: {report.nodeid} ({report.when})")
    terminal.write_line(report.longreprtext[-6000:])
    for name, text in report.sections:
        if text.strip():
            terminal.write_sep("-", name)
            terminal.write_line(text[-3000:])
