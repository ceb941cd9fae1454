"""Entry point of the window (`callcoach-gui`, or `callcoach` with no command).

The desktop app itself is the subject of its own issue; until it lands, this opens a
small window that says so and points to `callcoach analyze`, and it reports a missing
display or Qt library in one line instead of a traceback.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]


def _has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main() -> int:
    if not _has_display():
        print("callcoach: no display found. To analyse a call without the window: "
              "callcoach analyze RECORDING", file=sys.stderr)
        return 2
    try:
        from PySide6.QtWidgets import QApplication, QLabel
    except ImportError as exc:
        print(f"callcoach: the Qt libraries are missing ({exc}). Run scripts/setup, or "
              "use: callcoach analyze RECORDING", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv)
    label = QLabel("callcoach\n\nThe desktop window is not built yet.\n"
                   "Analyse a recorded call with:  callcoach analyze RECORDING --html out.html")
    label.setMargin(24)
    label.setWindowTitle("callcoach")
    label.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
