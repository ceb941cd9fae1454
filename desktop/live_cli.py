"""`callcoach devices` and `callcoach live`: the headless live coach.

Prompts are printed as they fire, with their latency (audio moment the condition became
true to the moment the prompt was emitted); at the end the call is written in the same
JSON schema as `callcoach analyze`, each event with `latency_s`.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

from audio.capture import CaptureFault
from audio.devices import DeviceError, InputDevice, find_device, list_input_devices
from audio.live import LiveConfig
from audio.live_session import LiveSession, SessionConfig
from audio.transcribe import Transcriber, TranscriberConfig
from coaching.playbook import load_playbook
from coaching.timeline import Event

__all__ = ["run_devices", "run_live", "live_document"]


def run_devices() -> int:
    """Print every input a person can choose, by the stable id to pass to `live`."""
    devices = list_input_devices()
    if not devices:
        print("No audio inputs found.", file=sys.stderr)
        return 1
    print(f"{'id (pass to --agent-device / --customer-device)':<56} ch  what")
    for d in devices:
        kind = "captures a playback device" if d.is_monitor else "input"
        print(f"{d.id:<56} {d.channels:>2}  {kind}: {d.label}")
    monitors = [d for d in devices if d.is_monitor]
    if not monitors:
        print("\nNo monitor/loopback input: the customer's side needs one (see the README: "
              "PulseAudio/PipeWire monitor, Stereo Mix or a virtual cable, BlackHole).",
              file=sys.stderr)
    return 0


def _pick(name: str | None, devices: list[InputDevice], want_monitor: bool
          ) -> InputDevice | None:
    if name:
        return find_device(name, devices)
    for d in devices:
        if d.is_monitor == want_monitor and (want_monitor or d.portaudio_name != "pulse"):
            return d
    return None


def live_document(result, session: LiveSession, model: str) -> dict:
    """The call in the schema of `callcoach analyze`, plus latency per event."""
    from audio.contract import event_to_dict

    tl = result.timeline
    events = []
    for e in result.events:
        doc = event_to_dict(e)
        latency = session.engine.latency_of(e)
        doc["latency_s"] = None if latency is None else round(latency, 3)
        events.append(doc)
    return {
        "schema": 1, "recording": "live", "duration_s": round(tl.duration_s, 2),
        "agent_channel": "left", "channels": "stereo" if tl.has_customer else "agent-only",
        "model": model, "skipped_kinds": list(result.skipped_kinds),
        "transcript": [{"speaker": u.speaker, "start": u.start, "end": u.end, "text": u.text}
                       for u in tl.utterances],
        "speech_turns": [{"speaker": t.speaker, "start": t.start, "end": t.end}
                         for t in tl.turns],
        "events": events, "scorecard": result.scorecard.to_dict(),
        "faults": [f.message for f in session.faults],
    }


def run_live(agent: str | None, customer: str | None, duration: float | None,
             json_out: str | None, model: str | None, playbook_path: str | None,
             transcribe: bool = True, quiet: bool = False) -> int:
    devices = list_input_devices()
    agent_dev = _pick(agent, devices, want_monitor=False)
    if agent_dev is None:
        raise DeviceError("no microphone found; name one with --agent-device "
                          "(see `callcoach devices`)")
    customer_dev = _pick(customer, devices, want_monitor=True) if customer != "none" else None
    if customer_dev is None and not quiet:
        print("No customer source: agent-only mode (interruptions, response times and dead "
              "air are not computed).", file=sys.stderr)
    playbook = load_playbook(playbook_path)
    transcriber = None
    if transcribe:
        transcriber = Transcriber(TranscriberConfig(model=model))
        transcriber.load()
    session: LiveSession | None = None

    def show(e: Event) -> None:
        if not quiet and e.prompt:
            lat = session.engine.latency_of(e) if session else None
            shown = "" if e.prompted else " (held back: cooldown)"
            print(f"[{e.detected_at:7.1f} s, +{(lat or 0) * 1000:4.0f} ms] {e.prompt}: "
                  f"{e.reason}{shown}", flush=True)

    def fault(f: CaptureFault) -> None:
        print(f"callcoach: device problem: {f.device_id}: {f.message}", file=sys.stderr)

    session = LiveSession(agent_dev, customer_dev,
                          SessionConfig(live=LiveConfig(transcribe=transcribe)), playbook,
                          transcriber, on_event=show, on_fault=fault)
    session.start()
    if not quiet:
        print(f"Listening: agent = {agent_dev.label}; customer = "
              f"{customer_dev.label if customer_dev else 'none'}. Ctrl+C ends the call.",
              file=sys.stderr)
    done = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        done.wait(duration)
    finally:
        signal.signal(signal.SIGINT, previous)
    t0 = time.monotonic()
    result = session.stop()
    doc = live_document(result, session, transcriber.name if transcriber else "none")
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if json_out:
        Path(json_out).write_text(text, encoding="utf-8")
    elif quiet:
        sys.stdout.write(text)
    if not quiet:
        score = result.scorecard.score
        print(f"Call ended: {result.timeline.duration_s:.0f} s, score "
              f"{'-' if score is None else score}/100 (finished in "
              f"{time.monotonic() - t0:.1f} s).", file=sys.stderr)
    return 0
