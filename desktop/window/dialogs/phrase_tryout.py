"""Try a sentence against the playbook: which phrase sets it says, for the agent or the
customer, and why (the pattern, or the example sentence it was close to and how close).

A trainer tuning a playbook types what an agent might say and sees at once what the
coaching engine would hear in it, and which sets came near but did not count (a guard
said there, or a near miss it was closer to). The sentence is judged on the GUI thread
(a pattern search and, once loaded, one sentence embedding: milliseconds); the playbook
is read on a worker thread and the sentence encoder loads on its own
(`audio.sentence_encoder.shared_encoder`); until it is loaded the dialog matches by
patterns only and says so.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from audio.sentence_encoder import EncoderLoad, shared_encoder
from coaching.phrase_check import as_typed
from coaching.playbook import Playbook, PlaybookError, load_playbook
from coaching.semantic import PhraseMatch
from coaching.why_not import held_back
from desktop.window.theme import FAIL_COLOR, MUTED_COLOR, PASS_COLOR

__all__ = ["PhraseTryoutDialog", "why_text"]

_JUDGE_DELAY_MS = 150  # judge after a pause in typing
_POLL_MS = 100  # how often the encoder's load is looked at until it ends


def why_text(match: PhraseMatch, floor: float) -> str:
    """Why a set matched, in a trainer's words."""
    if match.how == "example":
        return (f"close in meaning to an example (similarity {match.similarity:.2f}, "
                f'{floor:.2f} needed): "{match.example}"')
    if match.how == "implied":
        sets = " and ".join(s.replace("_", " ") for s in match.implied_by)
        return f"{sets} said in one sentence"
    if match.how == "learned":
        words = ", ".join(f'"{w}"' for w in match.learned_words)
        return (f"the model learned from labelled calls is {match.similarity:.0%} sure" +
                (f"; the words that weighed most: {words}" if words else ""))
    return f"matches the pattern  {match.pattern}"


class _PlaybookReader(QObject):
    """Reads a playbook on a worker thread and gives it the encoder there (embedding
    its example sentences, when the encoder is loaded already); the result comes back
    to the GUI thread as a signal."""

    done = Signal(int, object, str)  # request number, the Playbook or None, the error

    def read(self, number: int, path: str, load: EncoderLoad) -> None:
        def work() -> None:
            try:
                playbook = load_playbook(path or None)
                load.attach(playbook)  # never waits: given the encoder when it loads
                result, error = playbook, ""
            except PlaybookError as exc:
                result, error = None, str(exc)
            except Exception as exc:  # noqa: BLE001 - a broken file is a message
                result, error = None, f"{type(exc).__name__}: {exc}"
            try:
                self.done.emit(number, result, error)
            except RuntimeError:  # the dialog was closed and deleted meanwhile
                pass

        threading.Thread(target=work, name="callcoach-playbook-read", daemon=True).start()


class PhraseTryoutDialog(QDialog):
    """A sentence, a speaker, and the phrase sets the engine hears in it.

    Signals:
        judged(): the list of matches was refreshed (tests wait on it).
        matchingChanged(): the encoder's load ended (loaded or failed).
        playbookRead(): the playbook was read (or found unusable).
    """

    judged = Signal()
    matchingChanged = Signal()
    playbookRead = Signal()

    def __init__(self, playbook_path: str = "", parent: QWidget | None = None,
                 encoder_load: EncoderLoad | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Try a sentence against the playbook")
        self.playbook: Playbook | None = None
        self.playbook_path = playbook_path
        self._load = encoder_load or shared_encoder()

        self.playbook_label = QLabel(objectName="playbook_label")
        self.playbook_label.setWordWrap(True)
        self.sentence = QLineEdit(objectName="sentence")
        self.sentence.setPlaceholderText("Type what the agent or the customer says\u2026")
        self.sentence.setClearButtonEnabled(True)
        self.sentence.setMinimumWidth(460)
        self.agent = QRadioButton("&Agent", objectName="speaker_agent")
        self.customer = QRadioButton("C&ustomer", objectName="speaker_customer")
        self.agent.setChecked(True)
        speakers = QButtonGroup(self)
        speakers.addButton(self.agent)
        speakers.addButton(self.customer)
        self._rows: list[tuple[str, str, str]] = []  # (set, words as typed, why)
        self._near: list[tuple[str, str, str]] = []  # sets held back: (set, words, why)
        self._rows_box = QWidget(objectName="results_box")
        self._grid = QGridLayout(self._rows_box)
        self._grid.setColumnStretch(1, 1)
        self._grid.setHorizontalSpacing(14)
        self._grid.setVerticalSpacing(10)
        self.results = QScrollArea(objectName="results")
        self.results.setWidgetResizable(True)
        self.results.setWidget(self._rows_box)
        self.results.setMinimumHeight(180)
        self.summary = QLabel(objectName="summary")
        self.summary.setWordWrap(True)
        self.listened = QLabel(objectName="listened")
        self.listened.setWordWrap(True)
        self.listened.setStyleSheet(f"color: {MUTED_COLOR.name()};")
        self.matching = QLabel(objectName="matching")
        self.matching.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.sentence, 1)
        row.addWidget(QLabel("said by"))
        row.addWidget(self.agent)
        row.addWidget(self.customer)
        layout = QVBoxLayout(self)
        layout.addWidget(self.playbook_label)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.listened)
        layout.addWidget(self.matching)
        layout.addWidget(buttons)
        self.resize(760, 420)

        self._debounce = QTimer(self, singleShot=True, interval=_JUDGE_DELAY_MS)
        self._debounce.timeout.connect(self.judge)
        self._poll = QTimer(self, interval=_POLL_MS)
        self._poll.timeout.connect(self._check_load)
        self.sentence.textChanged.connect(lambda _: self._debounce.start())
        self.sentence.returnPressed.connect(self.judge)
        self.agent.toggled.connect(lambda _: self.judge())
        self._reads = 0
        self._reader = _PlaybookReader(self)
        self._reader.done.connect(self._playbook_read)
        self.use_playbook(playbook_path)

    # -- the playbook and the encoder ------------------------------------------------
    def use_playbook(self, path: str) -> None:
        """Judge against the playbook at `path` ("" = the bundled one) from now on. It
        is read on a worker thread (the first read compiles every pattern: up to a
        second on a busy PC); only the latest request counts."""
        self.playbook_path = path
        self.playbook = None
        self._reads += 1
        self.playbook_label.setStyleSheet(f"color: {MUTED_COLOR.name()};")
        self.playbook_label.setText("Reading the playbook\u2026")
        self._show([])
        self._reader.read(self._reads, path, self._load)

    def _playbook_read(self, number: int, playbook: object, error: str) -> None:
        if number != self._reads:
            return  # a newer playbook was asked for meanwhile
        path = self.playbook_path
        if playbook is None:
            self.playbook_label.setText(f"The playbook cannot be used: {error}")
            self.playbook_label.setStyleSheet(f"color: {FAIL_COLOR.name()};")
            self.sentence.setEnabled(False)
            self.matching.clear()
            self.listened.clear()
            self._show([])
            self.playbookRead.emit()
            return
        self.playbook = playbook  # type: ignore[assignment]
        self.playbook_label.setStyleSheet("")
        self.playbook_label.setText(f"Playbook: {path}" if path else
                                    "Playbook: the bundled one (Settings \u2192 Playbook "
                                    "file to try an edited copy)")
        self.sentence.setEnabled(True)
        self._check_load()
        if not self._load.ready:
            self._poll.start()
        self.judge()
        self.playbookRead.emit()

    @property
    def by_meaning(self) -> bool:
        """Whether sentences are matched by meaning too (the encoder is attached)."""
        return self.playbook is not None and self.playbook.encoder_name is not None

    def _check_load(self) -> None:
        if self.playbook is None:
            return
        if self._load.ready:
            self._poll.stop()
        if self.by_meaning:
            learned = self.playbook.learned
            model = (f"; then by the model learned from labelled calls "
                     f"({learned.trained_on.split(':')[0]})" if learned is not None and
                     learned.encoder_name == self.playbook.encoder_name else "")
            self.matching.setText(f"Matching by the phrase sets' patterns and by meaning "
                                  f"(close to their example sentences; encoder: "
                                  f"{self.playbook.encoder_name}){model}.")
            self.matching.setStyleSheet(f"color: {MUTED_COLOR.name()};")
        else:
            note = self._load.note or ("the sentence encoder is not attached; phrase sets "
                                       "match by their patterns only")
            self.matching.setText(note[:1].upper() + note[1:] + ".")
            color = FAIL_COLOR if self._load.ready else MUTED_COLOR  # failed, or loading
            self.matching.setStyleSheet(f"color: {color.name()};")
        if self._load.ready:
            self.judge()
            self.matchingChanged.emit()

    # -- judging -----------------------------------------------------------------------
    @property
    def speaker(self) -> str:
        return "agent" if self.agent.isChecked() else "customer"

    def set_speaker(self, speaker: str) -> None:
        (self.agent if speaker == "agent" else self.customer).setChecked(True)

    def judge(self) -> None:
        """List the sets the engine hears in the sentence, for the chosen speaker."""
        self._debounce.stop()
        if self.playbook is None:
            return
        names = self.playbook.intents(self.speaker)
        self.listened.setText(f"Listened for in the {self.speaker}'s words: "
                              + ", ".join(names) + "." if names else
                              f"This playbook listens for no phrase set in the "
                              f"{self.speaker}'s words.")
        text = self.sentence.text().strip()
        found = self.playbook.judge(text, self.speaker) if text else {}
        rows = [(name, as_typed(text, m), why_text(m, self._floor(name)))
                for name, m in found.items()]
        near = []
        for name in names if text else ():
            held = None if name in found else held_back(self.playbook.matcher, name, text)
            if held is not None:
                near.append((name, as_typed(text, held.match),
                             f"{why_text(held.match, self._floor(name))}\nnot counted: "
                             f"{held.reason}"))
        self._show(rows, near, said=bool(text))

    def _floor(self, name: str) -> float:
        """How close to an example set `name` needs (its own, or the playbook's)."""
        meaning = self.playbook.meanings.get(name) if self.playbook is not None else None
        if meaning is not None and meaning.min_similarity is not None:
            return meaning.min_similarity
        return self.playbook.matching.min_similarity if self.playbook is not None else 0.0

    def _show(self, rows: list[tuple[str, str, str]],
              near: list[tuple[str, str, str]] = (), said: bool = False) -> None:
        self._rows, self._near = rows, list(near)
        while self._grid.count():
            widget = self._grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        for r in range(self._grid.rowCount()):
            self._grid.setRowStretch(r, 0)
        line = 0
        for kind, entries in (("why", rows), ("near", self._near)):
            if kind == "near" and entries:
                head = QLabel("Came near but not counted:", objectName="near_heading")
                head.setStyleSheet(f"color: {MUTED_COLOR.name()};")
                self._grid.addWidget(head, line, 0, 1, 2)
                line += 1
            color = PASS_COLOR if kind == "why" else MUTED_COLOR
            for name, words, why in entries:
                label = QLabel(name, objectName=f"set_{name}")
                label.setStyleSheet(f"font-weight: bold; color: {color.name()};")
                label.setAlignment(Qt.AlignLeft | Qt.AlignTop)
                detail = QLabel(f"\u201c{words}\u201d\n{why}", objectName=f"{kind}_{name}")
                detail.setTextFormat(Qt.PlainText)  # typed words and patterns are not markup
                detail.setWordWrap(True)
                detail.setAlignment(Qt.AlignLeft | Qt.AlignTop)
                detail.setTextInteractionFlags(Qt.TextSelectableByMouse)
                if kind == "near":
                    detail.setStyleSheet(f"color: {MUTED_COLOR.name()};")
                self._grid.addWidget(label, line, 0)
                self._grid.addWidget(detail, line, 1)
                line += 1
        self._grid.addWidget(QWidget(), line, 0)  # the rows stay at the top
        self._grid.setRowStretch(line, 1)
        if not said:
            self.summary.setText("Type a sentence to see which phrase sets it says.")
        elif rows:
            self.summary.setText(f"The {self.speaker} says: "
                                 + ", ".join(r[0] for r in rows) + ".")
        else:
            self.summary.setText(f"No phrase set matches this sentence from the "
                                 f"{self.speaker}.")
        self.judged.emit()

    def matched(self) -> dict[str, str]:
        """The listed sets and why each matched (what the trainer reads)."""
        return {name: why for name, _words, why in self._rows}

    def heard(self, name: str) -> str:
        """The words set `name` was heard in, as typed ("" when it is not listed)."""
        return next((words for n, words, _why in self._rows if n == name), "")

    def not_counted(self) -> dict[str, str]:
        """The sets that came near and why each did not count."""
        return {name: why for name, _words, why in self._near}

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._poll.stop()
        self._debounce.stop()
        super().closeEvent(event)

