"""Live coaching of a long call through a real sound server: latency, CPU, memory, backlog.

    .venv/bin/python bench/live_latency.py [--minutes 10] [--no-compare] [--json OUT]

Builds a two-party call from the synthesized test scenarios (angry, calm, angry, dead
air, angry, backchannel, ... until `--minutes`), plays the agent's track into one
PulseAudio null sink and the customer's into another with paplay, and runs `LiveSession`
on both monitors with tiny.en transcribing both sides, as `callcoach live` does. It
reports what an agent on a shift would feel and what the machine pays:
  - prompt latency per kind (acoustic cues: from the audio moment the condition became
    true; phrase prompts: from the end of the utterance that said it) and transcript
    latency (an utterance's end to its text), median / 95th percentile;
  - CPU time of this process over the call, as % of one core (paplay and the sound
    server are other processes, not counted);
  - resident memory every few seconds (the 2nd minute against the last: flat or not);
  - the transcription backlog, and how far the acoustic analysis lags the audio;
  - with the call's events, how many of the scripted interruptions and raised voices
    were found;
and, unless `--no-compare`, the same file through `callcoach analyze` after the call.
The wall clock matters here: the run takes as long as the call.
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

_ORDER = ("angry", "calm", "angry", "dead_air", "angry", "backchannel")
_COUNTED = {"interruptions": "interruption", "raised_voice": "raised_voice",
            "dead_air": "dead_air"}


def build_call(folder: Path, minutes: float) -> tuple[Path, float, dict[str, int]]:
    """Whole scenarios end to end until `minutes`: (stereo file, seconds, expected counts)."""
    import numpy as np
    import soundfile as sf

    from tests.calls import angry_call, backchannel_call, calm_call, dead_air_call
    from tests.callsynth import synth_call

    scenarios = {s.name: s for s in (angry_call(), calm_call(), dead_air_call(),
                                     backchannel_call())}
    made = {}
    for name, scenario in scenarios.items():
        call = synth_call(scenario.lines, folder / f"{name}.wav")
        made[name] = (sf.read(call.path, dtype="float32")[0], scenario.expect_for(call))
    parts, expected, total, i = [], dict.fromkeys(_COUNTED, 0), 0, 0
    while total < minutes * 60 * 16000:
        audio, truth = made[_ORDER[i % len(_ORDER)]]
        parts.append(audio)
        total += len(audio)
        for key in expected:
            expected[key] += truth[key]
        i += 1
    path = folder / "call.wav"
    sf.write(path, np.concatenate(parts), 16000)
    return path, total / 16000, expected


def _from_transcript(kind: str) -> bool:
    """Kinds the phrase rules emit when a transcript arrives (see coaching.phrase_rules)."""
    return kind.startswith("prompt_") or kind in ("forbidden_phrase", "fast_speech")


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def run_live(call: Path, sample_s: float) -> dict:
    """Play `call` through two null sinks into a LiveSession; everything measured."""
    import soundfile as sf

    from audio.devices import find_device, list_input_devices
    from audio.live_session import LiveSession, SessionConfig
    from audio.transcribe import Transcriber
    from coaching.playbook import load_playbook
    from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

    audio, rate = sf.read(call, dtype="float32")
    tracks = {}
    for role, ch in (("agent", 0), ("softphone", 1)):
        tracks[role] = call.with_name(f"{role}.wav")
        sf.write(tracks[role], audio[:, ch], rate)
    ensure_pulse_server()
    tag = f"bench{os.getpid()}"
    modules = {role: load_null_sink(f"{tag}_{role}") for role in tracks}
    try:
        devices = list_input_devices()
        dev = {r: find_device(f"pulse:{tag}_{r}.monitor", devices) for r in tracks}
        transcriber = Transcriber()
        transcriber.load()
        emitted: list[tuple[object, float, float | None]] = []

        def note(event) -> None:  # on the session's worker, right after the emission
            end = None
            if _from_transcript(event.kind):  # emitted for the utterance just delivered
                end = session.engine.utterances[-1].end
            emitted.append((event, time.monotonic(), end))

        session = LiveSession(dev["agent"], dev["softphone"], SessionConfig(),
                              load_playbook(), transcriber, on_event=note)
        cpu0, wall0 = time.process_time(), time.monotonic()
        session.start()
        players = [subprocess.Popen(["paplay", f"--device={tag}_{r}", str(p)])
                   for r, p in tracks.items()]
        samples = []
        while any(p.poll() is None for p in players):
            time.sleep(sample_s)
            status = session.engine.status()
            now = time.monotonic()
            lag = (now - session.started_at - status.call_time_s) if session.started_at else 0
            samples.append({"t": now - wall0, "cpu": time.process_time() - cpu0,
                            "rss_mb": _rss_mb(), "backlog": status.backlog,
                            "transcribed": status.transcribed, "lag_s": lag,
                            "dropped": status.dropped_utterances})
        time.sleep(1.5)  # the tail of the last utterance
        played_wall, played_cpu = time.monotonic() - wall0, time.process_time() - cpu0
        stop_at = time.monotonic()
        result = session.stop()
        finish_s = time.monotonic() - stop_at
        drift = session.drift
    finally:
        for module in modules.values():
            unload_module(module)
    return {"session": session, "result": result, "emitted": emitted, "stop_at": stop_at,
            "samples": samples, "wall_s": played_wall, "cpu_s": played_cpu,
            "finish_s": finish_s, "peak_rss_mb": _rss_mb("VmHWM"), "drift": drift,
            "faults": [f.message for f in session.faults]}


def summarize(run: dict, expected: dict[str, int]) -> dict:
    """The figures of one run, as printed and as written with --json."""
    session, result = run["session"], run["result"]
    by_kind: dict[str, list[float]] = {}
    after_call = 0
    zero = session.started_at
    for event, at, utterance_end in run["emitted"]:
        if not event.prompt:
            continue
        if at >= run["stop_at"]:  # emitted while finishing: not a live prompt
            after_call += 1
            continue
        # Acoustic prompts: from the moment the condition became true (the engine's own
        # figure). Phrase prompts: from the end of the utterance that carried the words,
        # so Whisper's time is in it (the engine counts from the transcript's arrival).
        latency = (session.engine.latency_of(event) if utterance_end is None
                   else at - (zero + utterance_end))
        if latency is not None:
            by_kind.setdefault(event.kind, []).append(latency)
    prompts = {k: {"n": len(v), "median_s": round(_pct(v, 50), 3),
                   "p95_s": round(_pct(v, 95), 3), "max_s": round(max(v), 3)}
               for k, v in sorted(by_kind.items())}
    tl = session.engine.transcript_latencies
    samples = run["samples"]
    minutes = []
    for m in range(int(samples[-1]["t"] // 60) + 1 if samples else 0):
        inside = [s for s in samples if m * 60 <= s["t"] < (m + 1) * 60]
        if not inside:
            continue
        before = [s for s in samples if s["t"] < m * 60]
        cpu0, t0 = (before[-1]["cpu"], before[-1]["t"]) if before else (0.0, 0.0)
        last = inside[-1]
        minutes.append({"minute": m + 1,
                        "cpu_pct": round(100 * (last["cpu"] - cpu0) / (last["t"] - t0), 1),
                        "rss_mb": round(last["rss_mb"]),
                        "backlog_max": max(s["backlog"] for s in inside),
                        "lag_max_s": round(max(s["lag_s"] for s in inside), 2),
                        "transcribed": last["transcribed"]})
    found = {key: sum(e.kind == kind for e in result.events) for key, kind in _COUNTED.items()}
    drift = run["drift"]
    return {
        "call_s": round(result.timeline.duration_s, 1), "prompts": prompts,
        "prompts_after_call": after_call,
        "transcript": {"n": len(tl), "median_s": round(_pct(tl, 50), 3),
                       "p95_s": round(_pct(tl, 95), 3),
                       "max_s": round(max(tl), 3) if tl else None},
        "cpu_pct": round(100 * run["cpu_s"] / run["wall_s"], 1),
        "cpu_s": round(run["cpu_s"], 1), "finish_s": round(run["finish_s"], 2),
        "rss_min2_mb": minutes[1]["rss_mb"] if len(minutes) > 1 else None,
        "rss_end_mb": round(samples[-1]["rss_mb"]) if samples else None,
        "peak_rss_mb": round(run["peak_rss_mb"]),
        "backlog_max": max((s["backlog"] for s in samples), default=0),
        "dropped_utterances": samples[-1]["dropped"] if samples else 0,
        "minutes": minutes, "found": found, "expected": expected,
        "drift_ppm": None if drift is None else round(drift.ppm, 1),
        "faults": run["faults"],
    }


def analyze_time(call: Path) -> dict:
    """`callcoach analyze` on the same file, as a user would run it after the call."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "desktop.cli", "analyze", str(call), "-q",
                    "--json", os.devnull], check=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(time.monotonic() - t0, 1), "cpu_s": round(cpu, 1)}


def report(s: dict, duration: float, analyze: dict | None) -> None:
    print(f"\ncall: {duration / 60:.1f} min, live through two PulseAudio null sinks, tiny.en "
          f"(int8, 2 threads) on both sides; {os.cpu_count()} CPU cores")
    print(f"\n{'prompt kind':<24} {'n':>4} {'median s':>9} {'p95 s':>7} {'max s':>7}")
    for kind, p in s["prompts"].items():
        print(f"{kind:<24} {p['n']:>4} {p['median_s']:>9.3f} {p['p95_s']:>7.3f} "
              f"{p['max_s']:>7.3f}")
    t = s["transcript"]
    print(f"{'transcript (utterance)':<24} {t['n']:>4} {t['median_s']:>9.3f} "
          f"{t['p95_s']:>7.3f} {t['max_s'] or 0:>7.3f}")
    if s["prompts_after_call"]:
        print(f"({s['prompts_after_call']} prompts came when the call was finished, not "
              "counted)")
    print("\nfound / scripted: " + ", ".join(
        f"{k} {s['found'][k]}/{s['expected'][k]}" for k in s["expected"]))
    print(f"\nCPU over the call: {s['cpu_pct']:.1f}% of one core ({s['cpu_s']:.0f} s CPU); "
          f"after the call: {s['finish_s']:.2f} s to finish and score")
    print(f"memory: {s['rss_min2_mb']} MB at minute 2, {s['rss_end_mb']} MB at the end, "
          f"peak {s['peak_rss_mb']} MB (model load included)")
    print(f"transcription backlog: max {s['backlog_max']} utterances, "
          f"{s['dropped_utterances']} dropped; clock drift {s['drift_ppm']} ppm; "
          f"faults: {s['faults'] or 'none'}")
    print(f"\n{'minute':>6} {'CPU %':>6} {'RSS MB':>7} {'backlog max':>12} {'lag max s':>10} "
          f"{'transcribed':>12}")
    for m in s["minutes"]:
        print(f"{m['minute']:>6} {m['cpu_pct']:>6.1f} {m['rss_mb']:>7} {m['backlog_max']:>12} "
              f"{m['lag_max_s']:>10.2f} {m['transcribed']:>12}")
    if analyze:
        print(f"\ncallcoach analyze on the same file after the call: {analyze['wall_s']:.1f} s "
              f"wall, {analyze['cpu_s']:.1f} s CPU (live: {s['cpu_s']:.0f} s CPU spread over "
              f"the call, {s['finish_s']:.2f} s after it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="length of the call (whole scenarios; default 10)")
    parser.add_argument("--sample-s", type=float, default=2.0,
                        help="how often CPU, memory and backlog are sampled")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip `callcoach analyze` on the same file")
    parser.add_argument("--json", metavar="OUT", help="also write the figures here")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        call, duration, expected = build_call(Path(tmp), args.minutes)
        print(f"built a {duration / 60:.1f}-minute call; playing it live (this takes as long "
              "as the call)", flush=True)
        figures = summarize(run_live(call, args.sample_s), expected)
        analyze = None if args.no_compare else analyze_time(call)
    report(figures, duration, analyze)
    if args.json:
        Path(args.json).write_text(json.dumps({**figures, "analyze": analyze}, indent=2))


if __name__ == "__main__":
    main()
