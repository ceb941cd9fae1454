"""Real recorded calls against a trainer's marking: which expectations the coaching meets.

    .venv/bin/python bench/real_calls.py                  # ../shared/data/real_calls
    .venv/bin/python bench/real_calls.py FOLDER_OR_MARKING ... [--markdown] [--json out.json]

Every `*.trainer.json` found (its `recording` beside it) is analysed the way `callcoach
analyze` does (bundled tiny.en, default playbook) and compared with the marking
(`coaching.expectations`): the cues that must not fire, the scorecard checks, the least
score. It prints, per call, the expectations met and every miss with its time and reason,
the score, and the prompts an agent would have seen live. Exit status 1 if any is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.analysis import AnalysisOptions, analyze_recording  # noqa: E402
from coaching.expectations import compare_with_marking  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_calls"


def markings(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        found += sorted(p.glob("*.trainer.json")) if p.is_dir() else [p]
    return found


def run_one(marking_path: Path, transcriber) -> dict:
    marking = json.loads(marking_path.read_text(encoding="utf-8"))
    recording = marking_path.parent / marking["recording"]
    options = AnalysisOptions(agent_channel=marking.get("agent_channel", "left"))
    t0 = time.perf_counter()
    analysis = analyze_recording(recording, options, transcriber=transcriber)
    results = compare_with_marking(marking, analysis.events, analysis.scorecard)
    shown = [e for e in analysis.events if e.prompted and e.prompt]
    return {"call": recording.name, "seconds": round(time.perf_counter() - t0, 1),
            "duration_s": round(analysis.recording.duration_s, 1),
            "score": analysis.scorecard.score, "met": sum(r.met for r in results),
            "expectations": [r.__dict__ for r in results],
            "prompts": [{"t": round(e.detected_at, 1), "kind": e.kind, "reason": e.reason}
                        for e in sorted(shown, key=lambda e: e.detected_at)]}


def print_call(result: dict, markdown: bool) -> None:
    n, met = len(result["expectations"]), result["met"]
    print(f"{result['call']} ({result['duration_s']:.0f} s): {met}/{n} expectations met, "
          f"score {result['score']}, {len(result['prompts'])} prompts shown")
    if markdown:
        print("\n| expectation | met | what happened |\n| --- | --- | --- |")
        for r in result["expectations"]:
            print(f"| {r['what']} | {'yes' if r['met'] else '**no**'} | "
                  f"{r['detail'] or ''} |")
        print("\n| prompt shown (s) | kind | reason |\n| ---: | --- | --- |")
        for p in result["prompts"]:
            print(f"| {p['t']:.1f} | {p['kind']} | {p['reason']} |")
        print()
        return
    for r in result["expectations"]:
        if not r["met"]:
            print(f"  MISSED {r['what']}: {r['detail']}")
    for p in result["prompts"]:
        print(f"  prompt at {p['t']:6.1f} s  {p['kind']}: {p['reason']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument("--markdown", action="store_true", help="tables for the README")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    from audio.transcribe import Transcriber

    transcriber = Transcriber()
    transcriber.load()
    results = [run_one(m, transcriber) for m in markings(args.paths)]
    if not results:
        print("no *.trainer.json found", file=sys.stderr)
        return 1
    for result in results:
        print_call(result, args.markdown)
    met = sum(r["met"] for r in results)
    total = sum(len(r["expectations"]) for r in results)
    print(f"all calls: {met}/{total} expectations met")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0 if met == total else 1


if __name__ == "__main__":
    sys.exit(main())
