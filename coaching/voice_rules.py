"""Raised voice, measured against the speaker's own running baseline.

Never an absolute level: headsets, gains and voices differ by 20 dB, so a fixed threshold
would nag the loud-mic agent and miss the quiet one. Each speaker's baseline is the
median loudness of their voiced speech over the last `baseline_window_s` of it; the
voice is raised when their last `raised_voice_min_s` of speech sits `raised_voice_db`
over it. Pitch rise is reported as supporting evidence.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from coaching.rolling import RollingMedian
from coaching.rule import Hop, Rule
from coaching.timeline import AGENT, CUSTOMER, Event, Speaker

__all__ = ["RaisedVoiceRule", "CustomerRaisedVoiceRule"]

_RECOMPUTE_EVERY = 16  # hops (0.25 s): the baseline moves slowly, no need to re-sort often
_RELEASE_DB = 2.0  # hysteresis: an open event ends once the voice is this much lower
_CHECK_EVERY = 4  # voiced hops (64 ms) between looks at the window: latency stays tiny
_SUSTAIN_DIP_DB = 3.0  # how far under the raised level a quiet quarter of the window may dip
_PAUSE_ENDS_S = 1.0  # a pause this long closes a raised stretch
_BOUNDARY_S = 0.25  # a gap between voiced hops this long separates two utterances


class _RaisedVoice(Rule):
    speaker: Speaker = AGENT
    kind = "raised_voice"

    def __init__(self, playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        base_len = max(1, round(self.th.baseline_window_s / hop_s))
        self._base_db = RollingMedian(base_len, -100.0, 0.0, 0.25)
        self._base_pitch = RollingMedian(base_len, 40.0, 600.0, 1.0)
        self._recent: deque[tuple[float, float, float]] = deque(
            maxlen=max(1, round(self.th.raised_voice_min_s / hop_s)))
        self._speech_hops = 0
        self._since_recompute = _RECOMPUTE_EVERY
        self._baseline: float | None = None
        self._pitch_baseline: float | None = None
        self._event: Event | None = None
        self._peak_excess = 0.0
        self._raised_end = 0.0  # end of the last hop loud enough to belong to the event
        self._raised_s = 0.0  # seconds of speech at the raised level
        self._since_check = 0

    def _frame(self, hop: Hop):
        return hop.agent if self.speaker == AGENT else hop.customer

    def _recompute(self) -> None:
        self._since_recompute = 0
        if self._speech_hops * self.hop_s >= self.th.baseline_min_speech_s:
            self._baseline = self._base_db.median()
            self._pitch_baseline = (self._base_pitch.median() if self._base_pitch.count > 20
                                    else None)

    def on_hop(self, hop: Hop) -> list[Event]:
        f = self._frame(hop)
        if f is None:
            return []
        if not f.voice:
            if self._event is not None and hop.t - self._raised_end > _PAUSE_ENDS_S:
                self._close()  # a pause ends the raised stretch where it was
            return []
        self._recent.append((hop.t, f.dbfs, f.pitch_hz))
        if self._event is None:
            self._base_db.push(f.dbfs)
            self._base_pitch.push(f.pitch_hz)
            self._speech_hops += 1
        self._since_recompute += 1
        if self._since_recompute >= _RECOMPUTE_EVERY:
            self._recompute()
        if self._baseline is None or len(self._recent) < self._recent.maxlen:
            return []
        self._since_check += 1
        if self._since_check < _CHECK_EVERY:
            return []
        self._since_check = 0
        window = sorted(r[1] for r in self._recent)  # ~94 values: sorted() beats numpy here
        excess = window[len(window) // 2] - self._baseline
        # Raised for the whole window, not just half of it: its quieter quarter (syllable
        # dips included) must sit near the raised level too.
        sustained = window[len(window) // 4] - self._baseline >= (
            self.th.raised_voice_db - _SUSTAIN_DIP_DB)
        if self._event is None:
            if excess < self.th.raised_voice_db or not sustained:
                return []
            levels = [r[1] for r in self._recent]
            first = self._raised_start(levels)
            self._peak_excess = excess
            self._raised_s = (len(levels) - first) * self.hop_s
            self._raised_end = hop.t + self.hop_s
            self._event = self._make(self._recent[first][0], hop.t)
            return [self._event]
        if excess >= self.th.raised_voice_db - _RELEASE_DB:
            self._peak_excess = max(self._peak_excess, excess)
            # The hops since the last look: count the loud ones, extend to the last of them.
            limit = self._baseline + self.th.raised_voice_db
            loud = [r[0] for r in list(self._recent)[-_CHECK_EVERY:] if r[1] >= limit]
            if loud:
                self._raised_end = loud[-1] + self.hop_s
                self._raised_s += len(loud) * self.hop_s
            self._event = self._make(self._event.start, hop.t)
            return [self._event]
        self._close()
        return []

    def _close(self) -> None:
        """End the open event; a new one needs a fresh stretch of raised speech."""
        self._event = None
        self._recent.clear()

    def _raised_start(self, levels: list[float]) -> int:
        """Where in the window the raised stretch starts: after the last pause that has
        normal speech before it (the window also holds the end of the calmer utterance
        before), else the window's start."""
        limit = self._baseline + self.th.raised_voice_db
        start = 0
        for i in range(1, len(levels)):
            if (self._recent[i][0] - self._recent[i - 1][0] > _BOUNDARY_S
                    and np.median(levels[:i]) < limit - _RELEASE_DB
                    and np.median(levels[i:]) >= limit):
                start = i
        return start

    def _make(self, start: float, now: float) -> Event:
        who = "your" if self.speaker == AGENT else "their"
        end = self._raised_end
        reason = (f"+{self._peak_excess:.1f} dB over {who} usual level for "
                  f"{self._raised_s:.1f} s of speech")
        measures = {"excess_db": round(self._peak_excess, 1), "baseline_dbfs":
                    round(self._baseline, 1), "raised_speech_s": round(self._raised_s, 2)}
        pitches = [r[2] for r in self._recent if not math.isnan(r[2])]
        if self._pitch_baseline is not None and len(pitches) > 10:
            rise = float(np.median(pitches)) - self._pitch_baseline
            measures["pitch_rise_hz"] = round(rise, 1)
            if rise > 5:
                reason += f"; pitch +{rise:.0f} Hz"
        detected = self._event.detected_at if self._event is not None else now + self.hop_s
        return self.event(self.kind, self.speaker, start, end, reason, detected,
                          measures=measures)


class RaisedVoiceRule(_RaisedVoice):
    kinds = ("raised_voice",)
    speaker = AGENT
    kind = "raised_voice"


class CustomerRaisedVoiceRule(_RaisedVoice):
    kinds = ("customer_raised_voice",)
    speaker = CUSTOMER
    kind = "customer_raised_voice"
    needs_customer = True
