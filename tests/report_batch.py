"""A team's batch of `callcoach analyze` reports, made as a QA lead makes them.

Real recordings (../shared/data) copied under agents' file names and run through the real
`callcoach analyze` (the bundled tiny.en), a report made with card redaction turned off,
and what else lies around in such a folder: the batch's summary.csv, the HTML scorecards,
a report cut short by a full disk and an unrelated JSON file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
# recording (relative to the batch's folder) -> the real speech it is a copy of
RECORDINGS = {"team/ana_0501.wav": "stereo_diarization.wav",
              "team/bo_0502.flac": "jfk.flac",
              "team/cy_0503.wav": "stereo_diarization.wav"}
CARD_OFF = "team/dee_0504.flac"  # analysed with a playbook that leaves card numbers in
AGENTS = {"ana_0501.wav": "ana", "bo_0502.flac": "bo", "cy_0503.wav": "cy",
          "dee_0504.flac": "dee"}
BROKEN, UNRELATED = "broken.json", "package.json"


def callcoach(*args: str, cwd: Path, data_dir: Path | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`callcoach ARGS` in a process of its own (its history in `data_dir`)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    if data_dir is not None:
        env["CALLCOACH_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)


def make_batch(base: Path) -> Path:
    """`base/reports`: the reports of the recordings under `base/team` (see above)."""
    for name, source in [*RECORDINGS.items(), (CARD_OFF, "jfk.flac")]:
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED_DATA / source, base / name)
    reports = base / "reports"
    done = callcoach("analyze", *RECORDINGS, "--out-dir", "reports", "-q", cwd=base)
    assert done.returncode == 0, done.stderr
    playbook = base / "card-off.toml"
    playbook.write_text("[redaction]\ncard_numbers = false\n", encoding="utf-8")
    done = callcoach("analyze", CARD_OFF, "--playbook", str(playbook), "--json",
                     "reports/dee_0504.json", "-q", cwd=base)
    assert done.returncode == 0, done.stderr
    assert (reports / "summary.csv").is_file() and (reports / "ana_0501.html").is_file()
    text = (reports / "bo_0502.json").read_text(encoding="utf-8")
    (reports / BROKEN).write_text(text[: len(text) // 2], encoding="utf-8")
    (reports / UNRELATED).write_text(json.dumps({"name": "callcoach", "version": "1.0"}),
                                     encoding="utf-8")
    return reports


def report_files(reports: Path) -> list[Path]:
    """The real reports of a batch (not the broken or unrelated JSON)."""
    return sorted(p for p in reports.glob("*.json") if p.name not in (BROKEN, UNRELATED))
