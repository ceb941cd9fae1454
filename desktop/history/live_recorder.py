"""Writes one live call into the call history as it happens.

Each event is committed when it fires and the transcript and call time about once a
second, so a crash loses seconds, not the call: the next start finds the unfinished call
and stores it as "recovered". Shared by `callcoach live` and the window. If the history
fails mid-call, that is said once (through `on_error`) and the call goes on unsaved:
coaching matters more than the record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from coaching.redaction_config import RedactionConfig
from coaching.timeline import Utterance
from desktop.history.store import CallHistory, HistoryError

__all__ = ["LiveRecorder", "utterance_dict"]


def utterance_dict(u: Utterance) -> dict[str, Any]:
    return {"speaker": u.speaker, "start": u.start, "end": u.end, "text": u.text}


class LiveRecorder:
    """Thread-safe as the store is: events may come from the capture worker while the
    transcript is written from another thread."""

    def __init__(self, store: CallHistory | None, on_error: Callable[[str], None]) -> None:
        self.store = store
        self.on_error = on_error
        self.call_id: int | None = None
        self._written = 0  # transcript lines already in the history

    def begin(self, agent_device: str, customer_device: str, model: str,
              redaction: RedactionConfig | None = None) -> None:
        """Open the call in the history. `redaction` (the playbook's) is written with it,
        so that a call recovered after a crash still says what was not redacted."""
        if self.store is None:
            return
        try:
            self.call_id = self.store.begin_call(
                started_at=datetime.now().astimezone(), agent_device=agent_device,
                customer_device=customer_device, model=model)
        except HistoryError as exc:
            self.on_error(f"this call will not be saved: {exc}")
            self.store = None
            return
        if redaction is not None:
            info = {"redaction": redaction.to_dict(), "notes": list(redaction.notes)}
            self._write(lambda s: s.note_redaction(self.call_id, info))

    def event(self, doc: dict[str, Any]) -> None:
        self._write(lambda s: s.append_event(self.call_id, doc))

    def transcript(self, utterances: Sequence[Utterance]) -> None:
        """Write the lines transcribed since the last call (the list only grows)."""
        new = list(utterances[self._written:])
        self._written += len(new)
        for u in new:
            self._write(lambda s, u=u: s.append_utterance(self.call_id, utterance_dict(u)))

    def progress(self, call_time_s: float) -> None:
        self._write(lambda s: s.note_progress(self.call_id, call_time_s))

    def finish(self, doc: dict[str, Any], audio_path: str | None = None,
               source: str = "live") -> int | None:
        """Store the scored call; its history id, or None if it was not saved."""
        ok = self._write(lambda s: s.finish_call(self.call_id, doc, audio_path, source))
        return self.call_id if ok else None

    def interrupted(self) -> int | None:
        """The engine died mid-call: store the call as written so far (as the next
        start would recover it, but now); its history id, or None if not saved."""
        ok = self._write(lambda s: s.recover(self.call_id))
        return self.call_id if ok else None

    def discard(self) -> None:
        """The call never started (a device failed to open): leave no trace of it."""
        self._write(lambda s: s.delete(self.call_id))

    def _write(self, action: Callable[[CallHistory], object]) -> bool:
        store = self.store
        if store is None or self.call_id is None:
            return False
        try:
            action(store)
        except (HistoryError, TypeError, ValueError) as exc:
            self.store = None
            self.on_error(f"the call history failed, the rest of this call is not saved: "
                          f"{exc}")
            return False
        return True
