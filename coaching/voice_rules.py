"""Raised voice: a sustained rise of a speaker's active speech level over their own.

Never an absolute level: headsets, gains and voices differ by 20 dB, so a fixed threshold
would nag the loud-mic agent and miss the quiet one. And never one stressed word: loudness
moves by several dB inside any sentence. `coaching.speech_level.ActiveLevel` gives the
speaker's usual level (the median of their recent phrase levels) and the active level of
their last `raised_voice_min_s` of voice; the voice is raised when that window, and each
third of it, sits `raised_voice_db` over the usual level (so it spans more than one word).
Pitch (semitones) and vocal effort (spectral tilt) over their usual are reported with it.

A raised stretch is one event however long it goes on and however often it pauses; a
second event needs the voice to have come back near the usual level first. Per hop the
work is a few additions and one comparison.
"""

from __future__ import annotations

from coaching.playbook import Playbook
from coaching.rule import Hop, Rule
from coaching.speech_level import PHRASE_GAP_S, ActiveLevel
from coaching.timeline import AGENT, CUSTOMER, Event, Frame, Speaker

__all__ = ["RaisedVoiceRule", "CustomerRaisedVoiceRule"]

_UPDATE_EVERY = 16  # voiced hops between re-emitted copies of an open event
_RELEASE_DB = 2.0  # hysteresis: an open event ends once the voice is this much lower
_SUSTAIN_DIP_DB = 3.0  # how far under the raised level a third of the window may sit
_PAUSE_ENDS_S = 1.0  # a pause this long closes a raised stretch
_PITCH_NOTE_ST = 1.0  # a pitch rise under this is not worth a mention in the reason
_EFFORT_NOTE_DB = 1.5  # nor an effort rise under this
_CAP_OVER_LIMIT_DB = 6.0  # a hop counts for at most this much over the raised level


class _RaisedVoice(Rule):
    """One speaker's raised voice.

    States: calm (a new event may open), open (the event is extended while the window
    stays near the raised level), and closed-but-not-calm (the voice has not been back
    near the usual level for a window's worth of speech yet: raising it again extends
    the same event instead of counting a second one).
    """

    speaker: Speaker = AGENT
    kind = "raised_voice"

    def __init__(self, playbook: Playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self.level = ActiveLevel(hop_s, self.th.raised_voice_min_s, self.th.baseline_window_s,
                                 self.th.baseline_min_speech_s,
                                 cap_db=self.th.raised_voice_db + _CAP_OVER_LIMIT_DB)
        self._event: Event | None = None  # the current episode (open or not yet calm)
        self._open = False
        self._since_update = 0
        self._peak_excess = 0.0
        self._pitch_rise: float | None = None
        self._effort_rise: float | None = None
        self._raised_end = 0.0  # end of the last hop at the raised level
        self._raised_s = 0.0  # voiced seconds from the start to `_raised_end`
        self._pending_s = 0.0  # voiced seconds since then

    @property
    def baseline_dbfs(self) -> float | None:
        """The speaker's usual active level so far (None until enough speech was heard)."""
        return self.level.baseline_db

    def _frame(self, hop: Hop) -> Frame | None:
        return hop.agent if self.speaker == AGENT else hop.customer

    def _limit(self) -> float:
        return self.level.baseline_db + self.th.raised_voice_db

    def _raised(self) -> bool:
        """The window and each third of it are up (checked only once the window's own
        level is over the limit, which is rare, so the thirds cost nothing overall)."""
        limit = self._limit()
        return (self.level.window_over(limit)
                and min(self.level.thirds_db()) >= limit - _SUSTAIN_DIP_DB)

    # -- the hop ------------------------------------------------------------------------

    def on_hop(self, hop: Hop) -> list[Event]:
        f = self._frame(hop)
        if f is None:
            return []
        t = hop.t
        self.level.push(t, f.dbfs, f.pitch_hz, f.tilt_db, f.voice, learn=not self._open)
        if not f.voice:
            if self._open and t - self._raised_end > _PAUSE_ENDS_S:
                return self._close()  # a pause ends the raised stretch where it was
            return []
        if self.level.baseline_db is None or not self.level.full:
            return []
        if self._open:
            return self._extend(t, f.dbfs)
        raised = self._raised()
        if self._event is not None:  # closed, not yet calm again
            if raised:
                return self._reopen(t)
            if not self.level.window_over(self._limit() - _RELEASE_DB):
                self._event = None  # a window of speech back near the usual level
            return []
        return self._begin(t) if raised else []

    def _begin(self, t: float) -> list[Event]:
        first = self._raised_start()
        self._open, self._since_update = True, 0
        self._peak_excess = self.level.window_db() - self.level.baseline_db
        self._pitch_rise = self._effort_rise = None
        self._note_evidence()
        self._raised_s = (len(self.level.window) - first) * self.hop_s
        self._raised_end, self._pending_s = t + self.hop_s, 0.0
        self._event = self._make(self.level.window[first][0], t + self.hop_s)
        return [self._event]

    def _reopen(self, t: float) -> list[Event]:
        """Raised again before calming down: the same episode goes on."""
        self._open, self._since_update = True, 0
        self._raised_s += (len(self.level.window) - 1) * self.hop_s
        self._pending_s = 0.0
        return self._extend(t, self.level.window_db())

    def _extend(self, t: float, db: float) -> list[Event]:
        """One more voiced hop of an open stretch; it ends at its last raised hop."""
        self._pending_s += self.hop_s
        limit = self._limit()
        if db >= limit:
            self._raised_end = t + self.hop_s
            self._raised_s += self._pending_s
            self._pending_s = 0.0
        if not self.level.window_over(limit - _RELEASE_DB):
            return self._close()
        self._since_update += 1
        if self._since_update < _UPDATE_EVERY:
            return []
        self._since_update = 0
        self._peak_excess = max(self._peak_excess,
                                self.level.window_db() - self.level.baseline_db)
        self._note_evidence()
        self._event = self._make(self._event.start, self._event.detected_at)
        return [self._event]

    def _close(self) -> list[Event]:
        """End the open stretch: a final copy with its end at the last raised hop. What
        comes next is judged on speech after it: the window starts again."""
        self._open = False
        self.level.clear_window()
        self._event = self._make(self._event.start, self._event.detected_at)
        return [self._event]

    def finish(self, end_t: float) -> list[Event]:
        return self._close() if self._open else []

    # -- measures -------------------------------------------------------------------------

    def _note_evidence(self) -> None:
        pitch, effort = self.level.pitch_rise_st(), self.level.effort_rise_db()
        if pitch is not None:
            self._pitch_rise = pitch if self._pitch_rise is None else max(self._pitch_rise,
                                                                          pitch)
        if effort is not None:
            self._effort_rise = (effort if self._effort_rise is None
                                 else max(self._effort_rise, effort))

    def _raised_start(self) -> int:
        """Where in the window the raised stretch starts: after the last pause that has
        calmer speech before it (the window also holds the end of the phrase before),
        else the window's start."""
        window = self.level.window
        limit = self._limit()
        hold = 10.0 ** ((limit - _RELEASE_DB) / 10.0)
        over = 10.0 ** (limit / 10.0)
        powers = [w[1] for w in window]
        total = sum(powers)
        start, before = 0, 0.0
        for i in range(1, len(window)):
            before += powers[i - 1]
            if (window[i][0] - window[i - 1][0] >= PHRASE_GAP_S
                    and before / i < hold and (total - before) / (len(window) - i) >= over):
                start = i
        return start

    def _make(self, start: float, detected_at: float) -> Event:
        who = "your" if self.speaker == AGENT else "their"
        reason = (f"+{self._peak_excess:.1f} dB over {who} usual level for "
                  f"{self._raised_s:.1f} s of speech")
        measures = {"excess_db": round(self._peak_excess, 1),
                    "baseline_dbfs": round(self.level.baseline_db, 1),
                    "raised_speech_s": round(self._raised_s, 2)}
        if self._pitch_rise is not None:
            measures["pitch_rise_st"] = round(self._pitch_rise, 1)
            if self._pitch_rise >= _PITCH_NOTE_ST:
                reason += f"; pitch up {self._pitch_rise:.0f} semitones"
        if self._effort_rise is not None:
            measures["effort_rise_db"] = round(self._effort_rise, 1)
            if self._effort_rise >= _EFFORT_NOTE_DB:
                reason += f"; more vocal effort (+{self._effort_rise:.0f} dB over 1 kHz)"
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
