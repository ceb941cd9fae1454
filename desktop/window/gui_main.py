"""Entry point of the window (`callcoach-gui`, or `callcoach` with no command).

A missing display or Qt library is reported in one line instead of a traceback, and an
unexpected error inside the event loop is logged and shown, not fatal.
"""

from __future__ import annotations

import os
import sys
import traceback

__all__ = ["main", "run_window", "create_window"]


def _has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _excepthook(kind, value, tb) -> None:
    """An error in a slot must not kill the window (a call may be running): log it, say it."""
    try:
        from desktop.crash_log import log_exception

        log_exception(value)
    except Exception:  # noqa: BLE001 - reporting must never raise
        traceback.print_exception(kind, value, tb)
    try:
        from PySide6.QtWidgets import QApplication

        for w in QApplication.topLevelWidgets():
            if hasattr(w, "show_message"):
                w.show_message(f"Something went wrong ({kind.__name__}: {value}); the call "
                               "and your data are kept.")
    except Exception:  # noqa: BLE001 - reporting must never raise
        pass


def create_window(argv: list[str] | None = None):
    """The application and its main window, themed and shown (not yet running)."""
    from PySide6.QtWidgets import QApplication

    from desktop.window.main_window import MainWindow
    from desktop.window.theme import apply_theme

    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("callcoach")
    app.setOrganizationName("callcoach")
    sys.excepthook = _excepthook
    from desktop.window.gc_guard import GuiThreadCollector, settle_long_lived

    app._collector = GuiThreadCollector(app)  # cycles are freed on this thread only
    window = MainWindow()
    apply_theme(app, window.settings.theme)
    window.show()
    settle_long_lived()  # the imports and the window's widgets
    return app, window


def run_window(argv: list[str] | None = None, open_path: str | None = None) -> int:
    """Create the application and the window, run it; returns the exit status."""
    from PySide6.QtCore import QTimer

    app, window = create_window(argv)
    if open_path:
        window.open_recording(open_path)
    elif not window.settings.first_run_done:
        QTimer.singleShot(0, window.open_first_run)
    return app.exec()


def main() -> int:
    if not _has_display():
        print("callcoach: no display found. To analyse a call without the window: "
              "callcoach analyze RECORDING", file=sys.stderr)
        return 2
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        print(f"callcoach: the Qt libraries are missing ({exc}). Run scripts/setup, or "
              "use: callcoach analyze RECORDING", file=sys.stderr)
        return 2
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    return run_window(sys.argv, args[0] if args else None)


if __name__ == "__main__":
    sys.exit(main())
