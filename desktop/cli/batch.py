"""`callcoach analyze` over a folder or several files: a trainer's batch of calls.

Each call gets its JSON and HTML scorecard; a bad file is reported and skipped, the rest
still run; a summary table (also saved as CSV) closes the run. The speech model is loaded
once for the whole batch.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from audio.analysis import AnalysisOptions, analyze_recording, loudness_tracks
from audio.contract import analysis_to_dict
from audio.recording import RecordingError
from audio.transcribe import Transcriber, TranscriberConfig
from coaching.playbook import load_playbook
from desktop.cli.terminal import ProgressBar, fmt_time
from desktop.reports.html_report import render_html

__all__ = ["AUDIO_SUFFIXES", "expand_recordings", "run_batch", "BatchRow"]

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4",
                  ".wma", ".aif", ".aiff"}


@dataclass(frozen=True)
class BatchRow:
    recording: str
    status: str  # "ok" or the one-line error
    duration_s: float | None = None
    score: int | None = None
    interruptions: int | None = None
    raised_voice: int | None = None
    events: int | None = None
    failed_checks: str = ""
    report: str = ""
    redactions: int | None = None  # personal data taken out of the transcript
    redaction_off: str = ""  # kinds the playbook did not redact


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


def _report_stem(path: Path, taken: set[str]) -> str:
    stem = path.stem
    n = 2
    while stem in taken:
        stem = f"{path.stem}-{n}"
        n += 1
    taken.add(stem)
    return stem


def _analyze_to_files(path: Path, options: AnalysisOptions, out_dir: Path, stem: str,
                      transcriber: Transcriber | None, playbook, quiet: bool) -> BatchRow:
    bar = None if quiet else ProgressBar(path.name)
    try:
        analysis = analyze_recording(path, options, transcriber=transcriber,
                                     playbook=playbook, progress=bar)
    finally:
        if bar:
            bar.close()
    doc = analysis_to_dict(analysis)
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (out_dir / f"{stem}.html").write_text(
        render_html(doc, loudness_tracks(analysis.timeline)), "utf-8")
    kinds = [e.kind for e in analysis.events]
    card = analysis.scorecard
    return BatchRow(
        recording=str(path), status="ok", duration_s=round(analysis.recording.duration_s, 1),
        score=card.score, interruptions=kinds.count("interruption"),
        raised_voice=kinds.count("raised_voice"), events=len(kinds),
        failed_checks=" ".join(c.id for c in card.checks if c.applicable and not c.passed),
        report=str(json_path), redactions=len(analysis.timeline.redactions),
        redaction_off=" ".join(analysis.playbook.redaction.off))


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


def run_batch(paths: list[Path], options: AnalysisOptions, out_dir: Path,
              quiet: bool = False) -> int:
    """Analyze every recording; returns 0 if all succeeded, 1 if any failed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    playbook = load_playbook(options.playbook_path)
    transcriber = (Transcriber(TranscriberConfig(model=options.model,
                                                 cpu_threads=options.cpu_threads))
                   if options.transcribe else None)
    rows: list[BatchRow] = []
    taken: set[str] = set()
    for i, path in enumerate(paths, 1):
        if not quiet:
            print(f"[{i}/{len(paths)}] {path}", file=sys.stderr)
        try:
            rows.append(_analyze_to_files(path, options, out_dir, _report_stem(path, taken),
                                          transcriber, playbook, quiet))
        except RecordingError as exc:
            print(f"callcoach: skipped: {exc}", file=sys.stderr)
            rows.append(BatchRow(recording=str(path), status=str(exc)))
    with (out_dir / "summary.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(list(BatchRow.__dataclass_fields__))
        for r in rows:
            writer.writerow([getattr(r, k) for k in BatchRow.__dataclass_fields__])
    _print_table(rows)
    failed = sum(r.status != "ok" for r in rows)
    if not quiet:
        print(f"{len(rows) - failed} analysed, {failed} failed; reports in {out_dir}/ "
              f"(summary.csv)", file=sys.stderr)
    return 1 if failed else 0
