"""Rules that read the transcript: forbidden phrases, speaking rate, and the prompts that
tell the agent what a good agent would say next (L.E.A.R.N.: Listen, Empathize,
Apologize, Resolve, Now).

Each prompt fires when the transcript that makes it due arrives (the customer's complaint,
question or goodbye), unless the agent has already done the thing, so it reaches the
agent while it still matters. Phrases come from the playbook and tolerate Whisper's
casing, punctuation and small wording changes (see `coaching.playbook.normalize_text`).
"""

from __future__ import annotations

from collections import deque

from coaching.playbook import normalize_text
from coaching.rule import Hop, Rule
from coaching.timeline import AGENT, Event, Utterance

__all__ = ["PHRASE_RULES", "locate", "ForbiddenPhraseRule", "FastSpeechRule",
           "ApologizeRule", "EmpathizeRule", "SummarizeRule", "NextStepsRule",
           "AnythingElseRule"]

_FORBIDDEN = (("calm_down", "calm down"), ("blame", "blame"), ("deflection", "deflection"))
_RECENT_S = 30.0
_PAUSE_IN_TALK_S = 1.0  # the agent did the thing this recently: no prompt needed


def locate(utterance: Utterance, matched: str) -> tuple[float, float]:
    """Call times of the words that make up `matched` (normalized text) in the utterance."""
    target = matched.split()
    words = [normalize_text(w.text) for w in utterance.words]
    for i in range(len(words)):
        joined: list[str] = []
        for j in range(i, len(words)):
            joined += words[j].split()
            if joined[: len(target)] == target:
                return utterance.words[i].start, utterance.words[j].end
            if len(joined) >= len(target) or target[: len(joined)] != joined:
                break
    return utterance.start, utterance.end


class _PhraseRule(Rule):
    """Helpers shared by the transcript rules."""

    def _find(self, name: str, u: Utterance):
        return self.playbook.find(name, u.text)

    def _quote(self, u: Utterance, match) -> str:
        return match.group(0) if match else normalize_text(u.text)[:60]


class ForbiddenPhraseRule(_PhraseRule):
    """The agent said "calm down", blamed the customer, or deflected."""

    kinds = ("forbidden_phrase",)

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if u.speaker != AGENT:
            return []
        out = []
        for name, label in _FORBIDDEN:
            m = self._find(name, u)
            if m:
                start, end = locate(u, m.group(0))
                out.append(self.event(
                    "forbidden_phrase", AGENT, start, end,
                    f'you said "{m.group(0)}" at {start:.1f} s ({label})', now,
                    evidence=m.group(0), measures={}))
        return out


class FastSpeechRule(_PhraseRule):
    """The agent's words per minute of speech over the recent window are too high."""

    kinds = ("fast_speech",)

    def __init__(self, playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._recent: deque[tuple[float, float, int]] = deque()  # (start, end, words)
        self._fast = False

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if u.speaker != AGENT or not u.words:
            return []
        self._recent.append((u.start, u.end, len(u.words)))
        while self._recent and self._recent[0][1] < u.end - self.th.fast_speech_window_s:
            self._recent.popleft()
        # Talk time: utterance spans plus the short pauses between them (a pause under
        # `_PAUSE_IN_TALK_S` is part of talking, not a stop), as a listener hears a pace.
        speech = 0.0
        prev_end: float | None = None
        for s, e, _ in self._recent:
            if prev_end is not None and 0 < s - prev_end < _PAUSE_IN_TALK_S:
                speech += s - prev_end
            speech += e - s
            prev_end = e
        words = sum(n for _, _, n in self._recent)
        if speech < self.th.fast_speech_min_speech_s:
            return []
        wpm = words / speech * 60.0
        if wpm <= self.th.fast_speech_wpm:
            self._fast = False
            return []
        if self._fast:
            return []
        self._fast = True
        start = self._recent[0][0]
        return [self.event("fast_speech", AGENT, start, u.end,
                           f"{wpm:.0f} words per minute over your last {speech:.0f} s of "
                           f"speech (aim under {self.th.fast_speech_wpm:.0f})", now,
                           measures={"wpm": round(wpm, 1), "speech_s": round(speech, 1)})]


class _DueAfterCustomerCue(_PhraseRule):
    """A customer cue makes a prompt due unless the agent recently said the remedy."""

    kind = ""
    cue_sets: tuple[str, ...] = ()
    remedy_sets: tuple[str, ...] = ()
    what = ""

    def __init__(self, playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._remedy_at: float | None = None
        self._episode_open = False

    def _remedied(self, u: Utterance) -> bool:
        return any(self._find(s, u) for s in self.remedy_sets)

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if u.speaker == AGENT:
            if self._remedied(u):
                self._remedy_at, self._episode_open = u.end, False
            return []
        for name in self.cue_sets:
            m = self._find(name, u)
            if m:
                break
        else:
            return []
        recent = self._remedy_at is not None and u.start - self._remedy_at < _RECENT_S
        if recent or self._episode_open:
            return []
        self._episode_open = True
        return [self.event(self.kind, AGENT, u.start, u.end,
                           f'the customer said "{self._quote(u, m)}" at {u.start:.1f} s; '
                           f"{self.what}", now, evidence=self._quote(u, m))]


class ApologizeRule(_DueAfterCustomerCue):
    kinds = ("prompt_apologize",)
    kind = "prompt_apologize"
    cue_sets = ("complaint",)
    remedy_sets = ("apology",)
    what = "no apology yet"


class EmpathizeRule(_DueAfterCustomerCue):
    kinds = ("prompt_empathize",)
    kind = "prompt_empathize"
    cue_sets = ("distress",)
    remedy_sets = ("empathy", "apology")
    what = "acknowledge how they feel"


class NextStepsRule(_DueAfterCustomerCue):
    kinds = ("prompt_next_steps",)
    kind = "prompt_next_steps"
    cue_sets = ("next_steps_question",)
    what = "tell them what happens next, and when"

    def _remedied(self, u: Utterance) -> bool:
        return bool(self._find("next_steps", u) and self._find("time_estimate", u))


class AnythingElseRule(_DueAfterCustomerCue):
    """The customer is closing and the agent has not asked if there is anything else."""

    kinds = ("prompt_anything_else",)
    kind = "prompt_anything_else"
    cue_sets = ("closing_cue",)
    remedy_sets = ("anything_else",)
    what = "ask if there is anything else before you close"

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if self._remedy_at is not None:  # asked once in the call is enough
            return []
        return super().on_utterance(u, now)


class SummarizeRule(_PhraseRule):
    """After a long stretch of customer speech, the agent takes the floor without a recap."""

    kinds = ("prompt_summarize",)
    needs_customer = True

    def __init__(self, playbook, hop_s: float) -> None:
        super().__init__(playbook, hop_s)
        self._customer_speech_s = 0.0
        self._agent_in_turn = False

    def on_hop(self, hop: Hop) -> list[Event]:
        if hop.customer is not None and hop.customer.voice:
            self._customer_speech_s += self.hop_s
        starting = hop.agent.in_turn and not self._agent_in_turn
        self._agent_in_turn = hop.agent.in_turn
        if not starting or self._customer_speech_s < self.th.summary_after_customer_s:
            return []
        heard = self._customer_speech_s
        self._customer_speech_s = 0.0
        return [self.event("prompt_summarize", AGENT, hop.t, hop.t + self.hop_s,
                           f"the customer has spoken for {heard:.0f} s since your last "
                           "summary; show them you heard it", hop.t + self.hop_s,
                           measures={"customer_speech_s": round(heard, 1)})]

    def on_utterance(self, u: Utterance, now: float) -> list[Event]:
        if u.speaker == AGENT and self._find("summary", u):
            self._customer_speech_s = 0.0
        return []


PHRASE_RULES: list[type[Rule]] = [ForbiddenPhraseRule, FastSpeechRule, ApologizeRule,
                                  EmpathizeRule, SummarizeRule, NextStepsRule,
                                  AnythingElseRule]
