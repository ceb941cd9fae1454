"""The real app in a real X server (Xvfb): it starts, opens the demo call, and every page
is saved as a screenshot for a person to look at, at 100%, 125% and 150% scaling.

Screenshots go to test-artifacts/screenshots/scale-<factor>/ in the project folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = [pytest.mark.slow, pytest.mark.model]

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("1-live-empty", "2-replay-empty", "3-replay-demo", "4-scorecards",
         "5-live-practice", "6-compact", "7-scorecard-after-call", "8-settings",
         "9-first-run-hearing", "10-try-a-sentence")


def _distinct_colours(path: Path) -> int:
    image = QImage(str(path))
    step = max(1, image.width() // 200)
    return len({image.pixel(x, y) for x in range(0, image.width(), step)
                for y in range(0, image.height(), step)})


@pytest.mark.parametrize("scale", ["1", "1.25", "1.5"])
def test_real_app_under_xvfb_saves_a_screenshot_of_each_page(scale, tmp_path, qapp) -> None:
    assert shutil.which("xvfb-run"), "xvfb is a test dependency (scripts/setup --test)"
    out = ROOT / "test-artifacts" / "screenshots" / f"scale-{scale}"
    shutil.rmtree(out, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    env.update(QT_SCALE_FACTOR=scale, XDG_CONFIG_HOME=str(tmp_path / "config"),
               CALLCOACH_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1",
               PYTHONPATH=str(ROOT))
    run = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
         str(ROOT / "tests" / "gui_smoke_driver.py"), str(out)],
        capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    for page in PAGES:
        path = out / f"{page}.png"
        assert path.is_file(), f"no screenshot of {page}"
        image = QImage(str(path))
        assert image.width() >= 300 and image.height() >= 60, page
        assert _distinct_colours(path) > 8, f"{page} looks blank"
