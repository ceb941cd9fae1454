"""The window: three pages (live call, replay, scorecards), the menus and the services
they share (settings, the call history, the live engine).

The window appears at once; the live engine starts in its own process and loads the
speech model there, the audio devices are looked for in the background, and whatever
is missing (no PortAudio, no microphone, no history) is said in plain words while the
rest keeps working.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from assets import DEMO_CALL
from audio.devices import DeviceError, list_input_devices
from desktop.history.store import CallHistory, HistoryError
from desktop.window.gc_guard import settle_long_lived
from desktop.window.level_probe import start_audio_thread
from desktop.window.live_worker import LiveCallConfig
from desktop.window.pages.history_page import HistoryPage
from desktop.window.pages.live_page import LivePage
from desktop.window.pages.replay_page import AUDIO_SUFFIXES, ReplayPage
from desktop.window.settings import AppSettings, SettingsStore
from desktop.window.theme import apply_theme
from desktop.window.workers import ReplayData, wait_for_jobs

__all__ = ["MainWindow", "PAGES"]

PAGES = ("live", "replay", "scorecards")
_PAGE_LABELS = ("\u260e  Live call", "\u25b6  Replay", "\u2605  Scorecards")


class _DeviceCheck(QObject):
    """Lists the inputs off the GUI thread (PortAudio can take a while to answer)."""

    result = Signal(str)  # "" when a microphone was found, else what is missing

    def run(self) -> None:
        def work() -> None:
            try:
                devices = list_input_devices()
            except DeviceError as exc:
                self.result.emit(str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - a broken audio stack is a message
                self.result.emit(f"the audio devices cannot be listed ({exc})")
                return
            if not [d for d in devices if not d.is_monitor]:
                self.result.emit("no microphone was found: plug in your headset")
            else:
                self.result.emit("")

        start_audio_thread(work, name="callcoach-devices")


class MainWindow(QMainWindow):
    """Everything a phone agent, a trainer and a team lead open callcoach for."""

    def __init__(self, store: SettingsStore | None = None,
                 history: CallHistory | None = None, load_model: bool = True,
                 check_devices: bool = True, transcriber_hook=None) -> None:
        """`transcriber_hook` (tests): a module-level function the live engine passes
        its loaded transcriber through."""
        super().__init__()
        self.setWindowTitle("callcoach")
        self.store = store or SettingsStore()
        self.settings: AppSettings = self.store.load()
        self.model_state = "not loaded"  # the live engine's speech model
        self._pending_seek: tuple[str, float] | None = None
        self.device_problem: str | None = None  # None until the devices were looked at
        self.phrase_tryout = None  # the trainer's sentence tryout, made when first opened
        self.history = history if history is not None else self._open_history()

        self.live = LivePage(transcriber_hook=transcriber_hook)
        self.live.worker.set_history(self.history)
        self.live.worker.engineReady.connect(self._engine_ready)
        self.replay = ReplayPage()
        self.scorecards = HistoryPage(self.history)
        self.replay.set_agent_channel(self.settings.agent_channel)
        self.replay.set_output_device(self.settings.output_device)
        self.nav = QListWidget(objectName="nav")
        self.nav.addItems(list(_PAGE_LABELS))
        self.nav.setAccessibleName("Pages")
        self.nav.setStyleSheet("QListWidget#nav::item { padding: 6px 4px; }")
        self.nav.setFixedWidth(self.nav.fontMetrics().horizontalAdvance("\u2605  Scorecards")
                               + 48)
        self.stack = QStackedWidget()
        for page in (self.live, self.replay, self.scorecards):
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.model_label = QLabel("Speech model: loading\u2026", objectName="model_status")
        self.statusBar().addPermanentWidget(self.model_label)

        self.live.startRequested.connect(self.start_call)
        self.live.practiceRequested.connect(self.start_practice)
        self.live.callEnded.connect(self._call_ended)
        self.live.callCrashed.connect(self._call_crashed)
        self.live.message.connect(self.show_message)
        self.replay.analysed.connect(self._replay_analysed)
        self.replay.message.connect(self.show_message)
        self.replay.openRequested.connect(self.open_recording_dialog)
        self.replay.demoRequested.connect(self.open_demo_call)
        self.replay.fileDropped.connect(self.open_recording)
        self.scorecards.seekRequested.connect(self.jump_to)
        self.scorecards.message.connect(self.show_message)
        self._build_menus()
        self.show_page("live")
        self._fit_to_screen(1180, 780)
        if (state := self.store.window_state("geometry")) is not None:
            self.restoreGeometry(state)
        if load_model:
            self.load_model()
        if check_devices:
            self._device_check = _DeviceCheck(self)
            self._device_check.result.connect(self._devices_checked)
            QTimer.singleShot(0, self._device_check.run)

    def _fit_to_screen(self, width: int, height: int) -> None:
        """The default size, shrunk to the screen (a small laptop at 150% scaling)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is not None:
            avail = screen.availableGeometry()
            width = min(width, avail.width() - 40)
            height = min(height, avail.height() - 60)
        self.resize(max(640, width), max(480, height))

    # -- services -------------------------------------------------------------------------
    def _open_history(self) -> CallHistory | None:
        try:
            history = CallHistory()
            recovered = [history.recover(c.id) for c in history.unfinished_calls()]
        except HistoryError as exc:
            message = f"Calls will not be saved: {exc}"
            QTimer.singleShot(0, lambda: self.show_message(message))
            return None
        if recovered:
            QTimer.singleShot(0, lambda: self.show_message(
                f"Recovered {len(recovered)} call(s) interrupted by a crash."))
        if self.settings.keep_audio:
            try:
                history.purge_audio(self.settings.keep_audio_days)
            except HistoryError:
                pass
        return history

    def load_model(self) -> None:
        """Start the live engine, which loads Whisper in its own process; the window is
        usable meanwhile (replay analyses load their own, in theirs)."""
        self.model_state = "loading"
        self.model_label.setText("Speech model: loading\u2026")
        self.live.worker.start_engine(self.settings.model or None)

    def _engine_ready(self, model: str, problem: str) -> None:
        if model:
            self.model_state = "ready"
            self.model_label.setText(f"Speech model: {model}")
            settle_long_lived()  # the modules: never scanned by a collection again
            return
        if not problem:  # an engine started without a model (load_model=False)
            return
        self.model_state = "failed"
        self.model_label.setText("Speech model: not available")
        self.show_message(f"The speech model could not be loaded: {problem}. Cues from the "
                          "voice still work; choose another model in Settings.")

    def _devices_checked(self, problem: str) -> None:
        self.device_problem = problem
        if problem:
            self.live._show_notice(
                f"Live coaching is not available: {problem}. Replay and scorecards still "
                "work (try the demo call on the Replay page).", error=False)

    # -- pages ----------------------------------------------------------------------------
    def show_page(self, name: str) -> None:
        self.nav.setCurrentRow(PAGES.index(name))

    @property
    def page(self) -> str:
        return PAGES[self.stack.currentIndex()]

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # -- live -----------------------------------------------------------------------------
    def start_call(self) -> None:
        """A real call on the devices chosen in Settings."""
        s = self.settings
        record_to = None
        if s.keep_audio and self.history is not None:
            folder = self.history.audio_dir
            folder.mkdir(parents=True, exist_ok=True)
            record_to = str(folder / f"call-{datetime.now():%Y%m%d-%H%M%S}.wav")
        self._begin_live(LiveCallConfig(agent_device=s.agent_device,
                                        customer_device=s.customer_device,
                                        playbook_path=s.playbook_path, record_to=record_to))

    def start_practice(self, path: str | None = None, speed: float = 1.0) -> None:
        """A recording (the demo call by default) played into the live coach."""
        s = self.settings
        self._begin_live(LiveCallConfig(playbook_path=s.playbook_path,
                                        practice_file=str(path or DEMO_CALL),
                                        practice_speed=speed, agent_channel=s.agent_channel))

    def _begin_live(self, config: LiveCallConfig) -> None:
        """The engine reads the playbook (a bad one is said as the call failing)."""
        self.show_page("live")
        self.live.start_call(config)

    def _call_crashed(self, call_id: int | None) -> None:
        """The engine died mid-call: the call so far is in the history; the agent stays
        on the live page (they are still on the phone)."""
        self.scorecards.reload(select_id=call_id)

    def _call_ended(self, document: dict) -> None:
        """The worker saved the call (as it happened): show its card. In turns of the
        event loop of their own, after the live page is back to idle: building the card
        (tens of ms), then showing its page."""
        call_id = document.get("history_id")

        def build() -> None:
            self.scorecards.reload(select_id=call_id)
            if call_id is None:
                self.scorecards.show_document(document)
            QTimer.singleShot(0, show)

        def show() -> None:
            self.show_page("scorecards")
            self.show_message("Call ended: here is its scorecard")

        QTimer.singleShot(0, build)

    # -- replay ---------------------------------------------------------------------------
    def open_recording_dialog(self) -> None:
        patterns = " ".join(f"*{s}" for s in AUDIO_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open a call recording", "",
                                              f"Call recordings ({patterns});;All files (*)")
        if path:
            self.open_recording(path)

    def open_demo_call(self) -> None:
        self.open_recording(str(DEMO_CALL))

    def open_recording(self, path: str, redactions: list | None = None) -> None:
        """Analyse a recording on the replay page (`redactions`: its history entry's).
        The engine process reads the playbook (compiling its phrase sets takes a third of
        a second, which would freeze the window); a bad one is said as the analysis
        failing, in the playbook's own words."""
        self.show_page("replay")
        self.replay.open_recording(path, self.settings.playbook_path or None,
                                   self.settings.model or None, redactions)

    def _replay_analysed(self, data: ReplayData) -> None:
        from_history = bool(self._pending_seek and self._pending_seek[0] == data.path)
        if from_history:
            pass  # a call from the history, opened to be heard: it is saved already
        elif self.history is not None:
            try:
                call_id = self.history.save_call(data.document, source="replay",
                                                 audio_path=data.path)
                self.scorecards.reload(select_id=call_id)
            except HistoryError as exc:
                self.show_message(f"The scorecard could not be saved: {exc}")
        else:
            self.scorecards.show_document(data.document)
        if from_history:
            self.replay.seek(self._pending_seek[1])
        self._pending_seek = None
        self.show_message(f"{len(data.analysis.events)} cues in "
                          f"{Path(data.path).name}; score {data.analysis.scorecard.score}")

    def jump_to(self, document: dict, t: float) -> None:
        """Evidence clicked on a scorecard: that moment of that call in replay."""
        path = HistoryPage.audio_of(document)
        current = self.replay.data.path if self.replay.data is not None else None
        if path and current and os.path.abspath(path) == os.path.abspath(current):
            self.show_page("replay")
            self.replay.seek(t)
        elif path:
            self._pending_seek = (path, t)
            self.open_recording(path, document.get("redactions"))
        else:
            self.show_message("The audio of this call was not kept, so it cannot be replayed "
                              "(Settings: keep call audio).")

    # -- menus ----------------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut=None, name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        if name:
            action.setObjectName(name)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        f = bar.addMenu("&File")
        self._action(f, "&Open a recording\u2026", self.open_recording_dialog,
                     QKeySequence.Open, "act_open")
        self._action(f, "Open the &demo call", self.open_demo_call, "Ctrl+D", "act_demo")
        self._action(f, "&Import reports\u2026", lambda: self.import_reports(), "Ctrl+I",
                     "act_import_reports")
        f.addSeparator()
        self._action(f, "Export scorecard as &PDF\u2026",
                     lambda: self.scorecards.export_scorecard("pdf"), "Ctrl+Shift+P")
        self._action(f, "Export scorecard as &HTML\u2026",
                     lambda: self.scorecards.export_scorecard("html"), "Ctrl+Shift+H")
        self._action(f, "Export call history as &CSV\u2026", self.scorecards.export_csv)
        f.addSeparator()
        self._action(f, "&Settings\u2026", self.open_settings, QKeySequence.Preferences
                     if not QKeySequence(QKeySequence.Preferences).isEmpty() else "Ctrl+,",
                     "act_settings")
        self._action(f, "&Quit", self.close, QKeySequence.Quit)
        c = bar.addMenu("&Call")
        self._action(c, "&Start or end the call", self.live.toggle_call, "Ctrl+Return",
                     "act_call")
        self._action(c, "&Compact mode", self.live.enter_compact, "Ctrl+M", "act_compact")
        v = bar.addMenu("&View")
        for i, label in enumerate(("&Live call", "&Replay", "&Scorecards")):
            self._action(v, label, lambda _=False, n=PAGES[i]: self.show_page(n), f"Ctrl+{i + 1}")
        t = bar.addMenu("&Tools")
        self._action(t, "&Try a sentence against the playbook\u2026", self.open_phrase_tryout,
                     "Ctrl+T", "act_try_sentence")
        h = bar.addMenu("&Help")
        self._action(h, "&Setup assistant\u2026", self.open_first_run)
        self._action(h, "&Hearing the customer\u2026",
                     lambda: self.open_first_run(page="hearing"))

    def import_reports(self, folder: str | None = None, agent_from: str | None = None) -> None:
        """A folder of `callcoach analyze` reports into the Scorecards page's history."""
        self.show_page("scorecards")
        self.scorecards.import_reports(folder, agent_from)

    def open_settings(self) -> None:
        from desktop.window.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def open_phrase_tryout(self) -> None:
        """The trainer's tryout of the playbook in use (not modal: replay goes on)."""
        from desktop.window.dialogs.phrase_tryout import PhraseTryoutDialog

        if self.phrase_tryout is None:
            self.phrase_tryout = PhraseTryoutDialog(self.settings.playbook_path, self)
        elif self.phrase_tryout.playbook_path != self.settings.playbook_path:
            self.phrase_tryout.use_playbook(self.settings.playbook_path)
        self.phrase_tryout.show()
        self.phrase_tryout.raise_()
        self.phrase_tryout.activateWindow()
        self.phrase_tryout.sentence.setFocus()

    def open_first_run(self, page: str = "welcome") -> None:
        from desktop.window.dialogs.first_run import FirstRunDialog

        dialog = FirstRunDialog(self.settings, self, page=page)
        dialog.exec()
        new = dialog.result_settings()
        self.apply_settings(new)
        if getattr(dialog, "wants_demo", False):
            self.open_demo_call()

    def apply_settings(self, new: AppSettings) -> None:
        old, self.settings = self.settings, new
        self.store.save(new)
        if new.theme != old.theme:
            apply_theme(QApplication.instance(), new.theme)
        if new.agent_channel != old.agent_channel:
            self.replay.set_agent_channel(new.agent_channel)
        if new.output_device != old.output_device:
            self.replay.set_output_device(new.output_device)
        self.live.compact.set_on_top(new.compact_on_top)
        if new.playbook_path != old.playbook_path and self.phrase_tryout is not None:
            self.phrase_tryout.use_playbook(new.playbook_path)
        if new.model != old.model:
            self.load_model()

    # -- closing --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.store.set_window_state("geometry", bytes(self.saveGeometry()))
        self.replay.cancel()
        self.replay.close_engines()
        self.replay.stop_playback()
        self.live.shutdown()
        wait_for_jobs()
        event.accept()

