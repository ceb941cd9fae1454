"""The prompt policy: what the card shows, and what it holds back."""

from __future__ import annotations

from dataclasses import replace

from coaching.playbook import PromptPolicyConfig
from coaching.prompt_policy import PromptPolicy
from coaching.timeline import AGENT, Event

CONFIG = PromptPolicyConfig(cooldown_s=20.0, min_display_s=3.0)


def prompt(kind: str, priority: int, start: float = 0.0, end: float | None = None,
           text: str = "do this") -> Event:
    return Event(kind, AGENT, start, start if end is None else end, text, "why", start,
                 priority)


def test_an_event_without_prompt_text_is_never_shown() -> None:
    policy = PromptPolicy(CONFIG)
    assert not policy.offer(prompt("dead_air", 60, text=""), now=5)
    assert policy.current(5) is None


def test_the_same_kind_is_held_back_for_the_cooldown() -> None:
    policy = PromptPolicy(CONFIG)
    assert policy.offer(prompt("interruption", 90, 10), now=10)
    assert not policy.offer(prompt("interruption", 90, 25), now=25)
    # Measured from when it was last shown, not from the held-back one.
    assert policy.offer(prompt("interruption", 90, 30), now=30)


def test_a_shown_prompt_stays_unless_something_more_urgent_comes() -> None:
    policy = PromptPolicy(CONFIG)
    assert policy.offer(prompt("interruption", 90, 10), now=10)
    assert not policy.offer(prompt("slow_response", 55, 11), now=11)  # lower
    assert not policy.offer(prompt("other", 90, 12), now=12)  # equal: not outranked
    assert policy.offer(prompt("raised_voice", 95, 12.5), now=12.5)  # higher
    assert policy.current(13).kind == "raised_voice"
    # After min_display_s anything may take the card.
    assert policy.offer(prompt("slow_response", 55, 15.6), now=15.6)
    assert policy.current(15.6).kind == "slow_response"


def test_a_held_back_prompt_does_not_start_a_cooldown() -> None:
    policy = PromptPolicy(CONFIG)
    assert policy.offer(prompt("raised_voice", 95, 10), now=10)
    assert not policy.offer(prompt("dead_air", 60, 11), now=11)
    assert policy.offer(prompt("dead_air", 60, 14), now=14)


def test_snooze_for_the_rest_of_the_call() -> None:
    policy = PromptPolicy(CONFIG)
    assert policy.offer(prompt("long_monologue", 50, 5), now=5)
    policy.snooze("long_monologue")
    assert policy.current(6) is None  # it leaves the card
    assert not policy.offer(prompt("long_monologue", 50, 500), now=500)
    assert policy.snoozed == frozenset({"long_monologue"})
    assert policy.offer(prompt("dead_air", 60, 501), now=501)


def test_the_card_keeps_a_prompt_for_its_display_time_or_while_its_event_lasts() -> None:
    policy = PromptPolicy(CONFIG)
    shout = prompt("raised_voice", 95, 10, end=11)
    assert policy.offer(shout, now=11)
    assert policy.current(11) == shout and policy.current(13.9) == shout
    assert policy.current(14.1) is None
    # The engine passes on a longer copy of the same event: the card follows it.
    longer = replace(shout, end=20.0)
    policy.update(longer)
    assert policy.current(19) == longer and policy.current(20.1) is None
    policy.update(prompt("other", 10, 3, end=99))  # another key: no effect
    assert policy.current(25) is None


def test_hold_s_keeps_prompts_up_longer() -> None:
    policy = PromptPolicy(CONFIG, hold_s=8.0)
    assert policy.offer(prompt("dead_air", 60, 10), now=10)
    assert policy.current(17.9).kind == "dead_air" and policy.current(18.1) is None


def test_decisions_are_deterministic() -> None:
    offers = [(prompt(k, p, t), t) for k, p, t in [
        ("interruption", 90, 1), ("slow_response", 55, 2), ("raised_voice", 95, 3),
        ("interruption", 90, 8), ("dead_air", 60, 9), ("interruption", 90, 22)]]

    def decide() -> list[bool]:
        policy = PromptPolicy(CONFIG)
        return [policy.offer(e, t) for e, t in offers]

    assert decide() == decide() == [True, False, True, False, True, True]
