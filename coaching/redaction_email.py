"""Email addresses in an utterance, written ("john@example.com") or spoken ("john dot
smith at example dot com", which Whisper writes "john .smith at example .com").

Spoken, an address is a name, "at", a host and a known top-level domain. Whisper often
mishears "smith at" as "mit that", so after an email cue ("what is your email?") the words
up to the domain ending are taken whatever they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from coaching.number_words import TLDS, WordClass

__all__ = ["email_spans"]

_SEPARATORS = frozenset({".", "_", "-", "underscore", "dash", "hyphen", "dot", "point"})
_LEAD_INS = frozenset({"sure", "yes", "yeah", "okay", "ok", "it", "its", "it's", "is", "my",
                       "email", "address", "e", "mail", "that's", "thats", "so", "um", "uh"})
_MAX_WORDS = 14  # an address after a cue ends within this many words


def _subtokens(text: str) -> list[str]:
    """'example.com,' -> ['example', '.', 'com']; '.smith' -> ['.', 'smith']."""
    return [t for t in re.split(r"(\.)|[^\w.]+", text.lower()) if t]


def _ends_with_domain(text: str, before: str) -> bool:
    """The word ends an address: 'example.com', '.com', or 'com' after 'dot'."""
    subs = _subtokens(text)
    if not subs or subs[-1] not in TLDS:
        return False
    return (len(subs) >= 2 and subs[-2] == ".") or before in ("dot", "point")


def _spoken(keys: list[str], words: Sequence[str]) -> list[tuple[int, int]]:
    """'<name> at <host> dot <tld>' anywhere in the utterance."""
    spans = []
    for k, key in enumerate(keys):
        if key != "at" or k == 0:
            continue
        end = None
        for j in range(k + 1, min(len(keys), k + 8)):
            if _ends_with_domain(words[j], keys[j - 1]):
                end = j
                break
        if end is None or end == k + 1 and "." not in words[end].strip(".,!?"):
            continue
        start = k - 1
        while start > 0:  # back over "john dot smith", "john .smith", "john_smith"
            if start >= 2 and keys[start - 1] in _SEPARATORS:
                start -= 2
            elif words[start].lstrip().startswith((".", "_", "-")):
                start -= 1
            else:
                break
        spans.append((start, end))
    return spans


def email_spans(classes: Sequence[WordClass], words: Sequence[str], in_context: bool,
                after: int = -1) -> list[tuple[int, int]]:
    """Word index spans (first, last inclusive) of email addresses in one utterance.

    Args:
        classes: each word's class (a written address is class "email").
        words: the words as Whisper wrote them.
        in_context: an email cue is active: the address may be misheard.
        after: the index of the cue's last word in this utterance (-1: none here).
    """
    spans = [(i, i) for i, c in enumerate(classes) if c.kind == "email"]
    keys = [c.key for c in classes]
    spans += _spoken(keys, words)
    if in_context and not spans:
        start = after + 1
        while start < len(keys) and keys[start] in _LEAD_INS:
            start += 1
        for j in range(start, min(len(keys), start + _MAX_WORDS)):
            if _ends_with_domain(words[j], keys[j - 1] if j else ""):
                spans.append((start, j))
                break
    return sorted(set(spans))
