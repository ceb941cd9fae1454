"""The live page's clock line: what the agent reads about the two devices' clocks.

Formatted from real `DriftReport`s (one straight from a `DriftCorrector` that measured a
simulated fast device), then shown and hidden by the page from snapshots; the window
carries it through a real two-device call in test_gui_live_pulse.
"""

from __future__ import annotations

import re

import pytest

from audio.drift import DriftReport
from desktop.window.live_worker import LiveSnapshot
from desktop.window.pages.live_page import BIG_DRIFT_PPM, LivePage, clock_status
from tests.test_drift import RATE, simulate


def test_nothing_is_said_until_measured_or_with_one_device() -> None:
    assert clock_status(None) == ("", "")


def test_a_fast_customer_device_and_what_was_corrected() -> None:
    line, tip = clock_status(DriftReport(ppm=41.3, agent_ppm=-2.1, customer_ppm=39.2,
                                         adjusted_samples=192))  # 12 ms at 16 kHz
    assert line == "Clocks: customer device runs 41 ppm fast; corrected (12 ms so far)"
    assert "out of step" not in line
    assert "faster than yours" in tip and "0.15 s an hour" in tip
    assert "yours -2 ppm, the customer's +39 ppm" in tip


def test_a_slow_customer_device_with_samples_repeated() -> None:
    line, _ = clock_status(DriftReport(-87.6, 10.0, -77.6, -8))
    assert line == "Clocks: customer device runs 88 ppm slow; corrected (under 1 ms so far)"


def test_clocks_that_agree_are_said_to_agree() -> None:
    line, _ = clock_status(DriftReport(0.3, 1.0, 1.3, 0))
    assert line == "Clocks: your device and the customer's keep the same time"


def test_a_big_drift_warns_that_the_call_may_sound_out_of_step() -> None:
    line, tip = clock_status(DriftReport(BIG_DRIFT_PPM + 120, 0.0, 620.0, 1600))
    assert line.startswith("Clocks: customer device runs 620 ppm fast; corrected (100 ms")
    assert line.endswith("but the two sides may sound out of step")
    assert "another device" in tip


def test_the_line_from_a_measured_device() -> None:
    """A customer device 300 ppm fast, a minute into a (simulated) call: the corrector's
    own report reads as a fast device whose surplus samples were dropped."""
    _, corrector = simulate(RATE * (1 + 300e-6), 1.0, correct=True)
    report = corrector.report()
    assert report is not None and report.adjusted_samples > 0
    line, _ = clock_status(report)
    match = re.fullmatch(r"Clocks: customer device runs (\d+) ppm fast; "
                         r"corrected \((\d+) ms so far\)", line)
    assert match, line
    assert int(match[1]) == pytest.approx(300, abs=60)  # the first minute's estimate: rough
    assert int(match[2]) == round(report.adjusted_samples / RATE * 1000)


def _snapshot(drift: DriftReport | None) -> LiveSnapshot:
    return LiveSnapshot(call_time_s=12.0, agent_frames=(), customer_frames=(),
                        utterances=(), baseline_dbfs=None, current_prompt=None, backlog=0,
                        drift=drift)


def test_the_page_shows_the_line_once_measured_and_hides_it_without(qtbot) -> None:
    page = LivePage()
    qtbot.addWidget(page)
    page.show()
    try:
        page.show_snapshot(_snapshot(None))  # one device, or not measured yet
        assert page.clock_label.text() == "" and not page.clock_label.isVisible()
        page.show_snapshot(_snapshot(DriftReport(41.3, -2.1, 39.2, 192)))
        assert page.clock_label.isVisible()
        assert page.clock_label.text() == ("Clocks: customer device runs 41 ppm fast; "
                                           "corrected (12 ms so far)")
        assert "parts per million" in page.clock_label.toolTip()
        page.show_snapshot(_snapshot(None))  # a device came back: measured afresh
        assert page.clock_label.text() == "" and not page.clock_label.isVisible()
    finally:
        page.shutdown()
