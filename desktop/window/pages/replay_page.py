"""The trainer's page: open a recorded call, see every cue on a timeline, play it, and
ask "what if the thresholds were different".

The analysis runs in a child process and every re-run of the rules in a worker thread
(`desktop.window.workers`); this page only shows results. Playback goes through
`audio.playback` (a silent clock when there is no output device, so the transcript
still follows).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from audio.analysis import AnalysisOptions
from audio.playback import CallPlayer, PlaybackError, SilentClock, stereo_samples
from coaching.playbook import Playbook
from coaching.redaction_config import MARKERS
from coaching.timeline import Redaction, Utterance
from desktop.window.widgets.call_timeline import TimelineView, points_per_second
from desktop.window.widgets.transcript_view import TranscriptView, clock
from desktop.window.widgets.whatif_panel import WhatIfPanel
from desktop.window.workers import AnalysisJob, ReplayData, RescoreJob, start_job

__all__ = ["ReplayPage", "AUDIO_SUFFIXES"]

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac")
_TICK_MS = 33


class _EmptyState(QWidget):
    """What a first-time user sees: where to drop a call, and the demo call one click away."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h2>Replay a recorded call</h2>")
        text = QLabel("Drop a call recording here (stereo: one party per channel), or open "
                      "one. Every cue the agent would have seen appears on the timeline.")
        text.setWordWrap(True)
        self.open_button = QPushButton("&Open a recording\u2026", objectName="replay_open")
        self.demo_button = QPushButton("Open the &demo call", objectName="replay_demo")
        self.demo_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for w in (title, text):
            w.setAlignment(Qt.AlignCenter)
            layout.addWidget(w)
        layout.addLayout(buttons)
        layout.addStretch(2)


class ReplayPage(QWidget):
    """Signals: `analysed(ReplayData)` when a call is ready (the window stores it in the
    history and shows its scorecard), `message(str)` for the status bar."""

    analysed = Signal(object)
    message = Signal(str)
    openRequested = Signal()
    demoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.data: ReplayData | None = None
        self.base_event_count = 0
        self._job: AnalysisJob | None = None  # the analysis under way
        self._shown = 0  # calls shown so far: the steps of an older one are dropped
        self._engine: AnalysisJob | None = None  # the shown call's, for the what-if
        self._generation = 0
        self._player: CallPlayer | SilentClock | None = None  # made at the first Play
        self._output_device: str | None = None
        self._seek_pos = 0.0
        # Redactions the history knows for a kept recording (its digits are silence now).
        self._known_redactions: tuple[str, list[Redaction]] | None = None

        # Top bar: channel choice, progress, cancel.
        self.channel = QComboBox(objectName="replay_channel")
        self.channel.addItem("Agent on the left channel", "left")
        self.channel.addItem("Agent on the right channel", "right")
        self.channel.setAccessibleName("Which channel is the agent")
        self.file_label = QLabel(objectName="replay_file")
        self.progress = QProgressBar(objectName="replay_progress", maximum=1000)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QPushButton("&Cancel", objectName="replay_cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        open_button = QPushButton("&Open\u2026", objectName="replay_open_top")
        open_button.clicked.connect(self.openRequested)
        top = QHBoxLayout()
        top.addWidget(open_button)
        top.addWidget(self.channel)
        top.addWidget(self.file_label, 1)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)

        # The call: timeline, transport, transcript + cues/what-if.
        self.timeline = TimelineView()
        self.timeline.setObjectName("replay_timeline")
        self.timeline.seekRequested.connect(self.seek)
        self.play_button = QPushButton("\u25b6 &Play", objectName="replay_play")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play_toggled)
        self.position_label = QLabel("0:00 / 0:00", objectName="replay_position")
        self.audio_note = QLabel(objectName="replay_audio_note")
        transport = QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(self.position_label)
        transport.addWidget(self.audio_note, 1)
        self.transcript = TranscriptView()
        self.transcript.setObjectName("replay_transcript")
        self.transcript.seekRequested.connect(self.seek)
        self.whatif = WhatIfPanel()
        self.whatif.playbookChanged.connect(self._rescore)
        side = QTabWidget()
        side.addTab(self.whatif, "&What if")
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.transcript)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        call = QWidget()
        call_layout = QVBoxLayout(call)
        call_layout.setContentsMargins(0, 0, 0, 0)
        call_layout.addWidget(self.timeline, 2)
        call_layout.addLayout(transport)
        call_layout.addWidget(splitter, 3)

        self.empty = _EmptyState()
        self.empty.open_button.clicked.connect(self.openRequested)
        self.empty.demo_button.clicked.connect(self.demoRequested)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(call)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self._tick = QTimer(self, interval=_TICK_MS)
        self._tick.timeout.connect(self._follow)
        QShortcut(QKeySequence(Qt.Key_Space), self, activated=self.play_button.toggle,
                  context=Qt.WidgetWithChildrenShortcut)

    # -- analysis -------------------------------------------------------------------------
    def set_agent_channel(self, channel: str) -> None:
        self.channel.setCurrentIndex(max(0, self.channel.findData(channel)))

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def engine_pid(self) -> int | None:
        """The process analysing the current recording (None: none, or not started yet)."""
        return self._job.pid if self._job is not None else None

    def open_recording(self, path: str | Path, playbook_path: str | None = None,
                       model: str | None = None,
                       redactions: Sequence[dict] | None = None) -> None:
        """Analyse `path` in a child process; the page shows progress and stays usable.
        A newer call cancels the one still running. The child reads the playbook
        (`playbook_path`, None for the bundled one); the page keeps its settings only.

        `redactions` (a history document's) are shown with the call: kept audio has the
        redacted words silenced, so a fresh transcript cannot find them again."""
        self._known_redactions = (str(path), [
            Redaction(str(r.get("kind")), str(r.get("speaker")), float(r["start"]),
                      float(r["end"]))
            for r in redactions or () if isinstance(r, dict)
            and isinstance(r.get("start"), (int, float)) and isinstance(r.get("end"),
                                                                        (int, float))])
        if self._job is not None:
            self._job.cancel()
        self.stop_playback()
        options = AnalysisOptions(agent_channel=self.channel.currentData(), model=model or None,
                                  playbook_path=playbook_path or None)
        job = AnalysisJob(path, options)
        # Bound methods, not lambdas: a lambda would run on the worker's thread.
        job.progress.connect(self._progress)
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        job.rescored.connect(self._rescored)
        job.ended.connect(self._engine_ended)
        self._job = job
        self.file_label.setText(Path(path).name)
        self.progress.setValue(0)
        self.progress.setFormat("Reading the recording\u2026")
        self.progress.show()
        self.cancel_button.show()
        self.message.emit(f"Analysing {Path(path).name}\u2026")
        start_job(job, self)

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.progress.setFormat("Cancelling\u2026")

    def _progress(self, stage: str, fraction: float) -> None:
        if self.sender() is not self._job:
            return
        self.progress.setValue(round(fraction * 1000))
        self.progress.setFormat(f"{stage.capitalize()}\u2026 %p%")

    def _done(self) -> bool:
        """True when the job that reported is still the page's current one (then it is
        cleared); an answer from a job the user replaced is dropped."""
        if self.sender() is not self._job:
            return False
        self._job = None
        self.progress.hide()
        self.cancel_button.hide()
        return True

    def _finished(self, data: ReplayData) -> None:
        job = self.sender()
        if self._done():
            self.show_call(data)
            self._engine = job  # its process stays up to answer the what-if
            self.analysed.emit(data)
        elif isinstance(job, AnalysisJob):
            job.stop()  # replaced meanwhile: its process is not needed

    def _engine_ended(self, message: str) -> None:
        if self.sender() is self._engine and self._engine is not None:
            self._engine = None
            self.message.emit(f"The shown call's engine process ended: {message}; "
                              "the what-if now runs in the window")

    def close_engines(self) -> None:
        """End every child process of the page (the window closes)."""
        for job in (self._job, self._engine):
            if job is not None:
                job.stop()
        self._engine = None

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.close_engines()
        super().closeEvent(event)

    def _failed(self, message: str) -> None:
        if self._done():
            self.file_label.setText(f"Could not analyse: {message}")
            self.message.emit(f"Could not analyse the recording: {message}")

    def _cancelled(self) -> None:
        if self._done():
            self.file_label.setText("Analysis cancelled")
            self.message.emit("Analysis cancelled")

    # -- showing a call -------------------------------------------------------------------
    def show_call(self, data: ReplayData) -> None:
        """Put an analysed call on the page. Everything heavy was done in the job; what
        is left (the timeline's layer, the transcript) comes in turns of the event loop of
        their own, so none blocks it long."""
        self.stop_playback()
        if self._engine is not None:
            self._engine.stop()  # the previous call's process
            self._engine = None
        self.data = data
        self._seek_pos = 0.0
        self.base_event_count = len(data.analysis.events)
        a = data.analysis
        tracks = data.tracks
        self.file_label.setText(f"{Path(a.recording.path).name} \u2014 "
                                f"{clock(a.recording.duration_s)}, {a.recording.channels}")
        self.stack.setCurrentIndex(1)
        self.timeline.set_call(a.recording.duration_s, tracks.get("agent_dbfs", []),
                               tracks.get("customer_dbfs"),
                               points_per_second(tracks.get("t") or []),
                               a.timeline.turns, a.events)
        self.timeline.set_redactions(self.redactions)
        self.transcript.clear()
        self._show_position(0.0)
        self.whatif.set_playbook(a.playbook)
        self.whatif.show_result(len(a.events), len(a.events), False)
        self._shown += 1
        self._one_step_per_turn(self._shown, [self.timeline.prepare, self._show_transcript])

    def _one_step_per_turn(self, shown: int, steps: list) -> None:
        """Run `steps` one after another, each in a turn of the event loop of its own
        (the next is scheduled when the last has ended, so two never run back to back
        between two ticks); dropped if another call is shown meanwhile."""
        if not steps:
            return

        def step() -> None:
            if self._shown == shown and self.data is not None:
                steps[0]()
                self._one_step_per_turn(shown, steps[1:])

        QTimer.singleShot(1, step)

    def _show_transcript(self) -> None:
        """The call's words and cues, following the playhead."""
        a = self.data.analysis
        heard = list(a.timeline.utterances)
        for r in self.redactions:  # a kept recording's silenced words: said where they were
            if r.kind in MARKERS and not any(u.speaker == r.speaker and u.start <= r.end
                                             and u.end >= r.start for u in heard):
                heard.append(Utterance(r.speaker, r.start, r.end, MARKERS[r.kind]))
        heard.sort(key=lambda u: (u.start, u.speaker))
        self.transcript.set_call(heard, a.events)
        self.transcript.follow(self.position)

    # -- what if --------------------------------------------------------------------------
    def _rescore(self, playbook: Playbook) -> None:
        if self.data is None:
            return
        self._generation += 1
        if self._engine is not None and self._engine.rescore(self._generation, playbook):
            return  # the call's own process answers, with the playbook it analysed with
        job = RescoreJob(self._generation, self.data, playbook)
        job.finished.connect(self._rescored)
        job.failed.connect(self._rescore_failed)
        start_job(job, self)

    def _rescore_failed(self, message: str) -> None:
        self.message.emit(f"What-if failed: {message}")

    def _rescored(self, generation: int, data: ReplayData) -> None:
        if generation != self._generation or self.data is None:
            return  # a newer question is on its way
        self.data = data
        events = data.analysis.events
        self.timeline.set_events(events)
        self.transcript.set_events(events)
        self.whatif.show_result(self.base_event_count, len(events),
                                bool(self.whatif.changes()))
        self.message.emit(f"What if: {len(events)} cues")

    @property
    def redactions(self) -> list[Redaction]:
        """Where personal data was taken out of the call on the page (its own analysis's,
        and those its history entry knows)."""
        if self.data is None:
            return []
        found = list(self.data.analysis.timeline.redactions)
        known = self._known_redactions
        if known is not None and Path(known[0]).resolve() == Path(self.data.path).resolve():
            found += [r for r in known[1] if r not in found]
        return sorted(found, key=lambda r: r.start)

    @property
    def events(self):
        return self.data.analysis.events if self.data is not None else ()

    # -- playback -------------------------------------------------------------------------
    def _ensure_player(self) -> CallPlayer | SilentClock | None:
        if self._player is None and self.data is not None:
            rec = self.data.analysis.recording
            self._player = CallPlayer(stereo_samples(rec.agent, rec.customer),
                                      rec.sample_rate, device=self._output_device)
            self._player.seek(self._seek_pos)
        return self._player

    def set_output_device(self, name: str | None) -> None:
        """Where replay plays (None or "": the system's default); from the next Play."""
        self._output_device = name or None
        if self._player is not None and not self._player.playing:
            self._seek_pos = self._player.position
            self._player.close()
            self._player = None

    def _fall_back(self, reason: str) -> None:
        """The chosen output failed: the system's default, and failing that no sound."""
        if self._output_device is not None and isinstance(self._player, CallPlayer):
            pos = self._player.position
            self._player.close()
            rec = self.data.analysis.recording
            self._player = CallPlayer(stereo_samples(rec.agent, rec.customer), rec.sample_rate)
            self._player.seek(pos)
            try:
                self._player.play()
                self.audio_note.setText(f"{self._output_device} is not available ({reason}); "
                                        "playing on the default output.")
                return
            except PlaybackError as exc:
                reason = str(exc)
        self._go_silent(reason).play()

    def _go_silent(self, reason: str) -> SilentClock:
        """No sound to be had: keep the playhead and transcript moving all the same."""
        pos = self._player.position if self._player is not None else 0.0
        if self._player is not None:
            self._player.close()
        clock_ = SilentClock(self.data.analysis.recording.duration_s)
        clock_.seek(pos)
        self._player = clock_
        self.audio_note.setText(f"No sound ({reason}); the transcript still follows.")
        return clock_

    def _play_toggled(self, on: bool) -> None:
        player = self._ensure_player()
        if player is None:
            self.play_button.setChecked(False)
            return
        if on:
            try:
                player.play()
            except PlaybackError as exc:
                self._fall_back(str(exc))
            self._tick.start()
            self.play_button.setText("\u23f8 &Pause")
        else:
            player.pause()
            self._tick.stop()
            self.play_button.setText("\u25b6 &Play")
            self._follow()

    def seek(self, t: float) -> None:
        if self.data is None:
            return
        t = min(max(0.0, t), self.data.analysis.recording.duration_s)
        self._seek_pos = t
        if self._player is not None:
            self._player.seek(t)
        self._show_position(t)

    @property
    def position(self) -> float:
        """Where playback is (or will start): what the playhead shows."""
        return self._player.position if self._player is not None else self._seek_pos

    def _follow(self) -> None:
        if self._player is None:
            return
        t = self._player.position
        self._show_position(t)
        if not self._player.playing and self.play_button.isChecked():
            self.play_button.setChecked(False)  # reached the end

    def _show_position(self, t: float) -> None:
        self.timeline.set_position(t)
        self.transcript.follow(t)
        duration = self.data.analysis.recording.duration_s if self.data else 0.0
        self.position_label.setText(f"{clock(t)} / {clock(duration)}")

    def stop_playback(self) -> None:
        self._tick.stop()
        if self._player is not None:
            self._seek_pos = self._player.position
            self._player.close()
            self._player = None
        if self.play_button.isChecked():
            self.play_button.blockSignals(True)
            self.play_button.setChecked(False)
            self.play_button.blockSignals(False)
            self.play_button.setText("\u25b6 &Play")

    # -- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.fileDropped.emit(urls[0])

    fileDropped = Signal(str)

