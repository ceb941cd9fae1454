"""What the redactor looks for: the playbook's `[redaction]` section, checked and frozen.

Redaction is on unless a playbook turns a kind off by name (`card_numbers = false`): a
trainer's older playbook without the section still redacts everything, and its missing
cue lists are taken from the bundled playbook. Turning a payment kind off is said in
every report (`notes`), so an auditor reading any scorecard sees it.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field

from coaching.text import normalize_text  # the phrases' own normal form

__all__ = ["KINDS", "SWITCHES", "PAYMENT_KINDS", "CUE_KINDS", "WORD_CUE_KINDS", "MARKERS",
           "RedactionConfig", "RedactionConfigError", "parse_redaction", "default_redaction"]

# kind -> its switch in [redaction] (tests turn every kind off through these)
SWITCHES = {
    "card_number": "card_numbers",
    "security_code": "security_codes",
    "expiry_date": "expiry_dates",
    "ssn": "social_security_numbers",
    "date_of_birth": "dates_of_birth",
    "bank_account": "bank_account_numbers",
    "routing_number": "routing_numbers",
    "email": "email_addresses",
    "phone_number": "phone_numbers",
    "name": "names",
    "postal_address": "postal_addresses",
}
KINDS: tuple[str, ...] = tuple(SWITCHES)
PAYMENT_KINDS: tuple[str, ...] = ("card_number", "security_code", "expiry_date")
# Cue lists: one per kind, "name_question" (the other party asks for a name), and
# "not_personal" for numbers that are not (order numbers...).
CUE_KINDS: tuple[str, ...] = (*KINDS, "name_question", "not_personal")
# Cues of words, not digits: they do not change what the digits said after them are.
WORD_CUE_KINDS: frozenset[str] = frozenset({"name", "name_question"})
# What the transcript shows in place of the words (no digits, ever).
MARKERS: dict[str, str] = {
    "card_number": "[card number]",
    "security_code": "[security code]",
    "expiry_date": "[expiry date]",
    "ssn": "[social security number]",
    "date_of_birth": "[date of birth]",
    "bank_account": "[account number]",
    "routing_number": "[routing number]",
    "email": "[email address]",
    "phone_number": "[phone number]",
    "name": "[name]",
    "postal_address": "[address]",
}
_NUMBERS = {"context_window_s": (1.0, 600.0), "continue_within_s": (0.5, 120.0),
            "audio_margin_s": (0.0, 5.0)}


class RedactionConfigError(ValueError):
    """A `[redaction]` value of the wrong kind (the playbook loader names the file)."""


@dataclass(frozen=True)
class RedactionConfig:
    """Which kinds are redacted, the cue phrases that give digits their meaning, timings.

    Attributes:
        enabled: the kinds redacted (all of KINDS unless the playbook turned some off).
        cues: kind -> cue phrases, each a tuple of normalized words ("security", "code").
        context_window_s: digits this soon after a cue ("security code?") take its kind;
            each number taken extends the window, so a card read in groups stays one.
        continue_within_s: digits resumed this soon by the same speaker (after the other
            party's "okay") continue the same number.
        audio_margin_s: kept call audio is silenced this far either side of a redaction.
        quantity_words: digits followed by one of these are an amount ("3 to 5 business
            days", "24 hours", "120 dollars"), never a code, only a Luhn-valid card number.
        amount_words: digits right after one of these ("a payment of 120", "the balance
            is 150", "charge 45") are an amount too.
    """

    enabled: frozenset[str] = frozenset(KINDS)
    cues: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    context_window_s: float = 20.0
    continue_within_s: float = 10.0
    audio_margin_s: float = 0.3
    quantity_words: frozenset[str] = frozenset()
    amount_words: frozenset[str] = frozenset()

    def on(self, kind: str) -> bool:
        return kind in self.enabled

    @property
    def off(self) -> tuple[str, ...]:
        """The kinds this playbook turned off, in KINDS order."""
        return tuple(k for k in KINDS if k not in self.enabled)

    def to_dict(self) -> dict[str, object]:
        """For the JSON: what was redacted and what was not (no content)."""
        return {"on": [k for k in KINDS if k in self.enabled], "off": list(self.off)}

    @property
    def notes(self) -> tuple[str, ...]:
        """What every report must say when payment data was left in the transcript."""
        off = [k for k in PAYMENT_KINDS if k not in self.enabled]
        if not off:
            return ()
        names = ", ".join(SWITCHES[k].replace("_", " ") for k in off)
        return (f"Redaction of {names} was OFF (playbook [redaction]): this transcript may "
                "hold payment card data as spoken",)


def _phrases(kind: str, value: object) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise RedactionConfigError(f"[redaction] {kind} must be a list of phrases")
    out = []
    for phrase in value:
        words = tuple(normalize_text(phrase).split())
        if not words:
            raise RedactionConfigError(f"[redaction] {kind} has an empty phrase")
        out.append(words)
    return tuple(out)


def parse_redaction(section: object, fallback: dict | None = None) -> RedactionConfig:
    """Check a `[redaction]` table; cue lists it leaves out come from `fallback`.

    Raises:
        RedactionConfigError: a switch that is not true/false, a bad number, an unknown
            key or cue kind (a misspelt switch must not silently leave redaction on or off).
    """
    if not isinstance(section, dict):
        raise RedactionConfigError("[redaction] must be a table")
    fallback = fallback or {}
    known = set(SWITCHES.values()) | set(_NUMBERS) | {"cues", "quantity_words", "amount_words"}
    for key in section:
        if key not in known:
            raise RedactionConfigError(f"[redaction] has an unknown setting {key!r}")
    enabled = set(KINDS)
    for kind, key in SWITCHES.items():
        value = section.get(key, True)
        if not isinstance(value, bool):
            raise RedactionConfigError(f"[redaction] {key} must be true or false, "
                                       f"not {value!r}")
        if not value:
            enabled.discard(kind)
    numbers = {}
    for key, (lo, hi) in _NUMBERS.items():
        value = section.get(key, fallback.get(key))
        if value is None:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= value <= hi:
            raise RedactionConfigError(f"[redaction] {key} must be a number from {lo:g} "
                                       f"to {hi:g}, not {value!r}")
        numbers[key] = float(value)
    given = section.get("cues", {})
    if not isinstance(given, dict):
        raise RedactionConfigError("[redaction.cues] must be a table")
    for kind in given:
        if kind not in CUE_KINDS:
            raise RedactionConfigError(f"[redaction.cues] has an unknown kind {kind!r} "
                                       f"(known: {', '.join(CUE_KINDS)})")
    base = fallback.get("cues", {})
    cues = {kind: _phrases(kind, given[kind] if kind in given else base.get(kind, []))
            for kind in CUE_KINDS}
    units = section.get("quantity_words", fallback.get("quantity_words", []))
    quantity = frozenset(w for phrase in _phrases("quantity_words", units) for w in phrase)
    money = section.get("amount_words", fallback.get("amount_words", []))
    amounts = frozenset(w for phrase in _phrases("amount_words", money) for w in phrase)
    return RedactionConfig(frozenset(enabled), cues, quantity_words=quantity,
                           amount_words=amounts, **numbers)


@functools.cache
def _bundled_section() -> dict:
    from assets import DEFAULT_PLAYBOOK

    return tomllib.loads(DEFAULT_PLAYBOOK.read_text(encoding="utf-8")).get("redaction", {})


def bundled_section() -> dict:
    """The bundled playbook's `[redaction]` table (the fallback for a trainer's copy)."""
    return _bundled_section()


def default_redaction() -> RedactionConfig:
    """Everything on, the bundled cues: what a Playbook built in code redacts."""
    return parse_redaction({}, bundled_section())
