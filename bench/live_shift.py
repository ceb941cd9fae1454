"""Memory over a shift: several live calls in a row, and one long call.

    .venv/bin/python bench/live_shift.py [--calls 6] [--minutes 2] [--long-minutes 60]
                                         [--speed 4] [--json OUT]

An agent leaves callcoach open all day, so what one call takes must be given back when
it ends, and a long call must not grow without bound. Two runs, in one process:

  1. `--calls` calls of `--minutes` each, one after the other, played through two
     PulseAudio null sinks into `LiveSession` (tiny.en loaded once and transcribing both
     sides, each call written to a call history as `callcoach live` does). Resident
     memory is read after each call ends (and its peak during the call): a shift is flat
     if call N ends where call 2 ended.
  2. One `--long-minutes` call fed from a file through the same live engine at
     `--speed` x real time (no devices: an hour of call in a quarter of the time), memory
     every 5 call-minutes, and what the call's frame timeline costs as kept
     (`FrameTrack` columns) against the plain alternative, one `Frame` object per hop.

Both calls are built from the synthesized test scenarios (see bench/live_latency.py).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live_latency import _rss_mb, build_call  # noqa: E402


def _split(call: Path) -> dict[str, Path]:
    """The stereo call as one file per null sink (agent left, customer right)."""
    import soundfile as sf

    audio, rate = sf.read(call, dtype="float32")
    tracks = {}
    for role, ch in (("agent", 0), ("softphone", 1)):
        tracks[role] = call.with_name(f"{role}.wav")
        sf.write(tracks[role], audio[:, ch], rate)
    return tracks


def run_shift(call: Path, calls: int, history_path: Path, transcriber) -> list[dict]:
    """`calls` live calls in a row through two null sinks; memory after each."""
    from audio.contract import event_to_dict
    from audio.devices import find_device, list_input_devices
    from audio.live_session import LiveSession, SessionConfig
    from coaching.playbook import load_playbook
    from desktop.cli.live_cli import live_document
    from desktop.history.live_recorder import LiveRecorder
    from desktop.history.store import CallHistory
    from tests.pulse_server import ensure_pulse_server, load_null_sink, unload_module

    tracks = _split(call)
    ensure_pulse_server()
    tag = f"shift{os.getpid()}"
    modules = {role: load_null_sink(f"{tag}_{role}") for role in tracks}
    rows = []
    try:
        devices = list_input_devices()
        dev = {r: find_device(f"pulse:{tag}_{r}.monitor", devices) for r in tracks}
        playbook = load_playbook()
        store = CallHistory(history_path)
        gc.collect()
        rows.append({"call": 0, "rss_after_mb": round(_rss_mb(), 1), "peak_in_call_mb": None,
                     "events": None, "note": "model loaded, before the first call"})
        for n in range(1, calls + 1):
            recorder = LiveRecorder(store, lambda m: print(f"history: {m}", file=sys.stderr))
            session = LiveSession(dev["agent"], dev["softphone"], SessionConfig(), playbook,
                                  transcriber, on_event=lambda e, r=recorder: r.event(
                                      event_to_dict(e)))
            recorder.begin(dev["agent"].id, dev["softphone"].id, transcriber.name)
            session.start()
            players = [subprocess.Popen(["paplay", f"--device={tag}_{r}", str(p)])
                       for r, p in tracks.items()]
            peak = 0.0
            while any(p.poll() is None for p in players):
                time.sleep(1.0)
                peak = max(peak, _rss_mb())
                recorder.transcript(session.engine.utterances)
                recorder.progress(session.engine.status().call_time_s)
            time.sleep(1.5)
            result = session.stop()
            recorder.finish(live_document(result, session, transcriber.name))
            events = len(result.events)
            del session, result, recorder
            gc.collect()
            rows.append({"call": n, "rss_after_mb": round(_rss_mb(), 1),
                         "peak_in_call_mb": round(peak, 1), "events": events})
            print(f"  call {n}: {rows[-1]['rss_after_mb']} MB after it ends, peak "
                  f"{rows[-1]['peak_in_call_mb']} MB during it, {events} events", flush=True)
        store.close()
    finally:
        for module in modules.values():
            unload_module(module)
    return rows


def run_long(call: Path, speed: float, transcriber, every_min: float = 5.0) -> dict:
    """One long call from a file through the live engine at `speed` x real time."""
    from audio.file_session import FileSession
    from audio.live_session import SessionConfig
    from coaching.frame_track import FrameTrack
    from coaching.playbook import load_playbook
    from coaching.timeline import Frame

    ended = threading.Event()
    session = FileSession(str(call), SessionConfig(), load_playbook(), transcriber,
                          speed=speed, on_end=ended.set)
    gc.collect()
    samples = [{"call_min": 0.0, "rss_mb": round(_rss_mb(), 1)}]
    session.start()
    next_at = every_min
    while not ended.wait(0.5):
        t = session.engine.status().call_time_s / 60
        if t >= next_at:
            samples.append({"call_min": round(t, 1), "rss_mb": round(_rss_mb(), 1),
                            "backlog": session.engine.status().backlog})
            next_at += every_min
    result = session.stop()
    samples.append({"call_min": round(result.timeline.duration_s / 60, 1),
                    "rss_mb": round(_rss_mb(), 1), "backlog": 0})
    tracks = [result.timeline.agent_frames, result.timeline.customer_frames]
    hops = sum(len(t) for t in tracks if t is not None)
    kept = sum(t.nbytes for t in tracks if isinstance(t, FrameTrack))
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    as_objects = [Frame(*map(_fresh, (f.t, f.dbfs, f.pitch_hz, f.speech_prob)), f.voice,
                        f.in_turn) for t in tracks if t is not None for f in t]
    plain = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del as_objects
    status = session.engine.status()
    return {"call_min": round(result.timeline.duration_s / 60, 1), "speed": speed,
            "samples": samples, "hops": hops, "frames_kept_mb": round(kept / 2**20, 1),
            "frames_as_objects_mb": round(plain / 2**20, 1),
            "dropped_utterances": status.dropped_utterances,
            "transcribed": status.transcribed}


def _fresh(x: float) -> float:
    """A float object of its own, as the analysis makes one per value (not shared)."""
    return float(repr(x))


def report(shift: list[dict] | None, long: dict | None, minutes: float) -> None:
    if shift:
        print(f"\nshift: {len(shift) - 1} live calls of {minutes:g} min in a row (two null "
              "sinks, tiny.en on both sides, each saved to the history)")
        print(f"{'call':>5} {'RSS after MB':>13} {'peak in call MB':>16} {'events':>7}")
        for r in shift:
            peak = "-" if r["peak_in_call_mb"] is None else f"{r['peak_in_call_mb']:.1f}"
            print(f"{r['call']:>5} {r['rss_after_mb']:>13.1f} {peak:>16} "
                  f"{r['events'] if r['events'] is not None else '-':>7}")
        if len(shift) > 3:
            grow = shift[-1]["rss_after_mb"] - shift[2]["rss_after_mb"]
            print(f"after call 2 to after call {len(shift) - 1}: {grow:+.1f} MB")
    if long:
        print(f"\nlong call: {long['call_min']:g} min through the live engine at "
              f"{long['speed']:g}x real time (tiny.en on both sides; "
              f"{long['transcribed']} utterances transcribed, "
              f"{long['dropped_utterances']} dropped)")
        print(f"{'call min':>9} {'RSS MB':>7}")
        for s in long["samples"]:
            print(f"{s['call_min']:>9.1f} {s['rss_mb']:>7.1f}")
        first, last = long["samples"][1], long["samples"][-1]
        span = last["call_min"] - first["call_min"]
        if span > 0:
            print(f"growth from minute {first['call_min']:g} on: "
                  f"{(last['rss_mb'] - first['rss_mb']) / span:.2f} MB per call-minute")
        print(f"the call's frame timeline ({long['hops']} hops): "
              f"{long['frames_kept_mb']} MB as kept (columns) vs "
              f"{long['frames_as_objects_mb']} MB as one Frame object per hop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6, help="live calls in a row")
    parser.add_argument("--minutes", type=float, default=2.0, help="length of each call")
    parser.add_argument("--long-minutes", type=float, default=60.0,
                        help="length of the long call (0: skip it)")
    parser.add_argument("--speed", type=float, default=4.0,
                        help="the long call's pace, x real time")
    parser.add_argument("--json", metavar="OUT", help="also write the figures here")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.chdir(ROOT)
    from audio.transcribe import Transcriber

    transcriber = Transcriber()  # loaded once, as the window does for a whole shift
    transcriber.load()
    shift = long = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.calls > 0:
            (folder / "shift").mkdir()
            call, _, _ = build_call(folder / "shift", args.minutes)
            print(f"shift: {args.calls} calls of {args.minutes:g} min, played live (this "
                  "takes as long as the calls)", flush=True)
            shift = run_shift(call, args.calls, folder / "history.sqlite3", transcriber)
        if args.long_minutes > 0:
            (folder / "long").mkdir()
            call, _, _ = build_call(folder / "long", args.long_minutes)
            print(f"long call: {args.long_minutes:g} min at {args.speed:g}x", flush=True)
            long = run_long(call, args.speed, transcriber)
    report(shift, long, args.minutes)
    if args.json:
        Path(args.json).write_text(json.dumps({"shift": shift, "long": long}, indent=2))


if __name__ == "__main__":
    main()
