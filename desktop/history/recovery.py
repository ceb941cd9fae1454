"""Turning what a crashed live call left in the history back into a schema-1 document.

A live call writes its events and utterances to the history as they happen; if the app
dies before the call ends, the scorecard was never computed. What was written is still
worth keeping (the prompts the agent saw, what was said), so it is stored as a call whose
scorecard says plainly that it was not computed. The metrics that follow from the events
alone (counts and durations of interruptions, raised voice, dead air) are filled in; the
ones that need the audio are left out rather than guessed.

Also here: telling a call that is still running in another process from an abandoned one,
so that starting a second callcoach never "recovers" a call that is in progress.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from coaching.redaction_config import MARKERS

__all__ = ["RECOVERED_NOTE", "recovered_document", "parse_live_items", "process_alive"]

RECOVERED_NOTE = ("recovered after a crash: the events and transcript are those written "
                  "before the app or its engine stopped; the scorecard was not computed")


def parse_live_items(rows: Sequence[tuple[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """A live call's items as stored, (kind, JSON body), by kind; a torn write is skipped."""
    parsed: dict[str, list[dict[str, Any]]] = {"event": [], "utterance": [], "redaction": []}
    for kind, body in rows:
        try:
            item = json.loads(body)
        except ValueError:  # a torn write: skip it, keep the rest
            continue
        if isinstance(item, dict) and kind in parsed:
            parsed[kind].append(item)
    return parsed


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _end_of(item: dict[str, Any]) -> float:
    """The latest call time an event or utterance mentions (0 when it has none)."""
    times = [_num(item.get(k)) for k in ("end", "detected_at", "start")]
    return max((t for t in times if t is not None), default=0.0)


def _span(events: Sequence[dict[str, Any]], kind: str) -> float:
    total = 0.0
    for e in events:
        start, end = _num(e.get("start")), _num(e.get("end"))
        if e.get("kind") == kind and start is not None and end is not None:
            total += max(0.0, end - start)
    return round(total, 1)


def _metrics(events: Sequence[dict[str, Any]], has_customer: bool) -> dict[str, Any]:
    """The metrics that the events alone determine (as coaching.metrics counts them)."""
    kinds = [e.get("kind") for e in events]
    return {
        "interruptions": kinds.count("interruption") if has_customer else None,
        "customer_interruptions": kinds.count("customer_interruption") if has_customer
        else None,
        "raised_voice_s": _span(events, "raised_voice"),
        "dead_air_s": _span(events, "dead_air") if has_customer else None,
        "events": len(events),
        "prompts_shown": sum(1 for e in events if e.get("prompted", True) and e.get("prompt")),
    }


def _redactions(transcript: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the markers in a (redacted) transcript stand for, at their utterance's time:
    the live items have no word times."""
    kinds = {marker: kind for kind, marker in MARKERS.items()}
    out = []
    for u in transcript:
        for marker in re.findall(r"\[[a-z ]+\]", str(u.get("text", ""))):
            if marker in kinds:
                out.append({"kind": kinds[marker], "speaker": u.get("speaker"),
                            "start": u.get("start"), "end": u.get("end")})
    return out


def recovered_document(events: Sequence[dict[str, Any]], utterances: Sequence[dict[str, Any]],
                       *, has_customer: bool, model: str | None = None,
                       reached_s: float = 0.0,
                       redaction: dict[str, Any] | None = None) -> dict[str, Any]:
    """The schema-1 document of an interrupted live call, from what was written of it.

    Args:
        events: event dicts as `audio.contract.event_to_dict` gives them, in any order.
        utterances: transcript entries ({"speaker", "start", "end", "text", ...}).
        has_customer: whether the call had a customer source.
        model: the Whisper model the call used, if known.
        reached_s: the last call time the live session reported it had reached.
        redaction: what the call's playbook redacted ({"redaction", "notes"}), if written.

    Returns:
        A document `CallHistory.save_call` accepts; its duration is the end of the last
        thing written (or `reached_s` if later), its scorecard has no score and `"computed": False`.
    """
    events = sorted(events, key=lambda e: (_num(e.get("start")) or 0.0))
    transcript = sorted(utterances, key=lambda u: (_num(u.get("start")) or 0.0,
                                                   str(u.get("speaker", ""))))
    duration = max([_num(reached_s) or 0.0, *(_end_of(x) for x in [*events, *transcript])])
    redaction = redaction if isinstance(redaction, dict) else {}
    extra = ({"redaction": redaction["redaction"], "redactions": _redactions(transcript)}
             if isinstance(redaction.get("redaction"), dict) else {})
    return {
        "schema": 1,
        "recording": "live",
        "duration_s": round(duration, 2),
        "agent_channel": "left",
        "channels": "stereo" if has_customer else "agent-only",
        "model": model,
        "notes": [RECOVERED_NOTE, *(str(n) for n in redaction.get("notes") or [])],
        "skipped_kinds": [],
        "transcript": transcript,
        "speech_turns": [],
        "events": events,
        "scorecard": {"score": None, "computed": False, "checks": [],
                      "metrics": _metrics(events, has_customer), "breakdown": {},
                      "notes": [RECOVERED_NOTE]},
        "recovered": True,
    } | extra


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (False when unsure)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it on Windows
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _windows_process_alive(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    query_limited_information, still_active = 0x1000, 259
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)
