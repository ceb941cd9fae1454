"""A speaker's active speech level, phrase by phrase, against their own usual level.

Loudness moves by 6 dB and more inside an ordinary sentence (a stressed word, a vowel, the
soft end of a word), so a raised voice is not judged hop by hop. As ITU-T P.56's active
speech level does, this measures the energy of the speech itself, pauses left out:

- a *phrase* is a stretch of voice between pauses of at least `PHRASE_GAP_S`; its level is
  the mean power of its voiced hops;
- the speaker's *usual level* is the median of their recent phrase levels, each weighted
  by its length (a robust baseline: one loud or quiet phrase does not move it);
- the level *now* is the mean power of their last `window_s` of voice, and it counts as
  sustained only when each third of that window is near it too (one shouted word lifts
  the mean of a window, not all three thirds).

On two calm real service calls every speaker's phrase levels sit within about 2 dB of
their median, and no 1.5-s window of voice gets 5 dB over it; acted anger is 10-25 dB over.
Pitch (in semitones, the unit a listener hears) and vocal effort (the spectral tilt the
audio layer measures, `Frame.tilt_db`) are tracked the same way, as supporting evidence.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

__all__ = ["PHRASE_GAP_S", "Phrase", "ActiveLevel", "power_db", "semitones"]

PHRASE_GAP_S = 0.25  # a pause this long between voiced hops ends a phrase
_MIN_PHRASE_S = 0.1  # shorter phrases (a click, half a syllable) do not move the baseline
_RESUM_EVERY = 4096  # pushes between exact re-sums of the window's running power
_NOISE_HOPS = 625  # the line's noise floor: the quiet between words over the last ~10 s
_NOISE_EVERY = 64  # hops between new estimates of it
_NOISE_QUANTILE = 0.2  # of the unvoiced hops' levels: the floor, not the breaths


def power_db(power: float) -> float:
    return 10.0 * math.log10(max(power, 1e-12))


def semitones(hz: float, ref_hz: float) -> float:
    return 12.0 * math.log2(hz / ref_hz)


def _weighted_median(pairs: list[tuple[float, float]]) -> float | None:
    """The value at half the total weight of (value, weight) pairs."""
    pairs = sorted(p for p in pairs if not math.isnan(p[0]))
    total = sum(w for _, w in pairs)
    if total <= 0:
        return None
    acc = 0.0
    for value, weight in pairs:
        acc += weight
        if acc >= total / 2:
            return value
    return pairs[-1][0]


def _median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2]


@dataclass(frozen=True, slots=True)
class Phrase:
    """One stretch of voice: its span, length of voice, active level, pitch and effort."""

    start: float
    end: float
    voiced_s: float
    level_db: float
    pitch_hz: float  # median over its voiced hops, NaN when none had a pitch
    tilt_db: float  # mean over its voiced hops, NaN when none was measured


class _PhraseBuilder:
    """Accumulates the voiced hops of the phrase being spoken."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.start: float | None = None
        self.end = 0.0
        self.hops = 0
        self.power = 0.0
        self.pitches: list[float] = []
        self.tilt_sum, self.tilt_n = 0.0, 0

    def add(self, t: float, end: float, power: float, hz: float, tilt: float) -> None:
        if self.start is None:
            self.start = t
        self.end = end
        self.hops += 1
        self.power += power
        if not math.isnan(hz):
            self.pitches.append(hz)
        if not math.isnan(tilt):
            self.tilt_sum += tilt
            self.tilt_n += 1

    def phrase(self, hop_s: float) -> Phrase:
        return Phrase(self.start, self.end, self.hops * hop_s, power_db(self.power / self.hops),
                      _median(self.pitches) if self.pitches else math.nan,
                      self.tilt_sum / self.tilt_n if self.tilt_n else math.nan)


class ActiveLevel:
    """One speaker's phrase levels, usual level and level over the last `window_s` of voice.

    Feed every hop with `push`. The baseline only learns from phrases the caller lets it
    (`learn=False` while a raised stretch is open: shouting must not become the usual).

    Levels are of the speech alone: the line's noise floor (a low quantile of the hops
    between words) is taken off each voiced hop's power, as a speech level meter does, so
    line noise does not squeeze a raised voice towards the usual level. In the window a
    hop counts for at most `cap_db` over the usual level: two or three very loud hops
    (a laugh, a cough into the mic) cannot lift 1.5 s of speech on their own.

    Args:
        hop_s: the analysis hop.
        window_s: voice (not wall time) in the "now" window.
        baseline_window_s: the baseline follows the last this-many seconds of voice.
        baseline_min_speech_s: voice needed before the baseline is trusted.
        cap_db: a window hop counts for at most this much over the usual level.
    """

    def __init__(self, hop_s: float, window_s: float, baseline_window_s: float,
                 baseline_min_speech_s: float, cap_db: float = math.inf) -> None:
        self.hop_s = hop_s
        self._cap_db = cap_db
        self._quiet: deque[float] = deque(maxlen=_NOISE_HOPS)  # unvoiced hops' power
        self._noise = 0.0  # the noise floor's power
        self._since_noise = 0
        self.n = max(3, round(window_s / hop_s))
        self._baseline_window_s = baseline_window_s
        self._min_speech_s = baseline_min_speech_s
        self._phrases: deque[Phrase] = deque()
        self._phrase_s = 0.0  # voice in `_phrases`
        self._building = _PhraseBuilder()
        self._last_voice_end: float | None = None
        # t, power as it counts (capped), hz, tilt, power as measured
        self.window: deque[tuple[float, float, float, float, float]] = deque()
        self._window_power = 0.0
        self._window_uncapped = 0.0
        self._pushes = 0
        self.baseline_db: float | None = None
        self.baseline_pitch_hz: float | None = None
        self.baseline_tilt_db: float | None = None
        self.last_phrase: Phrase | None = None

    # -- feeding ------------------------------------------------------------------------

    def push(self, t: float, db: float, hz: float, tilt: float, voiced: bool,
             learn: bool = True) -> Phrase | None:
        """One hop; returns the phrase this hop closed (a pause long enough), if any."""
        if not voiced:
            self._note_quiet(10.0 ** (db / 10.0))
            if (self._building.start is not None and self._last_voice_end is not None
                    and t - self._last_voice_end >= PHRASE_GAP_S):
                return self._close(learn)
            return None
        raw = 10.0 ** (db / 10.0)
        power = max(raw - self._noise, raw * 0.01)  # the speech, the line's noise taken off
        self._building.add(t, t + self.hop_s, power, hz, tilt)
        self._last_voice_end = t + self.hop_s
        capped = power
        if self.baseline_db is not None and self._cap_db < math.inf:
            capped = min(power, 10.0 ** ((self.baseline_db + self._cap_db) / 10.0))
        window = self.window
        if len(window) == self.n:
            old = window.popleft()
            self._window_power -= old[1]
            self._window_uncapped -= old[4]
        window.append((t, capped, hz, tilt, power))
        self._window_power += capped
        self._window_uncapped += power
        self._pushes += 1
        if self._pushes % _RESUM_EVERY == 0:  # keep the running sums exact over hours
            self._window_power = sum(w[1] for w in window)
            self._window_uncapped = sum(w[4] for w in window)
        return None

    def _note_quiet(self, power: float) -> None:
        self._quiet.append(power)
        self._since_noise += 1
        if self._since_noise >= _NOISE_EVERY and len(self._quiet) >= _NOISE_EVERY:
            self._since_noise = 0
            ordered = sorted(self._quiet)
            self._noise = ordered[int(len(ordered) * _NOISE_QUANTILE)]

    def _close(self, learn: bool) -> Phrase:
        phrase = self._building.phrase(self.hop_s)
        self._building.reset()
        self.last_phrase = phrase
        if learn and phrase.voiced_s >= _MIN_PHRASE_S:
            self._phrases.append(phrase)
            self._phrase_s += phrase.voiced_s
            while self._phrase_s - self._phrases[0].voiced_s >= self._baseline_window_s:
                self._phrase_s -= self._phrases.popleft().voiced_s
            self._update_baseline()
        return phrase

    def _update_baseline(self) -> None:
        if self._phrase_s < self._min_speech_s:
            return
        phrases = self._phrases
        self.baseline_db = _weighted_median([(p.level_db, p.voiced_s) for p in phrases])
        self.baseline_pitch_hz = _weighted_median([(p.pitch_hz, p.voiced_s) for p in phrases])
        self.baseline_tilt_db = _weighted_median([(p.tilt_db, p.voiced_s) for p in phrases])

    def clear_window(self) -> None:
        """Judge what comes next on speech after this moment only."""
        self.window.clear()
        self._window_power = self._window_uncapped = 0.0

    # -- the window ------------------------------------------------------------------------

    @property
    def full(self) -> bool:
        return len(self.window) == self.n

    def window_db(self) -> float:
        """Active level of the window (mean power of its voiced hops, as measured), dBFS."""
        return power_db(self._window_uncapped / max(1, len(self.window)))

    def window_over(self, level_db: float) -> bool:
        """Whether the window's active level, each hop counting for at most `cap_db` over
        the usual level, is at or over `level_db` (no logarithm)."""
        return self._window_power >= len(self.window) * 10.0 ** (level_db / 10.0)

    def thirds_db(self) -> list[float]:
        """Active level of each third of the window (hops capped as in `window_over`)."""
        powers = [w[1] for w in self.window]
        n = len(powers)
        cuts = (0, n // 3, 2 * n // 3, n)
        return [power_db(sum(powers[a:b]) / max(1, b - a))
                for a, b in zip(cuts, cuts[1:], strict=False)]

    def window_pitch_hz(self) -> float | None:
        pitches = [w[2] for w in self.window if not math.isnan(w[2])]
        return _median(pitches) if len(pitches) > 10 else None

    def window_tilt_db(self) -> float | None:
        tilts = [w[3] for w in self.window if not math.isnan(w[3])]
        return sum(tilts) / len(tilts) if len(tilts) > 10 else None

    def pitch_rise_st(self) -> float | None:
        """The window's pitch over the usual, in semitones (None when either is unknown)."""
        now = self.window_pitch_hz()
        if now is None or not self.baseline_pitch_hz:
            return None
        return semitones(now, self.baseline_pitch_hz)

    def effort_rise_db(self) -> float | None:
        """The window's vocal effort (spectral tilt) over the usual, dB."""
        now = self.window_tilt_db()
        if now is None or self.baseline_tilt_db is None:
            return None
        return now - self.baseline_tilt_db
