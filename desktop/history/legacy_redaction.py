"""Calls stored before callcoach redacted transcripts, redacted where they lie.

A history written by an older callcoach holds transcripts as Whisper wrote them. Opening
it with this version (schema 2) redacts every stored call once: the transcript through
the same redactor the engine uses (with the bundled playbook's cues, since the call's own
playbook is not known), and every string quoting it (the cues' evidence, reasons, the
scorecard's quotes) by the words the transcript lost, so no copy of a card number is left
behind. The store then rewrites the file (VACUUM) so the old pages are gone too.
"""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
from collections.abc import Iterable
from typing import Any

from coaching.number_words import classify
from coaching.redaction_config import RedactionConfig, default_redaction
from coaching.redactor import redact_utterances
from coaching.timeline import Utterance, Word
from desktop.history.schema import indexed_columns

__all__ = ["LEGACY_NOTE", "redact_legacy_document", "redact_live_items", "is_legacy",
           "redact_stored_calls"]

_MARKER = re.compile(r"\[[a-z ]+\]")
LEGACY_NOTE = ("Stored before callcoach redacted transcripts: personal data was taken out "
               "afterwards, with the default cues")


def is_legacy(document: dict[str, Any]) -> bool:
    """A document written before redaction (it has no `redaction` field)."""
    return isinstance(document, dict) and "redaction" not in document


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else 0.0


def _utterance(entry: dict[str, Any]) -> Utterance:
    words = tuple(Word(_number(w.get("start")), _number(w.get("end")), str(w.get("text", "")))
                  for w in entry.get("words") or [] if isinstance(w, dict))
    return Utterance(str(entry.get("speaker", "")), _number(entry.get("start")),
                     _number(entry.get("end")), str(entry.get("text", "")), words)


def _lost(before: Utterance, after: Utterance) -> list[tuple[str, str]]:
    """(words as written, marker) for every stretch the redactor replaced."""
    if before.text == after.text:
        return []
    old, new = before.text.split(), after.text.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False
                                                      ).get_opcodes():
        if op in ("replace", "delete") and i2 > i1:
            markers = _MARKER.findall(" ".join(new[j1:j2]))
            out.append((" ".join(old[i1:i2]), markers[0] if markers else "[redacted]"))
    return out


def _masker(lost: Iterable[tuple[str, str]]):
    """A function that takes every lost stretch (and each of its numbers of 3 or more
    digits, for a quote that holds only part of it) out of a string."""
    pairs: dict[str, str] = {}
    for text, marker in lost:
        pairs[text.strip(" .,?!;:")] = marker
        for token in text.split():
            c = classify(token)
            if c.kind == "numeral" and len(c.digits) >= 3:
                pairs[token.strip(" .,?!;:")] = marker
    pairs.pop("", None)
    if not pairs:
        return lambda s: s
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)"
                                  for t in sorted(pairs, key=len, reverse=True)))
    return lambda s: pattern.sub(lambda m: pairs[m.group(0)], s)


def _clean_strings(value: Any, mask, keys: frozenset[str]) -> Any:
    """Mask the speech-derived strings of a document (by key), recursively."""
    if isinstance(value, dict):
        return {k: (mask(v) if k in keys and isinstance(v, str)
                    else _clean_strings(v, mask, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_strings(v, mask, keys) for v in value]
    return value


_QUOTING_KEYS = frozenset({"evidence", "reason", "text", "why", "detail", "prompt"})


def redact_legacy_document(document: dict[str, Any], config: RedactionConfig
                           ) -> tuple[dict[str, Any], int]:
    """The document redacted as the engine would have; and how many redactions."""
    entries = [e for e in document.get("transcript") or [] if isinstance(e, dict)]
    before = [_utterance(e) for e in entries]
    after, redactions, _ = redact_utterances(before, config)
    by_key = {(u.speaker, u.start, u.end): u for u in after}
    transcript, lost = [], []
    for entry, u in zip(entries, before, strict=True):
        new = by_key.get((u.speaker, u.start, u.end), u)
        lost += _lost(u, new)
        entry = dict(entry, text=new.text)
        if "words" in entry and new.words:
            entry["words"] = [{"start": w.start, "end": w.end, "text": w.text,
                               "probability": w.probability} for w in new.words]
        transcript.append(entry)
    mask = _masker(lost)
    out = {k: v for k, v in document.items() if k != "transcript"}
    out = _clean_strings(out, mask, _QUOTING_KEYS)
    out["transcript"] = transcript
    out["redaction"] = config.to_dict()
    out["redactions"] = [{"kind": r.kind, "speaker": r.speaker, "start": round(r.start, 2),
                          "end": round(r.end, 2)} for r in redactions]
    out["notes"] = [*(document.get("notes") or []), LEGACY_NOTE, *config.notes]
    return out, len(redactions)


def redact_live_items(items: list[tuple[int, str, dict[str, Any]]], config: RedactionConfig
                      ) -> list[tuple[int, dict[str, Any]]]:
    """An unfinished call's live items (id, kind, body) redacted: (id, new body)."""
    utterances = [(i, body) for i, kind, body in items if kind == "utterance"]
    doc = {"transcript": [body for _, body in utterances],
           "events": [body for _, kind, body in items if kind == "event"]}
    clean, _ = redact_legacy_document(doc, config)
    out = [(i, body) for (i, _), body in zip(utterances, clean["transcript"], strict=True)]
    events = iter(clean["events"])
    out += [(i, next(events)) for i, kind, _ in items if kind == "event"]
    return out


def redact_stored_calls(db: sqlite3.Connection) -> int:
    """Schema 2, inside the migration's transaction: the calls (and an unfinished call's
    live items) an older callcoach stored, redacted; how many were changed."""
    config = default_redaction()
    changed = 0
    rows = db.execute("SELECT id, document, agent FROM calls "
                      "WHERE document IS NOT NULL").fetchall()
    for call_id, text, agent in rows:
        try:
            document = json.loads(text)
        except ValueError:
            continue
        if is_legacy(document):
            document, _ = redact_legacy_document(document, config)
            changed += 1
        try:
            cols = indexed_columns(document, agent)
        except ValueError:
            continue
        cols["document"] = json.dumps(document, ensure_ascii=False)
        db.execute(f"UPDATE calls SET {', '.join(f'{k} = ?' for k in cols)} "
                   "WHERE id = ?", (*cols.values(), call_id))
    items: dict[int, list] = {}
    for item_id, call_id, kind, body in db.execute(
            "SELECT id, call_id, kind, body FROM live_items ORDER BY id"):
        try:
            items.setdefault(call_id, []).append((item_id, kind, json.loads(body)))
        except ValueError:
            continue
    for call_items in items.values():
        for item_id, body in redact_live_items(call_items, config):
            db.execute("UPDATE live_items SET body = ? WHERE id = ?",
                       (json.dumps(body, ensure_ascii=False), item_id))
        changed += 1
    return changed

