"""What understanding the transcript costs `callcoach analyze` on a 10-minute call: the
coaching stage (every rule, every check) run on the call's own transcript with the
playbook's patterns only, with the sentence encoder, and with the encoder and the learned
intents (the shipped playbook), in the same run, plus the encoder's load (done on its own
thread while Whisper transcribes).

    .venv/bin/python bench/phrase_cost.py [--minutes 10] [--repeat 3]

The call is bench/analyze_speed.py's synthesized two-party call; it is transcribed once
(the bundled tiny.en), then `rescore` (the coaching stage of `analyze`) is timed on it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    from analyze_speed import build_call

    from audio.analysis import AnalysisOptions, analyze_recording, rescore
    from audio.sentence_encoder import load_encoder
    from coaching.playbook import load_playbook

    with tempfile.TemporaryDirectory() as tmp:
        call = Path(tmp) / "call.wav"
        duration = build_call(call, args.minutes)
        analysis = analyze_recording(call, AnalysisOptions())
        rec = analysis.recording
    timeline = analysis.timeline
    print(f"call: {duration / 60:.1f} min, {len(timeline.utterances)} utterances; "
          f"{os.cpu_count()} CPU cores")
    t = time.process_time()
    encoder = load_encoder()
    load_cpu = time.process_time() - t
    rows = []
    from dataclasses import replace

    for label, with_encoder, learned in (("patterns only", False, False),
                                         ("patterns + WordLlama", True, False),
                                         ("+ learned (shipped)", True, True)):
        spent = []
        for _ in range(args.repeat):
            playbook = load_playbook()
            if not learned:
                playbook = replace(playbook, learned=None, matcher=None)
            if with_encoder:
                playbook.use_encoder(encoder)
            t = time.process_time()
            rescore(rec, analysis.model_name, timeline, playbook)
            spent.append(time.process_time() - t)
        rows.append((label, min(spent), max(spent)))
    print(f"{'coaching stage':24} {'CPU s (best)':>12} {'CPU s (worst)':>14}")
    for label, best, worst in rows:
        print(f"{label:24} {best:>12.2f} {worst:>14.2f}")
    print(f"encoder load (CPU s, on its own thread during transcription): {load_cpu:.2f}")
    print(f"added by the encoder: {rows[1][1] - rows[0][1]:.2f} s of coaching "
          f"+ {load_cpu:.2f} s of load; by the learned intents: "
          f"{rows[2][1] - rows[1][1]:.2f} s")


if __name__ == "__main__":
    main()
