"""The replay page's timeline, driven as a trainer would: clicks, keys, the what-if re-run.

The demo call is analysed once without transcription (about a second); the widget is fed
plain data, as the page does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QHelpEvent, QImage, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from audio.analysis import AnalysisOptions, analyze_recording, loudness_tracks
from coaching.timeline import Event
from desktop.window.theme import CUSTOMER_COLOR, urgency_color
from desktop.window.widgets.call_timeline import TimelineView, points_per_second

DEMO = Path(__file__).resolve().parents[1] / "assets" / "demo_call.flac"


@pytest.fixture(scope="module")
def demo():
    analysis = analyze_recording(DEMO, AnalysisOptions(transcribe=False))
    assert analysis.events, "the demo call is expected to have cues without a transcript"
    return analysis, loudness_tracks(analysis.timeline, 10)


def _view(qtbot, demo, events=None, agent_only=False) -> TimelineView:
    analysis, tracks = demo
    view = TimelineView()
    qtbot.addWidget(view)
    view.resize(900, 200)
    view.set_call(analysis.timeline.duration_s, tracks["agent_dbfs"],
                  None if agent_only else tracks["customer_dbfs"],
                  points_per_second(tracks["t"]), analysis.timeline.turns,
                  analysis.events if events is None else events)
    view.show()
    qtbot.waitExposed(view)
    return view


def _extra_events(duration: float) -> list[Event]:
    """A customer cue and a held-back one, so both lanes and both fills are covered."""
    return [Event("customer_raised_voice", "customer", 0.55 * duration, 0.6 * duration,
                  "Listen - let them have their say", "customer +8 dB", 0.56 * duration,
                  priority=70),
            Event("dead_air", "agent", 0.8 * duration, 0.9 * duration,
                  "Tell them what you are doing", "10 s of silence", 0.9 * duration,
                  priority=90, prompted=False)]


def test_markers_sit_at_their_time(qtbot, demo) -> None:
    analysis, _ = demo
    view = _view(qtbot, demo)
    plot, duration = view.plot_rect(), analysis.timeline.duration_s
    assert view.marker_count() == len(analysis.events)
    for i, e in enumerate(analysis.events):
        expected = plot.left() + e.start / duration * plot.width()
        assert view.marker_x(i) == pytest.approx(expected, abs=0.5)
        assert view.lane_rect("agent").contains(view.marker_rect(i).center())


def test_marker_lane_and_hollow_fill(qtbot, demo) -> None:
    analysis, _ = demo
    extra = _extra_events(analysis.timeline.duration_s)
    view = _view(qtbot, demo, events=list(analysis.events) + extra)
    customer, held = len(analysis.events), len(analysis.events) + 1
    assert view.lane_rect("customer").contains(view.marker_rect(customer).center())
    image = view.grab().toImage()
    dpr = image.devicePixelRatio()

    def flag_colour(i: int) -> QColor:
        r = view.marker_rect(i)  # the flag points right from its mast: sample inside it
        return image.pixelColor(int((r.left() + r.width() * 0.35) * dpr),
                                int(r.center().y() * dpr))

    assert flag_colour(customer) == urgency_color(70)
    assert flag_colour(held) != urgency_color(90)  # held back: drawn hollow


def test_clicking_a_marker_activates_it(qtbot, demo) -> None:
    analysis, _ = demo
    view = _view(qtbot, demo)
    i = len(analysis.events) - 1
    activated, sought = [], []
    view.eventActivated.connect(activated.append)
    view.seekRequested.connect(sought.append)
    qtbot.mouseClick(view, Qt.LeftButton, pos=view.marker_rect(i).center())
    assert activated == [i]
    assert sought == [pytest.approx(analysis.events[i].start)]
    assert view.position == pytest.approx(analysis.events[i].start)


def test_marker_tooltip_says_prompt_and_reason(qtbot, demo) -> None:
    analysis, _ = demo
    view = _view(qtbot, demo)
    pos = view.marker_rect(0).center()
    QApplication.sendEvent(view, QHelpEvent(QEvent.ToolTip, pos, view.mapToGlobal(pos)))
    assert analysis.events[0].prompt in QToolTip.text()
    assert analysis.events[0].reason.split("(")[0].strip() in QToolTip.text()
    QToolTip.hideText()


def test_scales_with_the_font(qtbot, demo) -> None:
    small = _view(qtbot, demo)
    large = _view(qtbot, demo)
    font = QFont(small.font())
    font.setPointSizeF(font.pointSizeF() * 1.5)
    large.setFont(font)
    assert large.sizeHint().height() > 1.3 * small.sizeHint().height()
    assert large.marker_rect(0).height() > 1.3 * small.marker_rect(0).height()
    assert large.plot_rect().left() > small.plot_rect().left()  # room for the bigger labels
    activated = []
    large.eventActivated.connect(activated.append)
    qtbot.mouseClick(large, Qt.LeftButton, pos=large.marker_rect(0).center())
    assert activated == [0]


def test_clicking_empty_space_seeks_there(qtbot, demo) -> None:
    analysis, _ = demo
    view = _view(qtbot, demo)
    lane, duration = view.lane_rect("customer"), analysis.timeline.duration_s
    x = next(x for x in range(lane.left() + 5, lane.right() - 5, 7)
             if view.marker_at(QPoint(x, lane.center().y())) is None
             and all(abs(x - view.marker_x(i)) > 20 for i in range(view.marker_count())))
    with qtbot.waitSignal(view.seekRequested) as blocker:
        qtbot.mouseClick(view, Qt.LeftButton, pos=QPoint(x, lane.center().y()))
    per_pixel = duration / lane.width()
    expected = (x - lane.left()) / lane.width() * duration
    assert blocker.args[0] == pytest.approx(expected, abs=per_pixel)


def test_fewer_events_fewer_markers(qtbot, demo) -> None:
    analysis, _ = demo
    view = _view(qtbot, demo, events=list(analysis.events) + _extra_events(
        analysis.timeline.duration_s))
    before = view.marker_count()
    view.set_events(analysis.events[:1])
    assert view.marker_count() == 1 < before
    assert view.marker_x(0) == pytest.approx(view.time_to_x(analysis.events[0].start))
    view.set_events([])
    assert view.marker_count() == 0
    view.grab()  # paints without markers


def test_keys_move_the_playhead(qtbot, demo) -> None:
    analysis, _ = demo
    view = _view(qtbot, demo)
    view.set_position(10.0)
    with qtbot.waitSignal(view.seekRequested) as blocker:
        qtbot.keyClick(view, Qt.Key_Right)
    assert blocker.args[0] == pytest.approx(15.0)
    with qtbot.waitSignal(view.seekRequested) as blocker:
        qtbot.keyClick(view, Qt.Key_Left)
    assert blocker.args[0] == pytest.approx(10.0)
    with qtbot.waitSignal(view.seekRequested) as blocker:
        qtbot.keyClick(view, Qt.Key_End)
    assert blocker.args[0] == pytest.approx(analysis.timeline.duration_s)
    with qtbot.waitSignal(view.seekRequested) as blocker:
        qtbot.keyClick(view, Qt.Key_Home)
    assert blocker.args[0] == 0.0


def test_ctrl_wheel_zooms_around_the_cursor(qtbot, demo) -> None:
    duration = demo[0].timeline.duration_s
    view = _view(qtbot, demo)
    plot = view.plot_rect()
    x = plot.left() + plot.width() // 4
    anchor = view.x_to_time(x)
    qtbot.keyClick(view, Qt.Key_Equal, Qt.ControlModifier)  # keyboard zoom, at the playhead
    start, end = view.view_range()
    assert end - start < duration
    qtbot.keyClick(view, Qt.Key_0, Qt.ControlModifier)
    assert view.view_range() == (0.0, pytest.approx(duration))
    wheel = QWheelEvent(QPointF(x, plot.center().y()), QPointF(view.mapToGlobal(QPoint(x, 0))),
                        QPoint(), QPoint(0, 240), Qt.NoButton, Qt.ControlModifier,
                        Qt.NoScrollPhase, False)
    view.wheelEvent(wheel)
    start, end = view.view_range()
    assert end - start < 0.7 * duration
    assert view.x_to_time(x) == pytest.approx(anchor, abs=0.2)  # the cursor's time stays put
    plain = QWheelEvent(QPointF(x, plot.center().y()), QPointF(view.mapToGlobal(QPoint(x, 0))),
                        QPoint(), QPoint(0, -120), Qt.NoButton, Qt.NoModifier,
                        Qt.NoScrollPhase, False)
    view.wheelEvent(plain)  # zoomed: a plain wheel scrolls later in the call
    assert view.view_range()[0] > start
    assert view.view_range()[1] - view.view_range()[0] == pytest.approx(end - start)


def test_agent_only_lane(qtbot, demo) -> None:
    analysis, _ = demo
    view = _view(qtbot, demo, events=list(analysis.events) + _extra_events(
        analysis.timeline.duration_s), agent_only=True)
    customer_cue = len(analysis.events)
    assert view.lane_rect("agent").contains(view.marker_rect(customer_cue).center())
    lane = view.lane_rect("customer")
    image = view.grab().toImage()
    base = view.palette().color(QPalette.Base)
    assert _count(image, lane, lambda c: abs(c.lightness() - base.lightness()) > 60) > 30
    assert _count(image, lane, _customer_like) == 0  # text only: no loudness, no turns
    with_customer = _view(qtbot, demo)
    assert _count(with_customer.grab().toImage(), lane, _customer_like) > 30


def _customer_like(c: QColor) -> bool:
    return abs(c.hueF() - CUSTOMER_COLOR.hueF()) < 0.03 and c.saturationF() > 0.3


def _count(image: QImage, rect, pred) -> int:
    """Pixels of `rect` (logical coordinates, inset by 3) for which `pred` holds."""
    dpr = image.devicePixelRatio()
    return sum(pred(image.pixelColor(int(x * dpr), int(y * dpr)))
               for x in range(rect.left() + 3, rect.right() - 3)
               for y in range(rect.top() + 3, rect.bottom() - 3, 2))
