"""Which prompt the agent sees, and when: priority, cooldown, minimum display time.

A coach that repeats "Lower your voice" every two seconds gets switched off. The same
prompt kind is held back for `cooldown_s` after it was shown, a shown prompt stays at
least `min_display_s` unless something more urgent comes, and the agent can snooze a
kind for the rest of the call. Held-back events are still recorded (prompted=False).
"""

from __future__ import annotations

from coaching.playbook import PromptPolicyConfig
from coaching.timeline import Event

__all__ = ["PromptPolicy"]


class PromptPolicy:
    """Deterministic: the same events at the same times give the same decisions."""

    def __init__(self, config: PromptPolicyConfig = PromptPolicyConfig()) -> None:
        self.config = config
        self._last_shown: dict[str, float] = {}
        self._snoozed: set[str] = set()
        self._current: Event | None = None
        self._current_since = 0.0

    def snooze(self, kind: str) -> None:
        """No more prompts of this kind for the rest of the call."""
        self._snoozed.add(kind)

    @property
    def snoozed(self) -> frozenset[str]:
        return frozenset(self._snoozed)

    def offer(self, event: Event, now: float) -> bool:
        """Decide whether `event`'s prompt is shown now (True) or held back."""
        if not event.prompt or event.kind in self._snoozed:
            return False
        last = self._last_shown.get(event.kind)
        if last is not None and now - last < self.config.cooldown_s:
            return False
        current = self._current
        if (current is not None and now - self._current_since < self.config.min_display_s
                and current.priority > event.priority):
            return False
        self._last_shown[event.kind] = now
        self._current, self._current_since = event, now
        return True

    def current(self, now: float, hold_s: float = 8.0) -> Event | None:
        """The prompt on the card at `now` (it fades after `hold_s`)."""
        if self._current is not None and now - self._current_since <= hold_s:
            return self._current
        return None
