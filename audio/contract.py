"""The JSON contract of `callcoach analyze` (schema 1, see DESIGN.md).

Other tools, the tests and the scorecard history read this. Fields may be added; the
documented ones may not be renamed.

What was redacted, for an auditor to count without seeing it (`coaching.redactor`):

- `redaction`: `{"on": [kinds], "off": [kinds]}`, the playbook's switches for this call.
  Kinds: card_number, security_code, expiry_date, ssn, date_of_birth, bank_account,
  routing_number, email, phone_number, name, postal_address. A payment kind that is off
  is also said in `notes`.
- `redactions`: one `{"kind", "speaker", "start", "end"}` per redacted stretch (seconds
  into the call; a card number read over several utterances is one), never its content.
- In `transcript` (and every quote in `events` and `scorecard`) the words are replaced
  by the kind's marker, `[card number]`, `[name]`..., with the words' times kept.
- A live call whose audio was kept also has `audio_silenced`: `{"stretches": n,
  "seconds_by_reason": {kind or "unchecked": seconds}}`, how much is silence and why.
"""

from __future__ import annotations

import math
from typing import Any

from audio.analysis import CallAnalysis
from coaching.timeline import Event, Redaction, Utterance

__all__ = ["SCHEMA", "analysis_to_dict", "event_to_dict", "redaction_to_dict"]

SCHEMA = 1


def _r(value: float, digits: int = 2) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def _utterance(u: Utterance) -> dict[str, Any]:
    return {
        "speaker": u.speaker, "start": _r(u.start), "end": _r(u.end), "text": u.text,
        "words": [{"start": _r(w.start), "end": _r(w.end), "text": w.text,
                   "probability": _r(w.probability, 3)} for w in u.words],
    }


def redaction_to_dict(r: Redaction) -> dict[str, Any]:
    """One redaction: what kind, whose, where; never what was said."""
    return {"kind": r.kind, "speaker": r.speaker, "start": _r(r.start), "end": _r(r.end)}


def event_to_dict(e: Event) -> dict[str, Any]:
    """One event as the contract spells it (also used by `callcoach live --json`)."""
    return {
        "kind": e.kind, "speaker": e.speaker, "start": _r(e.start), "end": _r(e.end),
        "prompt": e.prompt, "reason": e.reason, "detected_at": _r(e.detected_at),
        "priority": e.priority, "evidence": e.evidence,
        "measures": {k: _r(v, 3) for k, v in e.measures.items()},
        "prompted": e.prompted,
    }


def analysis_to_dict(analysis: CallAnalysis) -> dict[str, Any]:
    """The schema-1 document for one analysed call."""
    rec = analysis.recording
    return {
        "schema": SCHEMA,
        "recording": rec.path,
        "duration_s": _r(rec.duration_s),
        "agent_channel": rec.agent_channel,
        "channels": rec.channels,
        "model": analysis.model_name,
        "playbook": analysis.playbook.source,
        "notes": list(analysis.notes),
        "skipped_kinds": list(analysis.skipped_kinds),
        "redaction": analysis.playbook.redaction.to_dict(),
        "redactions": [redaction_to_dict(r) for r in analysis.timeline.redactions],
        "transcript": [_utterance(u) for u in analysis.timeline.utterances],
        "speech_turns": [{"speaker": t.speaker, "start": _r(t.start), "end": _r(t.end)}
                         for t in analysis.timeline.turns],
        "events": [event_to_dict(e) for e in analysis.events],
        "scorecard": analysis.scorecard.to_dict(),
        "timings_s": {k: _r(v, 3) for k, v in analysis.timings.items()},
    }
