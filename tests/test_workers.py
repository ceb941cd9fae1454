"""Background jobs end without ever destroying their QObject on the worker thread.

A job whose last reference was dropped on its worker destroyed itself there while the
GUI thread, holding the GIL, waited on a Qt lock the worker held: the suite hung once.
The race is too narrow to provoke on demand; here many short jobs finish while the GUI
thread keeps making widgets with connections, and every job must report and every
thread be released (by the GUI thread, once it has finished).
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QComboBox

from assets import DEMO_CALL
from audio.analysis import AnalysisOptions, analyze_recording
from desktop.window import workers
from desktop.window.workers import RescoreJob, make_replay_data, start_job, wait_for_jobs


@pytest.fixture(scope="module")
def demo():
    return make_replay_data(analyze_recording(DEMO_CALL, AnalysisOptions(transcribe=False)))


def test_many_short_jobs_finish_and_are_released_on_the_gui_thread(qtbot, demo) -> None:
    answers: list[int] = []
    # Jobs of earlier tests may still run (a replay page's analysis child waits for a
    # what-if until its page closes): only this test's threads are counted.
    before = len(workers._threads)
    for generation in range(40):
        job = RescoreJob(generation, demo, demo.analysis.playbook)
        job.finished.connect(lambda g, _data: answers.append(g))
        start_job(job)
        del job  # the page keeps no reference either
        for _ in range(20):  # the GUI thread busy with Qt's connection locks meanwhile
            box = QComboBox()
            box.addItems(["a", "b", "c"])
            box.deleteLater()
    qtbot.waitUntil(lambda: len(answers) == 40 and len(workers._threads) <= before,
                    timeout=60_000)
    assert sorted(answers) == list(range(40))
    if not workers._threads:
        assert wait_for_jobs(1000)
