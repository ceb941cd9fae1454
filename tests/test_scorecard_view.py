"""The scorecard page and its exports, on the demo call as `callcoach analyze` sees it.

The demo call is analysed once for the module (the bundled tiny.en model, offline): its
document has a failed check with a measured reason (an interruption), passed checks with
quoted speech, and a transcript with events, which is everything the page shows. The
empty and not-scored states use small hand-written documents.
"""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from desktop.reports.export import ExportError, export_html, export_pdf
from desktop.window.widgets.scorecard_parts import EvidenceLink, ScoreRing
from desktop.window.widgets.scorecard_view import EMPTY_TEXT, ScorecardView

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_doc() -> dict:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        from audio.analysis import analyze_recording
        from audio.contract import analysis_to_dict
        return analysis_to_dict(analyze_recording(ROOT / "assets" / "demo_call.flac"))


@pytest.fixture
def view(qtbot) -> ScorecardView:
    v = ScorecardView()
    qtbot.addWidget(v)
    v.resize(1000, 800)
    return v


def _checks(doc: dict, passed: bool) -> list[dict]:
    return [c for c in doc["scorecard"]["checks"]
            if c.get("applicable", True) and bool(c["passed"]) == passed]


def _links(widget: QWidget) -> list[EvidenceLink]:
    return widget.findChildren(EvidenceLink, "evidenceLink")


def _unscored_doc() -> dict:
    checks = [{"id": "greeting", "passed": False, "applicable": False, "category": "Now",
               "label": "Greeted the caller", "detail": "no speech was found", "weight": 1.0,
               "evidence": []}]
    return {"schema": 1, "recording": "/calls/empty.wav", "duration_s": 12.0,
            "transcript": [], "events": [],
            "scorecard": {"score": None, "checks": checks, "metrics": {}, "breakdown": {},
                          "notes": ["no speech was found"]}}


@pytest.mark.model
def test_header_shows_the_score_and_the_call(view, demo_doc):
    view.set_document(demo_doc, when=datetime.datetime(2025, 3, 4, 14, 22))
    score = demo_doc["scorecard"]["score"]
    assert isinstance(score, int)
    assert view.findChild(ScoreRing, "scoreRing").text() == str(score)
    assert view.findChild(QLabel, "scoreCaption").text() == "out of 100"
    assert view.findChild(QLabel, "callTitle").text() == "demo_call.flac"
    facts = view.findChild(QLabel, "callFacts").text()
    assert "2025-03-04 14:22" in facts and "1:11" in facts  # the demo call lasts 71.9 s


@pytest.mark.model
def test_failed_checks_under_what_to_change_passed_under_what_went_well(view, demo_doc):
    view.set_document(demo_doc)
    well, change = view.findChild(QWidget, "wentWell"), view.findChild(QWidget, "toChange")
    failed, passed = _checks(demo_doc, False), _checks(demo_doc, True)
    assert failed and passed  # the demo call has both, or this test proves nothing
    for c in failed:
        assert change.findChild(QWidget, f"check_{c['id']}") is not None, c["id"]
        assert well.findChild(QWidget, f"check_{c['id']}") is None, c["id"]
    for c in passed:
        assert well.findChild(QWidget, f"check_{c['id']}") is not None, c["id"]
        assert change.findChild(QWidget, f"check_{c['id']}") is None, c["id"]
    assert view.findChild(QLabel, "toChangeTitle").text() == f"What to change ({len(failed)})"


@pytest.mark.model
def test_speech_is_quoted_and_a_measured_reason_is_not(view, demo_doc):
    view.set_document(demo_doc)
    apology = view.findChild(QWidget, "check_apologized")
    interruption = view.findChild(QWidget, "check_no_interruptions")
    said = _links(apology)[0]
    assert said.text().startswith("0:28 \u201c") and said.text().endswith("\u201d")
    reason = _links(interruption)[0]
    assert reason.text().startswith("0:14 you started over the customer")


@pytest.mark.model
def test_clicking_evidence_asks_to_seek_to_its_moment(view, qtbot, demo_doc):
    view.set_document(demo_doc)
    view.show()
    check = next(c for c in _checks(demo_doc, False) if c["evidence"])
    link = _links(view.findChild(QWidget, f"check_{check['id']}"))[0]
    with qtbot.waitSignal(view.seekRequested, timeout=2000) as blocker:
        qtbot.mouseClick(link, Qt.LeftButton)
    assert blocker.args == [pytest.approx(check["evidence"][0]["t"])]


@pytest.mark.model
def test_tab_reaches_every_evidence_link_and_enter_or_space_activates(view, qtbot, demo_doc):
    view.set_document(demo_doc)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    links = _links(view)
    expected = sum(len(c["evidence"]) for c in demo_doc["scorecard"]["checks"])
    assert len(links) == expected > 1
    links[0].setFocus()
    qtbot.waitUntil(links[0].hasFocus)
    reached = [links[0]]
    for _ in range(len(links) - 1):
        qtbot.keyClick(view.focusWidget(), Qt.Key_Tab)
        reached.append(view.focusWidget())
    assert set(reached) == set(links)
    target = reached[-1]
    with qtbot.waitSignal(view.seekRequested, timeout=2000) as enter:
        qtbot.keyClick(target, Qt.Key_Return)
    assert enter.args == [pytest.approx(target.t)]
    with qtbot.waitSignal(view.seekRequested, timeout=2000) as space:
        qtbot.keyClick(reached[0], Qt.Key_Space)
    assert space.args == [pytest.approx(reached[0].t)]


@pytest.mark.model
def test_metrics_carry_units_and_the_learn_bars_count_checks(view, demo_doc):
    view.set_document(demo_doc)
    metrics = demo_doc["scorecard"]["metrics"]
    ratio = view.findChild(QLabel, "metric_agent_talk_ratio").text()
    assert ratio == f"{100 * metrics['agent_talk_ratio']:.0f}%"
    assert view.findChild(QLabel, "metric_agent_wpm").text().endswith(" wpm")
    assert view.findChild(QLabel, "metric_longest_customer_turn_s").text().endswith(" s")
    listen = [c for c in demo_doc["scorecard"]["checks"]
              if c["category"] == "Listen" and c["applicable"]]
    figure = view.findChild(QWidget, "learn_Listen").findChild(QLabel, "learnFigure").text()
    assert figure == f"{sum(c['passed'] for c in listen)}/{len(listen)}"


def test_clear_shows_the_empty_state(view, qtbot):
    view.set_document(_unscored_doc())
    view.show()
    empty = view.findChild(QLabel, "emptyState")
    assert not empty.isVisible()
    view.clear()
    assert empty.isVisible() and empty.text() == EMPTY_TEXT
    assert view.findChild(ScoreRing, "scoreRing") is None
    assert _links(view) == []
    assert view.document() is None


def test_a_call_without_a_score_says_not_scored(view):
    view.set_document(_unscored_doc())
    assert view.findChild(QLabel, "scoreCaption").text() == "not scored"
    assert view.findChild(ScoreRing, "scoreRing").text() == "\u2014"
    judged = view.findChild(QWidget, "notJudged")
    assert judged is not None and judged.findChild(QWidget, "check_greeting") is not None
    # nothing was judged: no empty "went well / to change" columns, no L.E.A.R.N. bars
    assert view.findChild(QWidget, "wentWell") is None
    assert view.findChild(QWidget, "toChange") is None
    assert view.findChild(QWidget, "learn_Listen") is None


@pytest.mark.model
def test_a_new_document_replaces_the_old_one(view, demo_doc):
    view.set_document(demo_doc)
    assert view.findChild(QWidget, "check_no_interruptions") is not None
    view.set_document(_unscored_doc())
    assert view.findChild(QWidget, "check_no_interruptions") is None
    assert view.findChild(ScoreRing, "scoreRing").text() == "\u2014"


def test_a_theme_switch_recolours_the_page(view):
    view.set_document(_unscored_doc())

    def facts_colour() -> str:
        label = view.findChild(QLabel, "callFacts")
        return label.palette().color(label.foregroundRole()).name()

    light = facts_colour()
    dark = QPalette(view.palette())
    for role, colour in ((QPalette.Window, "#1f2226"), (QPalette.Base, "#17191c"),
                         (QPalette.WindowText, "#e6e8eb"), (QPalette.Text, "#e6e8eb")):
        dark.setColor(role, QColor(colour))
    view.setPalette(dark)
    assert facts_colour() != light
    assert QColor(facts_colour()).lightness() > QColor(light).lightness()  # lighter on dark
    assert view.findChild(QLabel, "callTitle").text() == "empty.wav"


def test_the_date_comes_from_the_history_store_when_not_given(view):
    doc = _unscored_doc() | {"history": {"id": 7, "started_at": "2025-02-01T09:30:00+01:00"}}
    view.set_document(doc)
    assert view.findChild(QLabel, "callFacts").text().startswith("2025-02-01 09:30")
    view.set_document(doc, when=datetime.datetime(2025, 3, 4, 14, 22))
    assert view.findChild(QLabel, "callFacts").text().startswith("2025-03-04 14:22")


def test_trend_needs_two_calls(view):
    view.set_document(_unscored_doc())
    view.show()
    trend = view.findChild(QWidget, "scoreTrend")
    day = datetime.datetime(2025, 3, 1)
    view.set_trend([(day, 70)])
    assert not trend.isVisible()
    view.set_trend([(day, 70), (day + datetime.timedelta(days=1), 76)])
    assert trend.isVisible()
    assert view.findChild(QLabel, "trendCaption").text() == "Your last 2 calls"


def test_sizes_follow_the_font(view):
    view.set_document(_unscored_doc())
    small = view.findChild(ScoreRing, "scoreRing").sizeHint().height()
    font = view.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    view.setFont(font)
    big = view.findChild(ScoreRing, "scoreRing").sizeHint().height()
    assert big >= 1.35 * small


@pytest.mark.model
def test_pdf_export_is_a_real_pdf_with_the_score_and_checks(qapp, tmp_path, demo_doc):
    out = tmp_path / "card.pdf"
    export_pdf(demo_doc, out)
    assert out.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert str(demo_doc["scorecard"]["score"]) in text.split()
    for c in _checks(demo_doc, False):
        assert c["label"] in text
    assert "Transcript" in text and "What to change" in text
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True,
                          check=True).stdout
    assert "595 x 842 pts (A4)" in info
    assert [p.name for p in tmp_path.iterdir()] == ["card.pdf"]  # no temporary left


def test_pdf_export_of_an_unscored_call(qapp, tmp_path):
    out = tmp_path / "empty.pdf"
    export_pdf(_unscored_doc(), out)
    assert out.read_bytes().startswith(b"%PDF") and out.stat().st_size > 1000


@pytest.mark.model
def test_html_export_holds_the_score(tmp_path, demo_doc):
    out = tmp_path / "card.html"
    export_html(demo_doc, out)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert f'<div class="num">{demo_doc["scorecard"]["score"]}</div>' in page


@pytest.mark.parametrize("export", [export_pdf, export_html])
def test_unwritable_path_raises_export_error(qapp, tmp_path, export):
    with pytest.raises(ExportError) as missing_dir:
        export(_unscored_doc(), tmp_path / "no such folder" / "card.out")
    assert "\n" not in str(missing_dir.value) and "no such folder" in str(missing_dir.value)
    with pytest.raises(ExportError, match="folder"):
        export(_unscored_doc(), tmp_path)
    assert list(tmp_path.iterdir()) == []
