"""Shared test helpers: where the real speech recordings live.

The recordings sit beside the project (`../shared/data` from its root, the same layout in
CI), so every test names them through this one constant instead of its own path arithmetic.
"""

from __future__ import annotations

import os
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
    """After a test that made widgets, free their reference cycles here, on the GUI
    thread: left to the collector, a later test's worker thread could destroy a widget
    off the GUI thread and deadlock (the window's own `GuiThreadCollector` prevents the
    same in the app)."""
    yield
    if {"qtbot", "qapp"} & set(request.fixturenames):
        import gc

        gc.collect()
