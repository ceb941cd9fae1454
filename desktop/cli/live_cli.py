"""`callcoach devices` and `callcoach live`: the headless live coach.

Prompts are printed as they fire, with their latency (audio moment the condition became
true to the moment the prompt was emitted); at the end the call is written in the same
JSON schema as `callcoach analyze`, each event with `latency_s`.

Unless `--no-history`, the call also goes into the call history as it happens (each event
as it fires, the transcript every second), so a crash loses seconds, not the call; the
next start stores such an interrupted call as "recovered" and says so.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from audio.capture import CaptureFault
from audio.devices import DeviceError, InputDevice, find_device, list_input_devices, pick_device
from audio.live import LiveConfig
from audio.live_session import LiveSession, SessionConfig
from audio.transcribe import Transcriber, TranscriberConfig
from coaching.playbook import load_playbook
from coaching.timeline import Event
from desktop.history.live_recorder import LiveRecorder, utterance_dict
from desktop.history.store import CallHistory, HistoryError

__all__ = ["run_devices", "run_live", "live_document", "open_history"]

_POLL_S = 1.0  # how often new transcript lines are written to the history


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


def _stereo_device(name: str, devices: list[InputDevice]) -> InputDevice:
    """The named device, if it has the two channels that one-party-per-channel needs."""
    device = find_device(name, devices)
    if device.channels < 2:
        raise DeviceError(f"{device.label} has {device.channels} input channel; a stereo "
                          "device (agent on one channel, customer on the other) needs 2")
    return device


def _say_history_error(message: str) -> None:
    print(f"callcoach: {message}", file=sys.stderr)


def open_history() -> CallHistory | None:
    """The call history, after storing the calls a crash interrupted (one line says so).

    A history that cannot be opened is reported in one line and the call runs unsaved.
    """
    try:
        store = CallHistory()
        recovered = [store.recover(c.id) for c in store.unfinished_calls()]
    except HistoryError as exc:
        print(f"callcoach: this call will not be saved: {exc}", file=sys.stderr)
        return None
    if recovered:
        ids = ", ".join(str(i) for i in recovered)
        print(f"callcoach: recovered {len(recovered)} call{'s' if len(recovered) > 1 else ''} "
              f"interrupted by a crash into the history (id {ids})", file=sys.stderr)
    return store


def live_document(result, session: LiveSession, model: str) -> dict:
    """The call in the schema of `callcoach analyze`, plus latency per event."""
    from audio.contract import event_to_dict, redaction_to_dict

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
        "notes": list(session.engine.playbook.redaction.notes),
        "redaction": session.engine.playbook.redaction.to_dict(),
        "redactions": [redaction_to_dict(r) for r in tl.redactions],
        "transcript": [utterance_dict(u) for u in tl.utterances],
        "speech_turns": [{"speaker": t.speaker, "start": t.start, "end": t.end}
                         for t in tl.turns],
        "events": events, "scorecard": result.scorecard.to_dict(),
        "faults": [f.message for f in session.faults],
        "clock_drift": _drift_dict(getattr(session, "drift", None)),
    } | ({"audio_silenced": _silenced(result.silenced)} if getattr(session, "kept_audio", None)
         else {})


def _silenced(spans) -> dict[str, Any]:
    """What the kept audio has silent, for an auditor: how much, and why (no content)."""
    by_reason: dict[str, float] = {}
    for s in spans:
        by_reason[s.reason] = by_reason.get(s.reason, 0.0) + max(0.0, s.end - s.start)
    return {"stretches": len(spans),
            "seconds_by_reason": {k: round(v, 2) for k, v in sorted(by_reason.items())}}


def _drift_dict(drift) -> dict[str, Any] | None:
    """Two devices' clocks as measured (None: one device, or too short a call to say)."""
    if drift is None:
        return None
    return {"customer_vs_agent_ppm": round(drift.ppm, 1), "agent_ppm": round(drift.agent_ppm, 1),
            "customer_ppm": round(drift.customer_ppm, 1),
            "adjusted_samples": drift.adjusted_samples}


def run_live(agent: str | None, customer: str | None, duration: float | None,
             json_out: str | None, model: str | None, playbook_path: str | None,
             transcribe: bool = True, quiet: bool = False, history: bool = True,
             stereo: str | None = None, agent_side: str = "left") -> int:
    """Coach one live call until Ctrl+C or `duration` seconds; 0 when it ended normally.

    With `history`, the call is written to the call history as it happens (and calls a
    crash interrupted earlier are recovered first). With `stereo`, one device carries both
    parties, the agent on `agent_side` ("left" or "right") and the customer on the other.
    """
    from audio.contract import event_to_dict

    devices = list_input_devices()
    channels: dict[str, int] = {}
    if stereo:
        agent_dev = customer_dev = _stereo_device(stereo, devices)
        agent_ch = 0 if agent_side == "left" else 1
        channels = {"agent_channel": agent_ch, "customer_channel": 1 - agent_ch}
    else:
        agent_dev = pick_device(agent, devices, want_monitor=False)
        if agent_dev is None:
            raise DeviceError("no microphone found; name one with --agent-device "
                              "(see `callcoach devices`)")
        customer_dev = (pick_device(customer, devices, want_monitor=True)
                        if customer != "none" else None)
    if customer_dev is None and not quiet:
        print("No customer source: agent-only mode (interruptions, response times and dead "
              "air are not computed).", file=sys.stderr)
    recorder = LiveRecorder(open_history() if history else None, _say_history_error)
    playbook = load_playbook(playbook_path)
    transcriber = None
    if transcribe:
        transcriber = Transcriber(TranscriberConfig(model=model))
        transcriber.load()
    session: LiveSession | None = None

    def show(e: Event) -> None:  # on the live worker thread
        lat = session.engine.latency_of(e) if session else None
        if recorder.call_id is not None:
            doc = event_to_dict(e)
            doc["latency_s"] = None if lat is None else round(lat, 3)
            recorder.event(doc)
        if not quiet and e.prompt:
            shown = "" if e.prompted else " (held back: cooldown)"
            print(f"[{e.detected_at:7.1f} s, +{(lat or 0) * 1000:4.0f} ms] {e.prompt}: "
                  f"{e.reason}{shown}", flush=True)

    def fault(f: CaptureFault) -> None:
        print(f"callcoach: device problem: {f.device_id}: {f.message}", file=sys.stderr)

    session = LiveSession(agent_dev, None if stereo else customer_dev,
                          SessionConfig(live=LiveConfig(transcribe=transcribe)), playbook,
                          transcriber, on_event=show, on_fault=fault, **channels)
    model_name = transcriber.name if transcriber else "none"
    recorder.begin(agent_dev.id, customer_dev.id if customer_dev else "", model_name,
                   playbook.redaction)
    try:
        session.start()
    except BaseException:
        recorder.discard()
        raise
    if not quiet:
        if stereo:
            sides = ("left", "right") if agent_side == "left" else ("right", "left")
            who = (f"agent = {agent_dev.label} ({sides[0]}); customer = the same device "
                   f"({sides[1]})")
        else:
            who = (f"agent = {agent_dev.label}; customer = "
                   f"{customer_dev.label if customer_dev else 'none'}")
        print(f"Listening: {who}. Ctrl+C ends the call.", file=sys.stderr)
    done = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: done.set())
    deadline = None if duration is None else time.monotonic() + duration
    try:
        while True:
            wait = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            if wait <= 0 or done.wait(wait):
                break
            recorder.transcript(session.engine.utterances)
            recorder.progress(session.engine.status().call_time_s)
    finally:
        signal.signal(signal.SIGINT, previous)
    t0 = time.monotonic()
    result = session.stop()
    doc = live_document(result, session, model_name)
    recorder.finish(doc)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if json_out:
        Path(json_out).write_text(text, encoding="utf-8")
    elif quiet:
        sys.stdout.write(text)
    if not quiet:
        for note in doc["notes"]:
            print(f"  note: {note}", file=sys.stderr)
        score = result.scorecard.score
        print(f"Call ended: {result.timeline.duration_s:.0f} s, score "
              f"{'-' if score is None else score}/100 (finished in "
              f"{time.monotonic() - t0:.1f} s).", file=sys.stderr)
        drift = session.drift
        if drift is not None:
            print(f"The customer device's clock ran {drift.ppm:+.0f} ppm against the "
                  f"agent's; {abs(drift.adjusted_samples)} samples "
                  f"{'dropped' if drift.adjusted_samples >= 0 else 'repeated'} to keep them "
                  "together.", file=sys.stderr)
    return 0
