"""Raised voice, measured against the speaker's own running baseline.

Never an absolute level: headsets, gains and voices differ by 20 dB, so a fixed threshold
would nag the loud-mic agent and miss the quiet one. Each speaker's baseline is the
median loudness of their voiced speech over the last `baseline_window_s` of it; the
voice is raised when their last `raised_voice_min_s` of speech sits `raised_voice_db`
over it: the median of that window, and the median of each third of it (so one shouted
word or half a loud sentence is not enough). Pitch rise is reported as supporting
evidence. A raised stretch is one event however long it goes on and however often it
pauses; a second event needs the voice to have come back near the baseline first.

Per hop the work is a few comparisons: the baseline is a binned rolling median looked at
every 0.25 s of speech, and the window keeps counts of its hops over each level.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from coaching.playbook import Playbook
from coaching.rolling import RollingMedian
from coaching.rule import Hop, Rule
from coaching.timeline import AGENT, CUSTOMER, Event, Frame, Speaker

__all__ = ["RaisedVoiceRule", "CustomerRaisedVoiceRule"]

_RECOMPUTE_EVERY = 16  # voiced hops (0.25 s): the baseline moves slowly
_UPDATE_EVERY = 16  # voiced hops between re-emitted copies of an open event
_RELEASE_DB = 2.0  # hysteresis: an open event ends once the voice is this much lower
_SUSTAIN_DIP_DB = 3.0  # how far under the raised level a third of the window may sit
_PAUSE_ENDS_S = 1.0  # a pause this long closes a raised stretch
_BOUNDARY_S = 0.25  # a gap between voiced hops this long separates two utterances
_PITCH_NOTE_HZ = 5.0  # a pitch rise under this is not worth a mention in the reason


class _RaisedVoice(Rule):
    """One speaker's raised voice.

    States: calm (a new event may open), open (the event is extended while the window
    stays near the raised level), and closed-but-not-calm (the voice has not been back
    near the baseline for a window's worth of speech yet: raising it again extends the
    same event instead of counting a second one).
    """

    speaker: Speaker = AGENT
    kind = "raised_voice"

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        base_len = max(1, round(self.th.baseline_window_s / hop_s))
        self._base_db = RollingMedian(base_len, -100.0, 0.0, 0.25)
        self._base_pitch = RollingMedian(base_len, 40.0, 600.0, 1.0)
        self._n = max(3, round(self.th.raised_voice_min_s / hop_s))  # window, voiced hops
        self._recent: deque[tuple[float, float, float]] = deque(maxlen=self._n)
        self._speech_hops = 0
        self._since_recompute = 0
        self._baseline: float | None = None
        self._pitch_baseline: float | None = None
        self._limit = math.inf  # baseline + raised_voice_db
        self._hold = math.inf  # the level an open event's median must stay over
        self._n_raised = 0  # hops of the window at or over `_limit`
        self._n_hold = 0  # hops of the window at or over `_hold`
        self._event: Event | None = None  # the current episode (open or not yet calm)
        self._open = False
        self._since_update = 0
        self._peak_excess = 0.0
        self._pitch_rise: float | None = None
        self._raised_end = 0.0  # end of the last hop at the raised level
        self._raised_s = 0.0  # voiced seconds from the start to `_raised_end`
        self._pending_s = 0.0  # voiced seconds since the last raised hop

    @property
    def baseline_dbfs(self) -> float | None:
        """The speaker's usual level so far (None until enough speech was heard)."""
        return self._baseline

    def _frame(self, hop: Hop) -> Frame | None:
        return hop.agent if self.speaker == AGENT else hop.customer

    # -- the window and the baseline ----------------------------------------------------

    def _push(self, t: float, db: float, hz: float) -> None:
        recent = self._recent
        if len(recent) == self._n:
            old = recent[0][1]
            self._n_raised -= old >= self._limit
            self._n_hold -= old >= self._hold
        recent.append((t, db, hz))
        self._n_raised += db >= self._limit
        self._n_hold += db >= self._hold
        if not self._open:  # hops of a raised stretch stay out of the baseline
            self._base_db.push(db)
            self._base_pitch.push(hz)
            self._speech_hops += 1
            self._since_recompute += 1
            if self._since_recompute >= _RECOMPUTE_EVERY:
                self._recompute()

    def _recompute(self) -> None:
        self._since_recompute = 0
        if self._speech_hops * self.hop_s < self.th.baseline_min_speech_s:
            return
        self._pitch_baseline = self._base_pitch.median() if self._base_pitch.count > 20 else None
        baseline = self._base_db.median()
        if baseline is None or baseline == self._baseline:
            return
        self._baseline = baseline
        self._limit = baseline + self.th.raised_voice_db
        self._hold = self._limit - _RELEASE_DB
        levels = [r[1] for r in self._recent]
        self._n_raised = sum(db >= self._limit for db in levels)
        self._n_hold = sum(db >= self._hold for db in levels)

    def _median_over(self, count: int) -> bool:
        """Whether the window's (upper) median is at or over a level `count` hops reach."""
        return count >= self._n - self._n // 2

    def _sustained(self) -> bool:
        """Raised for the whole window, not just half of it: the median of each third
        (syllable dips included) sits near the raised level. Only called once the
        window's median is raised, which is rare, so sorting here is cheap overall."""
        levels = [r[1] for r in self._recent]
        floor = self._limit - _SUSTAIN_DIP_DB
        n = len(levels)
        cuts = (0, n // 3, 2 * n // 3, n)
        for a, b in zip(cuts, cuts[1:], strict=False):
            block = sorted(levels[a:b])
            if block[len(block) // 2] < floor:
                return False
        return True

    # -- the hop ------------------------------------------------------------------------

    def on_hop(self, hop: Hop) -> list[Event]:
        f = self._frame(hop)
        if f is None:
            return []
        t = hop.t
        if not f.voice:
            if self._open and t - self._raised_end > _PAUSE_ENDS_S:
                return self._close()  # a pause ends the raised stretch where it was
            return []
        self._push(t, f.dbfs, f.pitch_hz)
        if self._baseline is None or len(self._recent) < self._n:
            return []
        if self._open:
            return self._extend(t, f.dbfs)
        raised = self._median_over(self._n_raised) and self._sustained()
        if self._event is not None:  # closed, not yet calm again
            if raised:
                return self._reopen(t)
            if not self._median_over(self._n_hold):
                self._event = None  # a window of speech back near the baseline
            return []
        return self._begin(t) if raised else []

    def _begin(self, t: float) -> list[Event]:
        levels = [r[1] for r in self._recent]
        first = self._raised_start(levels)
        self._open, self._since_update = True, 0
        self._peak_excess, self._pitch_rise = self._window_excess(), None
        self._note_pitch()
        self._raised_s = (len(levels) - first) * self.hop_s
        self._raised_end, self._pending_s = t + self.hop_s, 0.0
        self._event = self._make(self._recent[first][0], t + self.hop_s)
        return [self._event]

    def _reopen(self, t: float) -> list[Event]:
        """Raised again before calming down: the same episode goes on."""
        self._open, self._since_update = True, 0
        self._raised_s += (len(self._recent) - 1) * self.hop_s
        self._pending_s = 0.0
        return self._extend(t, self._recent[-1][1])

    def _extend(self, t: float, db: float) -> list[Event]:
        self._pending_s += self.hop_s
        if db >= self._limit:
            self._raised_end = t + self.hop_s
            self._raised_s += self._pending_s
            self._pending_s = 0.0
        if not self._median_over(self._n_hold):
            return self._close()
        self._since_update += 1
        if self._since_update < _UPDATE_EVERY:
            return []
        self._since_update = 0
        self._peak_excess = max(self._peak_excess, self._window_excess())
        self._note_pitch()
        self._event = self._make(self._event.start, self._event.detected_at)
        return [self._event]

    def _close(self) -> list[Event]:
        """End the open stretch: a final copy with its end at the last raised hop. What
        comes next is judged on speech after it: the window starts again."""
        self._open = False
        self._recent.clear()
        self._n_raised = self._n_hold = 0
        self._event = self._make(self._event.start, self._event.detected_at)
        return [self._event]

    def finish(self, end_t: float) -> list[Event]:
        return self._close() if self._open else []

    # -- measures -------------------------------------------------------------------------

    def _window_excess(self) -> float:
        levels = sorted(r[1] for r in self._recent)
        return levels[len(levels) // 2] - self._baseline

    def _note_pitch(self) -> None:
        pitches = [r[2] for r in self._recent if not math.isnan(r[2])]
        if self._pitch_baseline is None or len(pitches) <= 10:
            return
        rise = float(np.median(pitches)) - self._pitch_baseline
        self._pitch_rise = rise if self._pitch_rise is None else max(self._pitch_rise, rise)

    def _raised_start(self, levels: list[float]) -> int:
        """Where in the window the raised stretch starts: after the last pause that has
        normal speech before it (the window also holds the end of the calmer utterance
        before), else the window's start."""
        start = 0
        for i in range(1, len(levels)):
            if (self._recent[i][0] - self._recent[i - 1][0] > _BOUNDARY_S
                    and np.median(levels[:i]) < self._hold
                    and np.median(levels[i:]) >= self._limit):
                start = i
        return start

    def _make(self, start: float, detected_at: float) -> Event:
        who = "your" if self.speaker == AGENT else "their"
        reason = (f"+{self._peak_excess:.1f} dB over {who} usual level for "
                  f"{self._raised_s:.1f} s of speech")
        measures = {"excess_db": round(self._peak_excess, 1),
                    "baseline_dbfs": round(self._baseline, 1),
                    "raised_speech_s": round(self._raised_s, 2)}
        if self._pitch_rise is not None:
            measures["pitch_rise_hz"] = round(self._pitch_rise, 1)
            if self._pitch_rise >= _PITCH_NOTE_HZ:
                reason += f"; pitch +{self._pitch_rise:.0f} Hz"
        return self.event(self.kind, self.speaker, start, self._raised_end, reason,
                          detected_at, measures=measures)


class RaisedVoiceRule(_RaisedVoice):
    kinds = ("raised_voice",)
    speaker = AGENT
    kind = "raised_voice"


class CustomerRaisedVoiceRule(_RaisedVoice):
    kinds = ("customer_raised_voice",)
    speaker = CUSTOMER
    kind = "customer_raised_voice"
    needs_customer = True
