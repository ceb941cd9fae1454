"""The timeline model: what the audio layer measures and the coaching rules read.

Everything here is a frozen dataclass so that a timeline can be handed between threads,
stored and replayed, and so that the same timeline always gives the same events.
Times are seconds from the start of the call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AGENT",
    "CUSTOMER",
    "Speaker",
    "Frame",
    "Word",
    "Utterance",
    "SpeechTurn",
    "Redaction",
    "Event",
    "CallTimeline",
    "other",
]

Speaker = Literal["agent", "customer"]
AGENT: Speaker = "agent"
CUSTOMER: Speaker = "customer"


def other(speaker: Speaker) -> Speaker:
    """The other party of a two-party call."""
    return CUSTOMER if speaker == AGENT else AGENT


@dataclass(frozen=True, slots=True)
class Frame:
    """One analysis hop of one speaker's channel.

    Attributes:
        t: start of the hop (s).
        dbfs: RMS loudness of the hop in dBFS (floored at -100).
        pitch_hz: fundamental frequency where the hop is voiced speech, else NaN.
        speech_prob: voice-activity probability (0..1) from the VAD.
        voice: raw voice activity in this hop (probability over the threshold, no hang-over).
        in_turn: inside a speech turn (hang-over applied, so a breath is not a turn end).
        tilt_db: vocal effort where the hop is voiced speech (dB of 1-3.4 kHz over
            0.3-1 kHz: a raised voice puts more energy up high), else NaN.
    """

    t: float
    dbfs: float
    pitch_hz: float
    speech_prob: float
    voice: bool
    in_turn: bool
    tilt_db: float = math.nan

    @property
    def has_pitch(self) -> bool:
        return not math.isnan(self.pitch_hz)


@dataclass(frozen=True, slots=True)
class Word:
    """A transcribed word with its time in the call."""

    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class Utterance:
    """A stretch of one speaker's speech with its transcript (one turn, or part of one)."""

    speaker: Speaker
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True, slots=True)
class SpeechTurn:
    """A continuous stretch of one speaker's voice activity (hang-over applied)."""

    speaker: Speaker
    start: float
    end: float

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True, slots=True)
class Redaction:
    """Personal data taken out of the transcript (and out of kept audio): what kind, whose,
    where. Never its content: an auditor can count these without reading them.

    Attributes:
        kind: "card_number", "security_code", "ssn", ... (coaching.redaction_config.KINDS),
            or "unchecked_audio" for kept audio silenced because it could not be checked.
    """

    kind: str
    speaker: Speaker
    start: float
    end: float


@dataclass(frozen=True)
class Event:
    """Something the engine noticed, with the prompt it gives the agent and why.

    Attributes:
        kind: e.g. "interruption", "raised_voice", "prompt_apologize", "forbidden_phrase".
        speaker: whose behaviour the event is about.
        start, end: the stretch of the call the event covers.
        prompt: the short text shown to the agent ("" for a purely informative event).
        reason: why it fired, with the measured numbers ("+7 dB over your usual level
            for 2 s").
        detected_at: the moment in the audio at which the engine could first tell
            (live latency is measured from here).
        priority: higher wins the prompt card when two prompts compete.
        evidence: the words that triggered it, if any.
        measures: the measured figures behind the reason, by name.
        prompted: whether the prompt policy let the prompt through (cooldowns), i.e.
            whether the agent would have seen it live.
    """

    kind: str
    speaker: Speaker
    start: float
    end: float
    prompt: str
    reason: str
    detected_at: float
    priority: int = 50
    evidence: str = ""
    measures: dict[str, float] = field(default_factory=dict)
    prompted: bool = True

    @property
    def key(self) -> tuple[str, str, float]:
        """Identity across updates: a rule may re-emit an event to extend its end."""
        return (self.kind, self.speaker, round(self.start, 3))


@dataclass(frozen=True)
class CallTimeline:
    """Everything measured about one call, the input of rules and the scorecard.

    `customer_frames` is None in agent-only mode (mono recording or no customer source):
    rules that need the customer's side are then not run rather than guessed.
    """

    hop_s: float
    duration_s: float
    agent_frames: Sequence[Frame]  # a FrameTrack (compact), or a tuple in tests
    customer_frames: Sequence[Frame] | None
    turns: tuple[SpeechTurn, ...] = ()
    utterances: tuple[Utterance, ...] = ()  # redacted: markers in place of personal data
    redactions: tuple[Redaction, ...] = ()

    @property
    def has_customer(self) -> bool:
        return self.customer_frames is not None

    def turns_of(self, speaker: Speaker) -> tuple[SpeechTurn, ...]:
        return tuple(t for t in self.turns if t.speaker == speaker)

    def utterances_of(self, speaker: Speaker) -> tuple[Utterance, ...]:
        return tuple(u for u in self.utterances if u.speaker == speaker)
