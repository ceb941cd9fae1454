"""`callcoach analyze --ray` on a real two-node Ray cluster on this machine.

The cluster (`ray.cluster_utils.Cluster`) is started once for the module: a head with no
CPUs for work and two worker nodes of 2 CPUs each, so each node holds one callcoach
worker. The batch is small real speech (../shared/data) under several names, and a file
that is not audio. Checked: the reports are those of a local run (the JSON minus its
timings), a re-run does no work, and a node killed mid-batch loses no call and reports
none twice. The command runs as a user runs it, in its own process (the Ray driver).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from ray.cluster_utils import Cluster

from audio.analysis import AnalysisOptions
from desktop.cli.batch import expand_recordings, run_batch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
pytestmark = [pytest.mark.model, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cluster():
    # Quick to notice a dead node (the default waits ~30 s); nothing else is tuned.
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "include_dashboard": False,
        "_system_config": {"health_check_period_ms": 1000,
                           "health_check_failure_threshold": 5}})
    nodes = [c.add_node(num_cpus=2), c.add_node(num_cpus=2)]
    c.wait_for_nodes(timeout=180)
    try:
        yield c, nodes
    finally:
        c.shutdown()


def _batch(folder: Path, copies: int = 1) -> list[Path]:
    """Real short calls under several names (two share a file name), and one bad file."""
    folder.mkdir(parents=True)
    stereo, sr = sf.read(SHARED / "stereo_diarization.wav", dtype="float32")
    jfk, jsr = sf.read(SHARED / "jfk.flac", dtype="float32")
    (folder / "team2").mkdir()
    for i in range(copies):
        sf.write(folder / f"a_{i}.wav", stereo, sr)
        sf.write(folder / f"b_{i}.flac", jfk, jsr)
        sf.write(folder / f"c_{i}.wav", stereo[:, ::-1], sr)  # the parties swapped
        sf.write(folder / "team2" / f"a_{i}.wav", np.ascontiguousarray(stereo[: sr * 3]), sr)
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00not a wave file at all")
    return expand_recordings([str(folder)])


def _run(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "desktop.cli", "analyze", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)


def _reports(out: Path) -> dict[str, dict]:
    """Each report's JSON without its timings (the one part that differs run to run)."""
    docs = {}
    for p in sorted(out.glob("*.json")):
        doc = json.loads(p.read_text("utf-8"))
        doc.pop("timings_s")
        docs[p.name] = doc
    return docs


def _summary(out: Path) -> list[dict]:
    with (out / "summary.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["report"] = Path(r["report"]).name if r["report"] else ""
    return rows


def _stamps(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*")
            if p.is_file() and p.name != "summary.csv"}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> tuple[list[Path], Path]:
    base = tmp_path_factory.mktemp("local")
    paths = _batch(base / "calls")
    out = base / "reports"
    assert run_batch(paths, AnalysisOptions(), out, quiet=True) == 1  # the broken file
    return paths, out


def test_a_cluster_run_writes_the_reports_of_a_local_run_and_a_rerun_does_no_work(
        cluster, local_run, tmp_path: Path) -> None:
    c, _ = cluster
    paths, local_out = local_run
    # The same recordings by the same paths: the reports name them as given.
    out = tmp_path / "reports"
    proc = _run("--ray", c.address, *map(str, paths), "--out-dir", str(out))
    assert proc.returncode == 1, proc.stderr  # the broken file, said in the summary
    assert "Traceback" not in proc.stderr
    assert _reports(out) == _reports(local_out)
    assert len(_reports(out)) == len(paths) - 1 == 4
    assert _summary(out) == _summary(local_out)
    [broken] = [r for r in _summary(out) if r["status"] != "ok"]
    assert broken["recording"].endswith("broken.wav") and "damaged" in broken["status"]
    assert "4 analysed, 1 failed, 0 skipped" in proc.stderr
    assert "calls per hour" in proc.stderr

    # Again: every good call is already done, so nothing is analysed or rewritten.
    before = _stamps(out)
    assert len(before) == 3 * 4  # JSON, HTML and marker of each good call
    again = _run("--ray", c.address, *map(str, paths), "--out-dir", str(out))
    assert again.returncode == 1, again.stderr
    assert "0 analysed, 1 failed, 4 skipped" in again.stderr
    assert _stamps(out) == before
    assert _summary(out) == _summary(local_out)  # the skipped calls still in the summary


def test_a_node_lost_mid_batch_loses_no_call_and_reports_none_twice(
        cluster, tmp_path: Path) -> None:
    c, (_, victim) = cluster
    paths = _batch(tmp_path / "calls", copies=2)
    out = tmp_path / "reports"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "desktop.cli", "analyze", "--ray",
                             c.address, str(tmp_path / "calls"), "--out-dir", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    try:
        # Kill the node as soon as it has finished a call: it then holds the next ones.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            workers = {json.loads(m.read_text()).get("worker")
                       for m in out.glob(".callcoach/*.done")} if out.exists() else set()
            if victim.node_id in workers:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the batch ended before the node had a call"
        assert victim.node_id in workers, "the node to kill never finished a call"
        c.remove_node(victim, allow_graceful=False)
        stdout, stderr = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, stderr  # the broken file only
    assert "Traceback" not in stderr
    assert "goes to another worker" in stderr  # the lost node's calls were retried
    good = [p for p in paths if p.name != "broken.wav"]
    rows = _summary(out)
    assert sorted(r["recording"] for r in rows) == sorted(map(str, paths))  # each once
    assert all(r["status"] == "ok" for r in rows if not r["recording"].endswith("broken.wav"))
    assert len(_reports(out)) == len(good)
    for p in good:  # each call ended once in the progress, whichever worker did it
        assert sum(line.startswith("[") and f" {p}: done" in line
                   for line in stderr.splitlines()) == 1, p
    markers = {json.loads(m.read_text())["row"]["recording"] for m in out.glob(".callcoach/*.done")}
    assert markers == set(map(str, good))
    assert not list(out.rglob("*.tmp"))  # no half-written report left behind


def test_without_ray_installed_the_cluster_run_says_what_to_install(tmp_path: Path) -> None:
    # A `ray` that cannot be imported, first on the path: what a machine without the
    # cluster extra gives.
    (tmp_path / "shadow" / "ray").mkdir(parents=True)
    (tmp_path / "shadow" / "ray" / "__init__.py").write_text(
        "raise ImportError(\"No module named 'ray'\")\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(tmp_path / "shadow"))
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "desktop.cli", "analyze", "--ray", "auto",
                           str(SHARED / "jfk.flac"), str(SHARED / "stereo_diarization.wav"),
                           "--out-dir", str(out)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "callcoach[cluster]" in lines[0] and "not installed" in lines[0]
    assert not out.exists()  # no work started
