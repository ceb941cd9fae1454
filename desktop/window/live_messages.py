"""The live engine's messages: what its child process and the window say to each other.

Small frozen dataclasses, pickled over a `multiprocessing` pipe; the same module on both
sides (`live_engine` in the child, `live_worker` in the window), no Qt.

The schema, one pickled message per `send`:
  child to window
    EngineReady(model, problem)       once, first: the model loaded (its name), or None
                                      and why not (calls then run without a transcript)
    CallStarted(agent_label, customer_label, agent_device, customer_device, model,
                redaction, raised_db, practice)   a call's devices are open (or its
                                      file is playing)
    CallFailed(message)               instead of CallStarted: one line for the agent
    Tick(snapshot)                    ~30 a second during a call: a `LiveSnapshot` of
                                      what is new (frames, utterances) and what is now
    Fired(event)                      an `Event` as it fires
    Fault(message, fatal)             a device lost, a file not writable...
    CallEnded(document)               the call's document (schema 1 + latency), or None
                                      when it could not be finished (a Fault says why)
  window to child
    BeginCall(config)                 a `LiveCallConfig`
    EndCall()                         the agent pressed End (a practice file that runs
                                      out ends its call by itself)
    Snooze(kind)                      no more of this prompt for the rest of the call
Closing the pipe ends the engine. An engine that ends on its own crashed:
`LiveEngineProcess.crash_message` says so in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LiveCallConfig", "LiveSnapshot", "EngineReady", "CallStarted", "CallFailed",
           "Tick", "Fired", "Fault", "CallEnded", "BeginCall", "EndCall", "Snooze"]


@dataclass(frozen=True)
class LiveCallConfig:
    """What one call needs, frozen from the settings when the agent presses Start."""

    agent_device: str = ""
    customer_device: str = ""
    playbook_path: str = ""
    transcribe: bool = True
    record_to: str | None = None
    practice_file: str | None = None  # a recording played into the coach instead of devices
    practice_speed: float = 1.0  # x real time for the practice file
    agent_channel: str = "left"


@dataclass(frozen=True)
class LiveSnapshot:
    """What the live page paints on one tick."""

    call_time_s: float
    agent_frames: tuple  # Frames new since the last snapshot
    customer_frames: tuple
    utterances: tuple  # Utterances new since the last snapshot
    baseline_dbfs: float | None
    current_prompt: Any  # Event | None
    backlog: int
    drift: Any = None  # DriftReport of two devices' clocks, once measured (~10 s in)


@dataclass(frozen=True)
class EngineReady:
    model: str | None
    problem: str = ""


@dataclass(frozen=True)
class CallStarted:
    agent_label: str
    customer_label: str  # "" when the agent is coached alone
    agent_device: str  # ids, for the history
    customer_device: str
    model: str  # "none" without a transcript
    redaction: Any  # the playbook's RedactionConfig
    raised_db: float  # the playbook's raised-voice margin: the trace draws its band
    practice: str | None = None  # the recording a practice call plays


@dataclass(frozen=True)
class CallFailed:
    message: str


@dataclass(frozen=True)
class Tick:
    snapshot: LiveSnapshot


@dataclass(frozen=True)
class Fired:
    event: Any


@dataclass(frozen=True)
class Fault:
    message: str
    fatal: bool


@dataclass(frozen=True)
class CallEnded:
    document: dict[str, Any] | None


@dataclass(frozen=True)
class BeginCall:
    config: LiveCallConfig


@dataclass(frozen=True)
class EndCall:
    pass


@dataclass(frozen=True)
class Snooze:
    kind: str
