"""Which prompt the agent sees, and when: priority, cooldown, minimum display time.

A coach that repeats "Lower your voice" every two seconds gets switched off, and a card
whose text changes faster than it can be read is noise. So the same prompt kind is held
back for `cooldown_s` after it was shown, a shown prompt stays at least `min_display_s`
unless something more urgent (higher priority) comes, and the agent can snooze a kind for
the rest of the call. Held-back events are still recorded (prompted=False): the
scorecard and the replay page list everything that happened, the card only what helps.
"""

from __future__ import annotations

from coaching.playbook import PromptPolicyConfig
from coaching.timeline import Event

__all__ = ["PromptPolicy"]


class PromptPolicy:
    """Deterministic: the same events offered at the same times give the same decisions.

    Args:
        config: cooldown and minimum display time, from the playbook.
        hold_s: how long the card keeps a prompt that nothing replaces, counted from when
            it was shown (default: `min_display_s`). It stays longer while its event
            lasts (a raised voice that goes on keeps "Lower your voice" up).
    """

    def __init__(self, config: PromptPolicyConfig = PromptPolicyConfig(),
                 hold_s: float | None = None) -> None:
        self.config = config
        self.hold_s = config.min_display_s if hold_s is None else max(hold_s,
                                                                      config.min_display_s)
        self._last_shown: dict[str, float] = {}
        self._snoozed: set[str] = set()
        self._current: Event | None = None
        self._current_since = 0.0

    def snooze(self, kind: str) -> None:
        """No more prompts of this kind for the rest of the call (it leaves the card too)."""
        self._snoozed.add(kind)
        if self._current is not None and self._current.kind == kind:
            self._current = None

    @property
    def snoozed(self) -> frozenset[str]:
        return frozenset(self._snoozed)

    def offer(self, event: Event, now: float) -> bool:
        """Decide whether `event`'s prompt is shown at call time `now` (True) or held back.

        Held back: no prompt text, a snoozed kind, the same kind shown less than
        `cooldown_s` ago, or the card shows a prompt of at least the same priority that
        has been up less than `min_display_s`.
        """
        if not event.prompt or event.kind in self._snoozed:
            return False
        last = self._last_shown.get(event.kind)
        if last is not None and now - last < self.config.cooldown_s:
            return False
        current = self._current
        if (current is not None and now - self._current_since < self.config.min_display_s
                and current.priority >= event.priority):
            return False
        self._last_shown[event.kind] = now
        self._current, self._current_since = event, now
        return True

    def update(self, event: Event) -> None:
        """A later copy of an event (same key, e.g. a longer end): the card follows it."""
        if self._current is not None and self._current.key == event.key:
            self._current = event

    def current(self, now: float) -> Event | None:
        """The event whose prompt the card shows at `now`, or None for an empty card."""
        event = self._current
        if event is None:
            return None
        if now - self._current_since < self.hold_s or now < event.end:
            return event
        return None
