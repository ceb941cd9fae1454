"""The live page's painting widgets: meter ballistics, the voice trace, the prompt card, talk share.

Ballistics are driven through explicit timestamps (no sleeps); animations are awaited with
qtbot.waitUntil; what is drawn is checked on the pixels of a grab.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QLabel, QPushButton

from desktop.window.theme import AGENT_COLOR, CUSTOMER_COLOR, urgency_color
from desktop.window.widgets.level_meter import MIN_DB, LevelMeter, align_labels
from desktop.window.widgets.prompt_card import IDLE_TEXT, PromptCard
from desktop.window.widgets.talk_share import TalkShareBar
from desktop.window.widgets.trace_plot import VoiceTracePlot


def _pixels(widget) -> np.ndarray:
    """The widget as an (h, w, 3) RGB array."""
    img = widget.grab().toImage().convertToFormat(QImage.Format_RGB32)
    arr = np.frombuffer(img.constBits(), dtype=np.uint8)
    arr = arr.reshape(img.height(), img.bytesPerLine())[:, :img.width() * 4]
    return arr.reshape(img.height(), img.width(), 4)[:, :, 2::-1].astype(int)  # BGRA -> RGB


def _near(rgb: np.ndarray, color: QColor, tol: int = 12) -> np.ndarray:
    want = np.array([color.red(), color.green(), color.blue()])
    return np.abs(rgb - want).max(axis=-1) <= tol


def _inked(rgb: np.ndarray, color: QColor, bg: QColor, tol: int = 30) -> np.ndarray:
    """Pixels of `color` drawn at least half strength over `bg`: a one-pixel
    antialiased line is a little lighter than its colour."""
    c = np.array([color.red(), color.green(), color.blue()], float)
    b = np.array([bg.red(), bg.green(), bg.blue()], float)
    d = c - b
    t = ((rgb - b) @ d) / (d @ d)
    off = np.abs(rgb - (b + t[..., None] * d)).max(axis=-1)
    return (t >= 0.5) & (off <= tol)


def _blend(fg: QColor, alpha: int, bg: QColor) -> QColor:
    a = alpha / 255
    return QColor(*(round(f * a + b * (1 - a)) for f, b in
                    ((fg.red(), bg.red()), (fg.green(), bg.green()), (fg.blue(), bg.blue()))))


def _feed(meter: LevelMeter, dbfs: float, t0: float, t1: float, hop: float = 0.02) -> None:
    for t in np.arange(t0, t1 + 1e-9, hop):
        meter.set_level(dbfs, float(t))


# -- LevelMeter ---------------------------------------------------------------------------
def test_meter_rises_within_300_ms_but_not_instantly(qtbot):
    m = LevelMeter("You", AGENT_COLOR)
    qtbot.addWidget(m)
    m.set_level(MIN_DB, 0.0)
    m.set_level(-12.0, 0.02)
    assert m.level_db < -20.0  # ballistics, not a jump
    _feed(m, -12.0, 0.04, 0.30)
    assert m.level_db == pytest.approx(-12.0, abs=1.0)


def test_meter_falls_with_a_300_ms_time_constant(qtbot):
    m = LevelMeter("You", AGENT_COLOR)
    qtbot.addWidget(m)
    _feed(m, -12.0, 0.0, 1.0)
    _feed(m, MIN_DB, 1.02, 1.30)
    expected = MIN_DB + (-12.0 - MIN_DB) * math.exp(-0.30 / 0.3)  # one time constant
    assert m.level_db == pytest.approx(expected, abs=1.5)
    _feed(m, MIN_DB, 1.32, 2.5)
    assert m.level_db < -58.0


def test_meter_ballistics_do_not_depend_on_the_call_rate(qtbot):
    fast, slow = LevelMeter("You", AGENT_COLOR), LevelMeter("You", AGENT_COLOR)
    for m, hop in ((fast, 0.005), (slow, 0.1)):
        qtbot.addWidget(m)
        _feed(m, -10.0, 0.0, 1.0, hop)
        _feed(m, MIN_DB, 1.0 + hop, 1.4, hop)
    assert fast.level_db == pytest.approx(slow.level_db, abs=0.5)
    assert -50.0 < fast.level_db < -20.0


def test_peak_holds_then_falls(qtbot):
    m = LevelMeter("You", AGENT_COLOR)
    qtbot.addWidget(m)
    _feed(m, -6.0, 0.0, 0.3)
    _feed(m, -50.0, 0.32, 1.7)
    assert m.peak_db == pytest.approx(-6.0, abs=0.01)  # held 1.4 s after the shout
    assert m.level_db < -45.0
    _feed(m, -50.0, 1.72, 2.5)
    assert m.peak_db < -15.0  # released after the hold
    _feed(m, -50.0, 2.52, 6.0)
    assert m.peak_db == pytest.approx(m.level_db, abs=1.0)  # never below the bar


def test_inactive_meter_is_grey_and_ignores_levels(qtbot):
    m = LevelMeter("Customer", CUSTOMER_COLOR)
    qtbot.addWidget(m)
    m.resize(300, m.sizeHint().height())
    _feed(m, -6.0, 0.0, 0.5)
    assert _near(_pixels(m), CUSTOMER_COLOR).sum() > 50
    m.set_active(False)
    _feed(m, -6.0, 0.6, 1.0)
    assert not m.is_active and m.level_db == MIN_DB
    assert "no customer source" in m.toolTip()
    assert _near(_pixels(m), CUSTOMER_COLOR).sum() == 0
    assert m.accessibleName()


def test_meter_size_follows_the_font(qtbot):
    small, large = LevelMeter("You", AGENT_COLOR), LevelMeter("You", AGENT_COLOR)
    for m, pt in ((small, 9), (large, 18)):
        qtbot.addWidget(m)
        f = m.font()
        f.setPointSize(pt)
        m.setFont(f)
    assert large.sizeHint().height() > small.sizeHint().height() * 1.5
    assert large.sizeHint().width() > small.sizeHint().width() * 1.5


def test_align_labels_starts_bars_at_one_x(qtbot):
    you, cust = LevelMeter("You", AGENT_COLOR), LevelMeter("Customer", CUSTOMER_COLOR)
    for m in (you, cust):
        qtbot.addWidget(m)
        m.resize(400, m.sizeHint().height())
    assert you._layout()[1].left() < cust._layout()[1].left()
    align_labels(you, cust)
    assert you._layout()[1].left() == cust._layout()[1].left()


# -- VoiceTracePlot -----------------------------------------------------------------------
def test_trace_keeps_only_the_window_and_a_bounded_ring(qtbot):
    p = VoiceTracePlot(window_s=10.0)
    qtbot.addWidget(p)
    for t in np.arange(0.0, 60.0, 0.05):
        p.append(float(t), -30.0, 150.0)
    t, db, hz = p.points()
    assert t[0] >= t[-1] - 10.0 - 1e-9 and t[-1] == pytest.approx(59.95)
    assert 195 <= len(t) <= 202
    small = VoiceTracePlot(window_s=30.0, capacity=256)
    qtbot.addWidget(small)
    for t in np.arange(0.0, 60.0, 0.01):
        small.append(float(t), -30.0, float("nan"))
    assert len(small.points()[0]) == 256
    small.append(1.0, -30.0, 150.0)  # time went backwards: a new call
    assert len(small.points()[0]) == 1


def test_baseline_band_is_drawn_where_the_baseline_is(qtbot):
    p = VoiceTracePlot()
    qtbot.addWidget(p)
    p.resize(480, 260)
    base = p.palette().color(QPalette.Base)
    x = int(p.lanes()[0].center().x())
    y_in, y_out = int(p.db_to_y(-28.0 + 3.0)), int(p.db_to_y(-28.0 + 12.0))
    before = _pixels(p)
    assert _near(before[y_in, x], base, 3)
    p.set_baseline(-28.0, 6.0)
    after = _pixels(p)
    assert _near(after[y_in, x], _blend(AGENT_COLOR, 55, base), 6)
    assert _near(after[y_out, x], base, 3)
    p.set_baseline(None, 6.0)
    assert _near(_pixels(p)[y_in, x], base, 3)


def test_loudness_above_the_band_is_drawn_in_the_urgent_colour(qtbot):
    p = VoiceTracePlot()
    qtbot.addWidget(p)
    p.resize(480, 260)
    p.set_baseline(-28.0, 6.0)
    for t in np.arange(0.0, 10.0, 0.05):
        p.append(float(t), -30.0, float("nan"))
    red = urgency_color(100)
    base = p.palette().color(QPalette.Base)
    assert _inked(_pixels(p), red, base).sum() == 0
    for t in np.arange(10.0, 15.0, 0.05):
        p.append(float(t), -12.0, float("nan"))
    assert _inked(_pixels(p), red, base).sum() > 30


def test_unvoiced_pitch_is_a_gap(qtbot):
    p = VoiceTracePlot(window_s=10.0)
    qtbot.addWidget(p)
    p.resize(480, 260)
    for t in np.arange(0.0, 10.0, 0.02):
        p.append(float(t), -60.0, 150.0 if t < 5.0 else float("nan"))
    lane = p.lanes()[1]
    y = int(round(p.hz_to_y(150.0)))
    base = p.palette().color(QPalette.Base)
    rows = _inked(_pixels(p)[y - 2:y + 3], AGENT_COLOR, base).any(axis=0)
    mid = int(lane.center().x())
    assert rows[int(lane.left()) + 10:mid - 10].mean() > 0.9  # voiced half: a line
    assert not rows[mid + 10:int(lane.right()) - 5].any()     # unvoiced half: nothing


# -- PromptCard ---------------------------------------------------------------------------
@pytest.fixture
def card(qtbot):
    c = PromptCard()
    qtbot.addWidget(c)
    c.resize(520, c.sizeHint().height())
    c.show()
    return c


def _label_texts(card: PromptCard) -> list[str]:
    return [lab.text() for lab in card.findChildren(QLabel)]


def test_prompt_card_shows_text_and_reason(card, qtbot):
    assert card.is_idle and IDLE_TEXT in _label_texts(card)
    card.show_prompt("raised_voice", "Lower your voice", "+7 dB over your usual level for 2 s",
                     90)
    assert not card.is_idle
    assert (card.current_kind, card.current_text) == ("raised_voice", "Lower your voice")
    texts = _label_texts(card)
    assert "Lower your voice" in texts and "+7 dB over your usual level for 2 s" in texts
    assert "Lower your voice" in card.accessibleDescription()


def test_same_prompt_only_updates_the_reason(card, qtbot):
    changes: list[str] = []
    card.promptChanged.connect(changes.append)
    card.show_prompt("interruption", "Listen - let them finish", "over them for 1.0 s", 70)
    qtbot.waitUntil(lambda: not card.is_animating, timeout=2000)
    card.show_prompt("interruption", "Listen - let them finish", "over them for 1.6 s", 70)
    assert not card.is_animating  # no restart of the entry fade
    assert changes == ["interruption"]
    assert card.current_reason == "over them for 1.6 s"
    assert "over them for 1.6 s" in _label_texts(card)
    card.show_prompt("dead_air", "Tell them what you are doing", "silent for 10 s", 60)
    assert changes == ["interruption", "dead_air"]


def test_clear_fades_out_then_goes_idle(card, qtbot):
    card.show_prompt("dead_air", "Tell them what you are doing", "silent for 10 s", 60)
    start = time.monotonic()
    card.clear_prompt()
    assert not card.is_idle and card.is_animating  # fading, not gone
    qtbot.waitUntil(lambda: card.is_idle, timeout=3000)
    assert time.monotonic() - start >= 0.4
    assert card.current_kind == "" and IDLE_TEXT in _label_texts(card)
    assert not card.findChild(QPushButton).isVisible()


def test_new_prompt_during_the_fade_stays_up(card, qtbot):
    card.show_prompt("dead_air", "Tell them what you are doing", "silent for 10 s", 60)
    card.clear_prompt()
    card.show_prompt("raised_voice", "Lower your voice", "+8 dB", 90)
    qtbot.waitUntil(lambda: not card.is_animating, timeout=3000)
    assert not card.is_idle and card.current_kind == "raised_voice"


def test_snooze_emits_the_kind(card, qtbot):
    card.show_prompt("raised_voice", "Lower your voice", "+7 dB", 90)
    button = card.findChild(QPushButton)
    assert button.isVisible()
    with qtbot.waitSignal(card.snoozeRequested, timeout=1000) as blocker:
        qtbot.mouseClick(button, Qt.LeftButton)
    assert blocker.args == ["raised_voice"]
    qtbot.waitUntil(lambda: card.is_idle, timeout=3000)


# -- TalkShareBar -------------------------------------------------------------------------
def test_talk_share_text_and_split(qtbot):
    bar = TalkShareBar()
    qtbot.addWidget(bar)
    bar.resize(400, bar.sizeHint().height())
    assert bar.text() == "No speech yet" and bar.percentages() is None
    bar.set_share(46.0, 54.0)
    assert bar.text() == "You 46% · Customer 54%"
    assert "46%" in bar.accessibleDescription()
    px = _pixels(bar)
    agent_cols = _near(px, AGENT_COLOR).any(axis=0).nonzero()[0]
    cust_cols = _near(px, CUSTOMER_COLOR).any(axis=0).nonzero()[0]
    assert agent_cols.max() < cust_cols.min()
    assert agent_cols.max() / bar.width() == pytest.approx(0.46, abs=0.02)
    bar.set_share(1.0, 2.0)
    assert bar.percentages() == (33, 67)
    bar.set_share(float("nan"), -3.0)
    assert bar.text() == "No speech yet"
