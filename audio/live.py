"""The live engine: both parties' audio in small blocks, prompts out as they become due.

The same per-channel analysers and the same coaching engine as `audio.analysis`, run
incrementally: every block is analysed once, hop by hop, and per-hop work does not grow
with the call. Each utterance is transcribed on its own worker thread when it ends, so
transcription can fall behind without ever delaying an acoustic cue; the backlog is
visible in `status()`. Every transcript goes through the redactor before anything else
sees it (the rules, `utterances`, the window, the history): card numbers and the other
personal data never leave this module as text. For kept audio the engine says how far
the call is decided (`audio_cleared_until`) and what to silence (`silence_spans`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from audio.channel import ChannelAnalyzer, ChannelConfig
from audio.frames import HOP_S
from audio.kept_audio import unheard_spans
from audio.recording import SAMPLE_RATE
from audio.sentence_encoder import attach_encoder
from audio.transcribe import Transcriber
from coaching.engine import CoachingEngine
from coaching.frame_track import FrameTrack
from coaching.playbook import Playbook
from coaching.redactor import Redactor, SilenceSpan
from coaching.scorecard import Scorecard, build_scorecard
from coaching.timeline import AGENT, CUSTOMER, CallTimeline, Event, Frame, SpeechTurn, Utterance
from coaching.voice_rules import RaisedVoiceRule

__all__ = ["LiveConfig", "LiveStatus", "LiveEngine", "LiveResult"]

_PAD_BEFORE_S, _PAD_AFTER_S = 0.1, 0.2


@dataclass(frozen=True)
class LiveConfig:
    """What a live session needs to know up front; frozen, handed to the worker."""

    has_customer: bool = True
    transcribe: bool = True
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    keep_audio_s: float = 120.0  # per channel, for cutting utterances to transcribe
    max_backlog: int = 64  # utterances waiting for Whisper before the oldest is dropped


@dataclass(frozen=True)
class LiveStatus:
    call_time_s: float
    backlog: int  # utterances waiting for transcription
    dropped_utterances: int
    transcribed: int


@dataclass(frozen=True)
class LiveResult:
    timeline: CallTimeline
    events: tuple[Event, ...]
    scorecard: Scorecard
    skipped_kinds: tuple[str, ...]
    silenced: tuple[SilenceSpan, ...] = ()  # what kept audio has silent (redacted, unchecked)


class _Track:
    """One party: its analyser, the recent audio, and its frames so far."""

    def __init__(self, speaker: str, config: LiveConfig) -> None:
        self.speaker = speaker
        self.analyzer = ChannelAnalyzer(speaker, config.channel)
        self.audio: deque[np.ndarray] = deque()
        self.audio_start = 0  # absolute sample index of the first kept sample
        self.received = 0
        self.keep = int(config.keep_audio_s * SAMPLE_RATE)
        self.pending: deque[Frame] = deque()
        self.frames = FrameTrack()  # the whole call, compact
        self.turns: list[SpeechTurn] = []

    def add_audio(self, block: np.ndarray) -> None:
        self.audio.append(block)
        self.received += len(block)
        kept = self.received - self.audio_start
        while self.audio and kept - len(self.audio[0]) >= self.keep:
            kept -= len(self.audio[0])
            self.audio_start += len(self.audio.popleft())

    def clip(self, start_s: float, end_s: float) -> tuple[np.ndarray, float]:
        """The kept audio between two call times (clamped to what is kept), copying only
        the blocks that overlap it."""
        a = max(self.audio_start, int(start_s * SAMPLE_RATE))
        b = min(self.received, int(end_s * SAMPLE_RATE))
        pieces, pos = [], self.audio_start
        for block in self.audio:
            lo, hi = max(a, pos), min(b, pos + len(block))
            if lo < hi:
                pieces.append(block[lo - pos:hi - pos])
            pos += len(block)
            if pos >= b:
                break
        clip = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return clip, a / SAMPLE_RATE


class LiveEngine:
    """Feed it blocks with `push`; it calls `on_event` for every new event, in audio order.

    `push` is meant for one worker thread (the one that reads the capture buffers); the
    transcription runs on a second thread that this engine owns.
    """

    def __init__(self, config: LiveConfig, playbook: Playbook,
                 transcriber: Transcriber | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.playbook = playbook
        self.on_event = on_event or (lambda e: None)
        self.clock = clock
        self.engine = CoachingEngine(
            playbook, HOP_S, config.has_customer,
            transcript_expected=transcriber is not None and config.transcribe)
        # phrases match by meaning as soon as the sentence encoder has loaded (on its own
        # thread; the call does not wait for it)
        self.encoder = attach_encoder(playbook) if config.transcribe else None
        self.tracks = {AGENT: _Track(AGENT, config)}
        if config.has_customer:
            self.tracks[CUSTOMER] = _Track(CUSTOMER, config)
        self.utterances: list[Utterance] = []  # redacted, as they became final
        self.redactor = Redactor(playbook.redaction)
        self._unheard: list[SilenceSpan] = []  # speech no transcript covers
        self._jobs: dict[int, tuple[str, float, float]] = {}  # sent to Whisper, not back
        self._job_id = 0
        self.latencies: dict[tuple, float] = {}
        self.transcript_latencies: list[float] = []
        self._t = 0.0
        self._dropped = 0
        self._transcriber = transcriber if config.transcribe else None
        self._todo: queue.Queue = queue.Queue(maxsize=config.max_backlog)
        self._done: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._audio_zero: float | None = None  # clock() at call time 0
        if self._transcriber is not None:
            self._worker = threading.Thread(target=self._transcribe_loop, daemon=True,
                                            name="callcoach-transcribe")
            self._worker.start()

    # -- transcription thread -------------------------------------------------------
    def _transcribe_loop(self) -> None:
        while True:
            job = self._todo.get()
            if job is None:
                self._todo.task_done()
                return
            job_id, speaker, audio, offset = job
            try:
                u = self._transcriber.transcribe_utterance(audio, speaker, offset)
            except Exception:  # noqa: BLE001 - one bad utterance must not end the call
                u = None
            self._done.put((job_id, u))  # None too: its audio was not checked
            self._todo.task_done()

    def _submit(self, track: _Track, turn: SpeechTurn) -> None:
        if self._transcriber is None:
            return
        audio, offset = track.clip(turn.start - _PAD_BEFORE_S, turn.end + _PAD_AFTER_S)
        self._job_id += 1
        job = (self._job_id, track.speaker, audio, offset)
        self._jobs[self._job_id] = (track.speaker, offset, offset + len(audio) / SAMPLE_RATE)
        try:
            self._todo.put_nowait(job)
        except queue.Full:  # Whisper is far behind: drop the oldest, keep the newest
            try:
                old = self._todo.get_nowait()
                self._todo.task_done()
                self._dropped += 1
                self._unheard += unheard_spans(*self._jobs.pop(old[0]))
            except queue.Empty:
                pass
            self._todo.put_nowait(job)

    # -- analysis (the caller's worker thread) ------------------------------------------
    def _emit(self, events: list[Event]) -> None:
        now = self.clock()
        for e in events:
            if self._audio_zero is not None:
                self.latencies[e.key] = max(0.0, now - (self._audio_zero + e.detected_at))
            self.on_event(e)

    def _deliver_transcripts(self) -> None:
        while True:
            try:
                job_id, raw = self._done.get_nowait()
            except queue.Empty:
                break
            speaker, start, end = self._jobs.pop(job_id)
            self._unheard += unheard_spans(speaker, start, end, raw.words if raw else ())
            if raw is None:
                continue
            try:
                released = self.redactor.feed(raw)
            except Exception:  # noqa: BLE001 - a fault must neither end the call nor leak:
                released = []  # the utterance is dropped and its audio not kept
                self._unheard += unheard_spans(speaker, start, end)
            for u in released:
                self._accept(u)
        for speaker in self.tracks:
            try:
                released = self.redactor.tick(self._heard_until(speaker), speaker)
            except Exception:  # noqa: BLE001 - as above
                released = []
            for u in released:
                self._accept(u)

    def _heard_until(self, speaker: str) -> float:
        """Call time up to which all of `speaker`'s speech is transcribed."""
        until = [self._t]
        since = self.tracks[speaker].analyzer.speech_since
        if since is not None:
            until.append(since)
        until += [start for spk, start, _ in self._jobs.values() if spk == speaker]
        return min(until)

    def _accept(self, u: Utterance) -> None:
        """A redacted utterance, final: the transcript, the rules and the window get it."""
        self.utterances.append(u)
        if self._audio_zero is not None:  # utterance end to its transcript, live
            self.transcript_latencies.append(self.clock() - (self._audio_zero + u.end))
        self._emit(self.engine.on_utterance(u, max(self._t, u.end)))

    def audio_cleared_until(self) -> float:
        """Call time before which the audio's redactions are final: nothing earlier is
        still being heard, transcribed or held back by the redactor."""
        until = [self._t]
        for track in self.tracks.values():
            since = track.analyzer.speech_since
            if since is not None:
                until.append(since - _PAD_BEFORE_S)
        until += [start for _, start, _ in self._jobs.values()]
        held = self.redactor.pending_since()
        if held is not None:
            until.append(held)
        return max(0.0, min(until))

    @property
    def checks_speech(self) -> bool:
        """Whether speech is transcribed, so that kept audio can be redacted at all."""
        return self._transcriber is not None

    def silence_spans(self) -> tuple[SilenceSpan, ...]:
        """What kept audio must have silent: redacted words and speech nobody checked."""
        return self.redactor.silence_spans + tuple(self._unheard)

    def push(self, agent: np.ndarray, customer: np.ndarray | None = None,
             audio_zero: float | None = None) -> None:
        """Analyse the next block of each party (same length when both are given).

        Args:
            audio_zero: clock() at call time 0, for latency; set once, on the first push.
        """
        if audio_zero is not None and self._audio_zero is None:
            self._audio_zero = audio_zero
        blocks = {AGENT: agent}
        if self.config.has_customer:
            blocks[CUSTOMER] = customer if customer is not None else np.zeros_like(agent)
        for speaker, block in blocks.items():
            track = self.tracks[speaker]
            track.add_audio(np.asarray(block, dtype=np.float32))
            update = track.analyzer.push(block)
            track.pending.extend(update.frames)
            for turn in update.closed_turns:
                track.turns.append(turn)
                self._submit(track, turn)
        self._step()
        self._deliver_transcripts()

    def _step(self) -> None:
        agent = self.tracks[AGENT]
        customer = self.tracks.get(CUSTOMER)
        n = len(agent.pending) if customer is None else min(len(agent.pending),
                                                            len(customer.pending))
        for _ in range(n):
            a = agent.pending.popleft()
            c = customer.pending.popleft() if customer is not None else None
            agent.frames.append(a)
            if c is not None:
                customer.frames.append(c)
            self._t = a.t + HOP_S
            found = self.engine.on_hop(a, c)
            if found:
                self._emit(found)

    def status(self) -> LiveStatus:
        return LiveStatus(self._t, self._todo.qsize(), self._dropped, len(self.utterances))

    def finish(self) -> LiveResult:
        """The call ended: analyse what is buffered, transcribe what is pending, score."""
        for track in self.tracks.values():
            update = track.analyzer.flush()
            track.pending.extend(update.frames)
            for turn in update.closed_turns:
                track.turns.append(turn)
                self._submit(track, turn)
        self._step()
        if self._worker is not None:
            self._todo.join()
            self._todo.put(None)
            self._worker.join()
        self._deliver_transcripts()
        for u in self.redactor.flush():
            self._accept(u)
        duration = self.tracks[AGENT].received / SAMPLE_RATE
        self._emit(self.engine.finish(duration))
        turns = sorted((t for tr in self.tracks.values() for t in tr.turns),
                       key=lambda t: (t.start, t.speaker))
        customer = self.tracks.get(CUSTOMER)
        timeline = CallTimeline(
            hop_s=HOP_S, duration_s=duration, agent_frames=self.tracks[AGENT].frames,
            customer_frames=customer.frames if customer is not None else None,
            turns=tuple(turns), utterances=tuple(sorted(self.utterances,
                                                        key=lambda u: (u.start, u.speaker))),
            redactions=self.redactor.redactions)
        events = self.engine.events
        return LiveResult(timeline, events, build_scorecard(timeline, events, self.playbook),
                          self.engine.skipped_kinds, self.silence_spans())

    def snooze(self, kind: str) -> None:
        """No more prompts of this kind for the rest of the call (the agent asked)."""
        self.engine.policy.snooze(kind)

    def current_prompt(self) -> Event | None:
        """The event whose prompt the card should show now (cooldowns and holds applied)."""
        return self.engine.policy.current(self._t)

    def agent_baseline_dbfs(self) -> float | None:
        """The agent's usual loudness so far, the band the window draws (None at first)."""
        for rule in self.engine.rules:
            if isinstance(rule, RaisedVoiceRule):
                return rule.baseline_dbfs
        return None

    def latency_of(self, event: Event) -> float | None:
        return self.latencies.get(event.key)

