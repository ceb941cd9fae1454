"""A folder of calls through `callcoach analyze`, in calls per hour: one call at a time,
two calls at once (the default: each transcribing on one of the two cores), and a two-node
Ray cluster on this machine.

    .venv/bin/python bench/folder_throughput.py [--copies 2] [--no-cluster] [CALL ...]

Default calls: the real recordings in ../shared/data/real_calls (2-5 minutes each) and
the two short ones in ../shared/data, `--copies` times each (copies are distinct files,
so each is analysed). Each mode starts from an empty report folder and loads its model
once, as a user's run does; the local modes run in this process, alternating, the
cluster one as `callcoach analyze --ray` in its own process (the Ray driver), on a
cluster of two nodes with 2 CPUs each that this script starts and stops. On one 2-core
machine the cluster cannot beat the local run (the same two cores, plus Ray's own
processes): it shows what the cluster costs, not what more machines give.

`main(argv)` returns the figures as a dict too, for bench/batch_throughput.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
DEFAULT_CALLS = [*sorted((SHARED / "real_calls").glob("*.flac")),
                 *sorted((SHARED / "real_calls").glob("*.wav")),
                 SHARED / "stereo_diarization.wav", SHARED / "jfk.flac"]


def _folder(calls: list[Path], copies: int, where: Path) -> tuple[list[Path], float]:
    import soundfile as sf

    where.mkdir(parents=True)
    paths = []
    seconds = 0.0
    for i in range(copies):
        for c in calls:
            p = where / f"{c.stem}_{i}{c.suffix}"
            shutil.copy(c, p)
            paths.append(p)
            seconds += sf.info(str(p)).duration
    return paths, seconds


def _local(paths: list[Path], out: Path, overlap: bool) -> float:
    from audio.analysis import AnalysisOptions
    from desktop.cli.batch import run_batch

    t0 = time.perf_counter()
    with open(os.devnull, "w") as null:
        saved, sys.stdout = sys.stdout, null
        try:
            run_batch(paths, AnalysisOptions(), out, quiet=True, overlap=overlap)
        finally:
            sys.stdout = saved
    return time.perf_counter() - t0


def _cluster(paths: list[Path], out: Path) -> float:
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0,
                                                      "include_dashboard": False})
    try:
        for _ in range(2):
            c.add_node(num_cpus=2)
        c.wait_for_nodes(timeout=180)
        env = dict(os.environ, HF_HUB_OFFLINE="1")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "desktop.cli", "analyze", "--ray",
                               c.address, "-q", *map(str, paths), "--out-dir", str(out)],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        took = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"cluster run failed: {proc.stderr.strip()[-400:]}")
        return took
    finally:
        c.shutdown()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("calls", nargs="*", type=Path, default=DEFAULT_CALLS)
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="local runs per mode (best kept)")
    ap.add_argument("--no-cluster", action="store_true")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="folder-throughput-") as tmp:
        paths, audio_s = _folder(args.calls, args.copies, Path(tmp) / "calls")
        print(f"{len(paths)} calls, {audio_s / 60:.1f} min of audio", flush=True)
        modes = {"one call at a time": False, "two calls at once (default)": True}
        for r in range(args.rounds):
            for name, overlap in modes.items():
                took = _local(paths, Path(tmp) / f"out-{overlap}-{r}", overlap)
                figures[name] = min(figures.get(name, took), took)
                print(f"  {name}: {took:.1f} s", flush=True)
        if not args.no_cluster:
            figures["Ray, two nodes on this machine"] = _cluster(paths, Path(tmp) / "out-ray")
    base = figures["one call at a time"]
    print("\n| run | wall time | calls per hour | audio hours per hour | vs one at a time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, took in figures.items():
        print(f"| {name} | {took:.1f} s | {len(paths) * 3600 / took:.0f} | "
              f"{audio_s / took:.1f} | {base / took:.2f}x |")
    return {"calls": len(paths), "audio_s": audio_s, "wall_s": figures}


if __name__ == "__main__":
    main()
