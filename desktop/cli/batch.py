"""`callcoach analyze` over a folder or several files: a trainer's batch, a QA team's backlog.

Each call gets its JSON and HTML scorecard; a bad file is reported and skipped, the rest
still run; a summary table (also saved as CSV) closes the run. The speech model is loaded
once per worker. A re-run skips the calls already analysed with the same content
(`desktop.cli.resume`), so a stopped backlog picks up where it stopped. Locally two calls
run at once, each transcribing on its share of the cores (`desktop.cli.call_worker`); with
`--ray` the calls are spread over a cluster's workers (`desktop.cli.ray_batch`).
"""

from __future__ import annotations

import csv
import io
import os
import sys
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from audio.analysis import AnalysisOptions
from coaching.playbook import load_playbook
from desktop.cli.call_worker import CallJob, CallWorker
from desktop.cli.progress import BatchProgress
from desktop.cli.resume import BatchRow, read_done, report_stems, settings_key, write_atomic
from desktop.cli.terminal import ProgressBar, fmt_time

__all__ = ["AUDIO_SUFFIXES", "expand_recordings", "run_batch", "BatchRow", "run_local"]

CALLS_AT_ONCE = 2  # a local run's calls in flight, each on its share of the cores

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4",
                  ".wma", ".aif", ".aiff"}


def expand_recordings(items: list[str]) -> list[Path]:
    """Files as given, folders searched (recursively) for audio files, in a stable order."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*")
                          if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
        else:
            out.append(p)
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def _print_table(rows: list[BatchRow]) -> None:
    name_w = min(48, max(9, *(len(Path(r.recording).name) for r in rows)))
    print(f"{'recording':<{name_w}}  {'length':>7}  {'score':>5}  {'interr':>6}  "
          f"{'raised':>6}  {'events':>6}  to change / error")
    for r in rows:
        name = Path(r.recording).name[:name_w]
        if r.status != "ok":
            print(f"{name:<{name_w}}  {'':>7}  {'':>5}  {'':>6}  {'':>6}  {'':>6}  "
                  f"FAILED: {r.status}")
            continue
        score = "-" if r.score is None else str(r.score)
        print(f"{name:<{name_w}}  {fmt_time(r.duration_s):>7}  {score:>5}  "
              f"{r.interruptions:>6}  {r.raised_voice:>6}  {r.events:>6}  {r.failed_checks}")


def _summary_csv(rows: list[BatchRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(list(BatchRow.__dataclass_fields__))
    for r in rows:
        writer.writerow([getattr(r, k) for k in BatchRow.__dataclass_fields__])
    return buf.getvalue()


def run_local(jobs: list[CallJob], worker: CallWorker, on_row, bars: bool = True) -> None:
    """Run the jobs in this process, `worker.calls_at_once` at a time, each on a thread of
    its own; `on_row(job, row)` as each call ends."""
    def one(job: CallJob) -> BatchRow:
        bar = ProgressBar(Path(job.given).name) if bars else None
        try:
            return worker.run(job, progress=bar)
        finally:
            if bar:
                bar.close()

    if worker.calls_at_once < 2 or len(jobs) < 2:
        for job in jobs:
            on_row(job, one(job))
        return
    pool = ThreadPoolExecutor(max_workers=worker.calls_at_once, thread_name_prefix="call")
    try:
        pending = {pool.submit(one, job): job for job in jobs}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                on_row(pending.pop(fut), fut.result())
    except BaseException:
        worker.stopping.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()


def run_batch(paths: list[Path], options: AnalysisOptions, out_dir: Path,
              quiet: bool = False, ray_address: str | None = None, overlap: bool = True,
              stream=None) -> int:
    """Analyze every recording not already done; returns 0 if all succeeded, 1 if any failed.

    `ray_address` spreads the calls over a Ray cluster (`auto`, `ray://host:10001`,
    `local`); recordings and `out_dir` must then be on a folder every node sees."""
    out_dir.mkdir(parents=True, exist_ok=True)
    load_playbook(options.playbook_path)  # a bad playbook: one message before any work
    settings = settings_key(options)
    stems = report_stems(paths)
    rows: dict[str, BatchRow] = {}
    jobs: list[CallJob] = []
    for path in paths:
        done = read_done(out_dir, stems[path], path, settings)
        if done is not None:
            rows[str(path)] = done
        else:
            jobs.append(CallJob(path=os.path.abspath(path), given=str(path), stem=stems[path]))
    progress = BatchProgress(len(paths), skipped=len(rows), quiet=quiet, stream=stream,
                             where=f"on the Ray cluster at {ray_address}" if ray_address
                             else "")
    progress.start()

    def on_row(job: CallJob, row: BatchRow) -> None:
        if job.given not in rows:  # a call retried on another worker counts once
            rows[job.given] = row
            progress.call_ended(row)

    try:
        if jobs and ray_address:
            from desktop.cli.ray_batch import run_on_ray

            run_on_ray(jobs, options, out_dir, settings, ray_address, on_row, progress)
        elif jobs:
            worker = CallWorker(options, os.path.abspath(out_dir), str(out_dir), settings,
                                calls_at_once=CALLS_AT_ONCE if overlap and len(jobs) > 1 else 1)
            run_local(jobs, worker, on_row, bars=not quiet)
    finally:
        ordered = [rows[str(p)] for p in paths if str(p) in rows]
        write_atomic(out_dir / "summary.csv", _summary_csv(ordered))
    _print_table(ordered)
    failed = sum(r.status != "ok" for r in ordered)
    if not quiet:
        print(f"callcoach: {progress.closing_line()}; reports in {out_dir}/ (summary.csv)",
              file=stream or sys.stderr)
    return 1 if failed else 0
