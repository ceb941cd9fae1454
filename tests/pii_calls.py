"""Synthesized calls in which the customer gives personal data, for the redaction tests.

The wording was chosen for Whisper tiny.en on espeak-ng's voices (checked by hand; a test
also checks it on every run with redaction turned off): digits read one by one with
commas come through as digits or digit words ("4, 5, 3, 9", "Zero three four three");
"the expiry date" on its own is heard as "the fiery date", "expiration date" is not; a
customer's "No, ..." after digits comes out as "0". Whisper is touchy here: "It is seven,
three, nine." as the code's line made it skip every digit of the packed customer channel.
The card number is a Luhn-valid Visa test number with no repeated groups (Whisper
miscounts "one one one one").
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from audio.transcribe import Transcriber
from tests.callsynth import Line, SynthCall, synth_call

__all__ = ["HeardTranscriber", "heard_in_the_engine", "HEARD_FILE_ENV", "read_heard",
           "secret_texts", "CARD", "CARD_GROUPS", "CVV", "EXPIRY", "SSN",
           "DOB_YEAR", "SECRETS", "card_call_lines", "identity_call_lines", "make_card_call",
           "make_identity_call", "contact_call_lines", "make_contact_call", "leaks"]

A, C = "agent", "customer"
CARD_GROUPS = ("4539", "1488", "0343", "6467")
CARD = "".join(CARD_GROUPS)
CVV = "739"
EXPIRY = "0827"
SSN = "219098765"
DOB_YEAR = "1980"
_WORDS = "zero one two three four five six seven eight nine".split()


def _spoken(digits: str) -> str:
    """'4539' -> 'four, five, three, nine.'"""
    return ", ".join(_WORDS[int(d)] for d in digits) + "."


def secret_texts() -> frozenset[str]:
    """The customer's lines that give personal data away (their audio must not be kept)."""
    return frozenset([_spoken(g) for g in CARD_GROUPS] + [_spoken(EXPIRY), _spoken(CVV),
                      _spoken(SSN), _DOB_LINE])


_DOB_LINE = "It is the fifteenth of March, nineteen eighty."


def card_call_lines() -> list[Line]:
    """The customer reads a card number in groups, the agent saying "okay" between them,
    then its expiry date and its security code."""
    lines = [
        Line(A, "Thank you for calling Acme support, my name is Sam. How can I help you?"),
        Line(C, "Hi, I would like to pay my bill please."),
        Line(A, "Of course. What is the long number on the front of the card?"),
    ]
    for i, group in enumerate(CARD_GROUPS):
        lines.append(Line(C, _spoken(group), gap=0.7))
        if i < len(CARD_GROUPS) - 1:
            lines.append(Line(A, "okay", gap=0.5))
    lines += [
        Line(A, "Thank you. And what is the expiration date?", gap=0.8),
        Line(C, _spoken(EXPIRY)),
        Line(A, "And the security code on the back of the card?"),
        Line(C, _spoken(CVV)),
        Line(A, "Thank you, the payment has gone through. Is there anything else I can "
                "help you with today?"),
        Line(C, "That is all, thank you. Bye."),
    ]
    return lines


def identity_call_lines() -> list[Line]:
    """The customer gives a social security number and a date of birth."""
    return [
        Line(A, "Thank you for calling Acme support, my name is Sam. How can I help you?"),
        Line(C, "Hi, I need to update my account details."),
        Line(A, "Sure. Can I have your social security number please?"),
        Line(C, _spoken(SSN)),
        Line(A, "Thank you. And can you confirm your date of birth?"),
        Line(C, _DOB_LINE),
        Line(A, "Thank you, your details are updated. Is there anything else I can help "
                "you with today?"),
        Line(C, "No, that is all, thank you. Bye."),
    ]


def contact_call_lines() -> list[Line]:
    """The customer gives their name and their home address; the agent uses the name."""
    return [
        Line(A, "Thank you for calling Acme support, my name is Sam. Can I have your full "
                "name please?"),
        Line(C, "Yes, it is Maria Lopez."),
        Line(A, "Thank you, Maria. And what is your home address?"),
        Line(C, "It is 42 Oak Street, Springfield."),
        Line(A, "Thank you, your address is updated. Is there anything else I can help "
                "you with today?"),
        Line(C, "No, that is all, thank you. Bye."),
    ]


def make_contact_call(path: Path) -> SynthCall:
    return synth_call(contact_call_lines(), path)


def make_card_call(path: Path) -> SynthCall:
    return synth_call(card_call_lines(), path)


def make_identity_call(path: Path) -> SynthCall:
    return synth_call(identity_call_lines(), path)


# How a secret may look in any output: digits as Whisper writes them ("4539", "4 -5 -3
# -9", "4 ,539", "0 .827") or as digit words ("four, five, three, nine"), but not inside a
# longer number or a decimal ("14539", "17.39" are times, not the code).
_SEP = r"(?:\s*,\s*|\s*-\s*|\s+\.?|\s*/\s*)?"
_WORD_SEP = r"(?:[\s,.\-]+)"


# A digit Whisper wrote as a word that sounds like it ("to one nine" for 2, 1, 9) still
# gives it away.
_SOUNDS_LIKE = {"0": ("oh",), "1": ("won",), "2": ("to", "too"), "3": ("free", "tree"),
                "4": ("for", "fore"), "8": ("ate",)}


def _pattern(digits: str) -> re.Pattern[str]:
    written = _SEP.join(digits)
    spoken = _WORD_SEP.join("(?:" + "|".join((_WORDS[int(d)], *_SOUNDS_LIKE.get(d, ()))) + ")"
                            for d in digits)
    return re.compile(rf"(?<!\d)(?<!\d\.)(?:{written})(?!\d)(?!\.\d)|\b{spoken}\b",
                      re.IGNORECASE)


SECRETS: dict[str, tuple[str, ...]] = {
    "card number": (CARD,), "card group": CARD_GROUPS, "security code": (CVV,),
    "expiry": (EXPIRY,), "ssn": (SSN,), "date of birth": (DOB_YEAR,)}
_PATTERNS = {name: [_pattern(v) for v in values] for name, values in SECRETS.items()}


def leaks(text: str | bytes, names: tuple[str, ...] | None = None) -> list[str]:
    """The secrets a text (or a file's bytes) shows, by name."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return [name for name, patterns in _PATTERNS.items()
            if (names is None or name in names) and any(p.search(text) for p in patterns)]


class HeardTranscriber(Transcriber):
    """The bundled Whisper, keeping what it heard live before the engine redacted it: the
    control that the digits were there to be redacted. Shares a loaded model if given."""

    def __init__(self, model=None) -> None:
        super().__init__(model=model)
        self.heard: list = []

    def transcribe_utterance(self, audio, speaker, offset_s):
        u = super().transcribe_utterance(audio, speaker, offset_s)
        if u is not None:
            self.heard.append(u)
        return u


HEARD_FILE_ENV = "CALLCOACH_TEST_HEARD_FILE"  # where the live engine's control goes


class _HeardToFile(HeardTranscriber):
    """In the live engine's process: each utterance as Whisper heard it, appended to a
    file the test names (outside the app's data folder, which must stay clean)."""

    def __init__(self, model, path: str) -> None:
        super().__init__(model=model)
        self.path = path

    def transcribe_utterance(self, audio, speaker, offset_s):
        u = super().transcribe_utterance(audio, speaker, offset_s)
        if u is not None:
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(json.dumps({"speaker": u.speaker, "text": u.text}) + "\n")
        return u


def heard_in_the_engine(transcriber: Transcriber) -> Transcriber:
    """The window's `transcriber_hook`: run in the engine child, the same loaded model,
    what it heard written to `$CALLCOACH_TEST_HEARD_FILE`."""
    return _HeardToFile(transcriber._model, os.environ[HEARD_FILE_ENV])


def read_heard(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
