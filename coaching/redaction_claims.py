"""What a run of spoken or written digits is: a card number, a security code, nothing.

A run is one speaker's digits said together (fillers and the other party's "okay" in
between allowed); the redactor hands it here as the words' classes with the cue that was
active when it began. Card numbers are recognised by themselves (13-19 digits that pass
the Luhn check, on any group boundaries Whisper wrote); every other kind needs its cue
("the security code is", "date of birth"), except the shapes that are unmistakable
without one: an SSN written 3-2-4, a ten-digit phone number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coaching.number_words import UNITS, WordClass, group_number_words
from coaching.redaction_config import RedactionConfig

__all__ = ["Group", "Claim", "digit_groups", "luhn_ok", "claim_run", "real_digits"]

_CARD_MIN, _CARD_MAX = 13, 19
_HOMOPHONE_NEEDS = 3  # a homophone counts only beside real digits, in a run of this many


@dataclass(frozen=True, slots=True)
class Group:
    """Digits as one group of the run: tokens first..last (inclusive)."""

    first: int
    last: int
    digits: str
    written: bool  # digits written as digits (not number words)
    unit_at: int = -1  # "twenty four": the token of its "four", where a number may start


@dataclass(frozen=True, slots=True)
class Claim:
    """Tokens first..last (inclusive) of a run are `kind`; `by_cue` when a cue decided."""

    first: int
    last: int
    kind: str
    by_cue: bool


def luhn_ok(digits: str) -> bool:
    """The check digit of payment card numbers (ISO/IEC 7812)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def digit_groups(classes: Sequence[WordClass]) -> list[Group]:
    """The run's digit groups in order, homophones counted where they are digits."""
    groups: list[Group] = []
    n, i = len(classes), 0
    while i < n:
        c = classes[i]
        if c.kind == "numeral":
            groups += [Group(i, i, g, True) for g in c.groups]
            i += 1
        elif c.kind == "number_words":
            parts: list[str] = []
            owner: list[int] = []
            while i < n and classes[i].kind == "number_words":
                parts += classes[i].parts
                owner += [i] * len(classes[i].parts)
                i += 1
            for a, b, d in group_number_words(parts):
                pair = b - a == 2 and len(d) == 2 and parts[b - 1] in UNITS
                groups.append(Group(owner[a], owner[b - 1], d, False,
                                    owner[b - 1] if pair else -1))
        else:
            i += 1
    real = sum(len(g.digits) for g in groups)
    if real >= _HOMOPHONE_NEEDS:
        digit_at = {t for g in groups for t in range(g.first, g.last + 1)}
        for i, c in enumerate(classes):
            if c.kind == "homophone" and (i - 1 in digit_at or i + 1 in digit_at):
                groups.append(Group(i, i, c.digits, False))
        groups.sort(key=lambda g: g.first)
    return groups


def real_digits(classes: Sequence[WordClass]) -> int:
    """How many digits the run holds (homophones where they count)."""
    return sum(len(g.digits) for g in digit_groups(classes))


def _luhn_claims(groups: list[Group]) -> list[Claim]:
    """Every window of whole groups holding 13-19 digits that passes Luhn (a window may
    also start at the unit of "twenty four": "twenty, four five three nine ...")."""
    claims = []
    for s in range(len(groups)):
        starts = [(groups[s].digits, groups[s].first)]
        if groups[s].unit_at >= 0:
            starts.append((groups[s].digits[-1], groups[s].unit_at))
        for head, first in starts:
            digits = head
            for e in range(s, len(groups)):
                if e > s:
                    digits += groups[e].digits
                if len(digits) > _CARD_MAX:
                    break
                if len(digits) >= _CARD_MIN and luhn_ok(digits):
                    claims.append(Claim(first, groups[e].last, "card_number", False))
    return claims


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    return (area not in ("000", "666") and not area.startswith("9") and group != "00"
            and serial != "0000")


def _shape_claims(groups: list[Group], config: RedactionConfig) -> list[Claim]:
    """Kinds with a shape of their own, found without a cue (SSN 3-2-4, phone numbers)."""
    claims: list[Claim] = []
    lengths = [len(g.digits) for g in groups]
    written = [g.written for g in groups]
    for s in range(len(groups)):
        if config.on("ssn") and lengths[s:s + 3] == [3, 2, 4] and all(written[s:s + 3]) \
                and _ssn_valid(groups[s].digits, groups[s + 1].digits, groups[s + 2].digits):
            claims.append(Claim(groups[s].first, groups[s + 2].last, "ssn", False))
        if config.on("phone_number"):
            for shape in ([3, 3, 4], [1, 3, 3, 4]):
                if lengths[s:s + len(shape)] == shape:
                    e = s + len(shape) - 1
                    claims.append(Claim(groups[s].first, groups[e].last, "phone_number",
                                        False))
    total = "".join(g.digits for g in groups)
    if config.on("phone_number") and groups and (
            len(total) == 10 or (len(total) == 11 and total[0] in "01")):
        claims.append(Claim(groups[0].first, groups[-1].last, "phone_number", False))
    return claims


def _by_cue(cue: str, n: int, classes: Sequence[WordClass], written: bool,
            config: RedactionConfig) -> str | None:
    """The kind a cue gives a run of `n` digits (None: the cue does not take it)."""
    has_month = any(c.kind == "month" for c in classes)
    has_ordinal = any(c.kind == "ordinal" for c in classes)
    date_ok = n >= 1 or (has_month and has_ordinal)
    # Asked for a code, Whisper may write "seven three nine" as "7th free": any number.
    loose = any(c.kind in ("numeral", "number_words", "ordinal") for c in classes)
    card = "card_number" if config.on("card_number") else None
    kind: str | None = None
    if cue == "card_number":
        kind = card if n >= 3 else None
    elif cue == "security_code":
        if n >= 7:
            return card
        kind = cue if loose else None
    elif cue == "expiry_date":
        if n >= 7:
            return card
        kind = cue if date_ok or loose else None
    elif cue == "date_of_birth":
        kind = cue if date_ok else None
    elif cue == "ssn":
        kind = cue if n >= 4 else None
    elif cue == "bank_account":
        kind = cue if n >= 4 else None
    elif cue == "routing_number":
        kind = cue if n >= 5 else None
    elif cue == "phone_number":
        kind = cue if n >= 7 else None
    elif cue == "postal_address":
        # A house or postal code number; one digit alone ("the right one") is not, and
        # "apartment 4" is taken with the cue's words (coaching.redaction_people).
        kind = cue if n >= 2 else None
    return kind if kind is not None and config.on(kind) else None


def claim_run(classes: Sequence[WordClass], cue: str | None, config: RedactionConfig,
              later_cue: str | None = None, amount: bool = False) -> list[Claim]:
    """The claims on a run: card windows first, then its cue's kind over the whole run.

    Args:
        classes: the run's tokens (number words, numerals, homophones, months, ordinals).
        cue: the kind of the cue active when the run began (None: no cue, or expired).
        later_cue: a cue said right after the run in the same breath ("... is my card
            number"), used when the run had no cue of its own that took it.
        amount: the run is followed by a unit ("24 hours"): only a card number is taken.
    """
    if not classes:
        return []
    groups = digit_groups(classes)
    n = sum(len(g.digits) for g in groups)
    written = any(g.written for g in groups)
    if config.on("card_number") and _luhn_claims(groups):
        # The whole run: digits said on after a card number (its code, its expiry) are
        # payment data too.
        return [Claim(0, len(classes) - 1, "card_number", False)]
    if amount:
        return []
    whole = None
    for c in (cue, later_cue):
        kind = _by_cue(c, n, classes, written, config) if c else None
        if kind is not None:
            whole = Claim(0, len(classes) - 1, kind, True)
            break
    if whole is not None:
        return [whole]
    return _shape_claims(groups, config)


_LINKS = frozenset({"of", "is", "was", "be", "just", "only", "about"})  # "payment of 120"
# "150 on the card": an amount charged to it, not its digits
_CHARGED_TO = frozenset({"on", "onto", "to", "from", "the", "your", "my", "that", "this",
                         "same", "please", "it", "put"})


def amount_before(keys: Sequence[str], first: int, amount_words: frozenset[str]) -> bool:
    """The digits starting at word `first` follow an amount word ("a payment of 120",
    "the balance is 150"): an amount, not a code or a card's digits."""
    k = first - 1
    while k >= 0 and keys[k] in _LINKS and first - k <= 2:
        k -= 1
    return k >= 0 and keys[k] in amount_words


def charged_to(keys: Sequence[str]) -> bool:
    """The words between digits and a card cue after them are only "on the", "to your"
    ("150 on the card"): an amount charged to the card."""
    return all(k in _CHARGED_TO for k in keys)
