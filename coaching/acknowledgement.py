"""Listening words: what a backchannel or an acknowledgement is, by its words.

"Mm-hmm", "okay", "no problem, no problem" said while the other party talks, or as a whole
reply, keep the floor with them. The interruption rule and the transcript prompts both
need to tell such words from taking the floor; the words themselves are the playbook's
`backchannel` set.
"""

from __future__ import annotations

from coaching.playbook import Playbook, normalize_text

__all__ = ["FILLERS", "substantive"]

FILLERS = frozenset({"uh", "um", "er", "ah", "oh", "hmm", "so", "well", "and", "sir", "maam",
                     "madam", "miss", "then", "just"})


def substantive(playbook: Playbook, text: str) -> bool:
    """More than backchannels, acknowledgements and fillers: taking the floor, not
    listening."""
    norm = normalize_text(text)
    for pat in playbook.patterns("backchannel"):
        norm = pat.sub(" ", norm)
    return any(t not in FILLERS for t in norm.split())
