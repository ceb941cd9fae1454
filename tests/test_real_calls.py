"""Real recorded calls, end to end, against a trainer's marking of them.

Every call in ../shared/data/real_calls/ that has a `*.trainer.json` is analysed as
`callcoach analyze` does (the bundled tiny.en) and must meet every expectation of its
marking: the cues that must not fire, each scorecard check, the least score. A calm,
well-handled call must also show an agent few prompts. `bench/real_calls.py` prints the
same comparison as a table.
"""

from __future__ import annotations

import json
import re

import pytest

from audio.analysis import AnalysisOptions, analyze_recording
from coaching.expectations import compare_with_marking
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.model, pytest.mark.slow]

MARKINGS = sorted((SHARED_DATA / "real_calls").glob("*.trainer.json"))
MAX_PROMPTS_ON_A_GOOD_CALL = 3


@pytest.fixture(scope="module")
def analysed():
    cache = {}

    def run(marking_path):
        if marking_path not in cache:
            marking = json.loads(marking_path.read_text(encoding="utf-8"))
            options = AnalysisOptions(agent_channel=marking.get("agent_channel", "left"))
            cache[marking_path] = marking, analyze_recording(
                marking_path.parent / marking["recording"], options)
        return cache[marking_path]

    return run


def test_there_is_a_marked_real_call() -> None:
    assert MARKINGS, "no *.trainer.json in ../shared/data/real_calls"


@pytest.mark.parametrize("marking_path", MARKINGS, ids=lambda p: p.name.split(".")[0])
def test_every_expectation_of_the_trainer_is_met(analysed, marking_path) -> None:
    marking, analysis = analysed(marking_path)
    results = compare_with_marking(marking, analysis.events, analysis.scorecard)
    missed = [f"{r.what}: {r.detail}" for r in results if not r.met]
    assert len(results) >= len(marking.get("checks", {})) and not missed, missed


@pytest.mark.parametrize("marking_path", MARKINGS, ids=lambda p: p.name.split(".")[0])
def test_a_good_call_shows_few_prompts_and_scores_like_one(analysed, marking_path) -> None:
    marking, analysis = analysed(marking_path)
    shown = [(round(e.detected_at), e.kind) for e in analysis.events if e.prompted and e.prompt]
    assert len(shown) <= MAX_PROMPTS_ON_A_GOOD_CALL, shown
    card = analysis.scorecard
    # What was not needed is said so and does not count.
    for check in card.checks:
        if check.status == "not needed":
            assert check.detail.startswith("not needed: ") and not check.applicable
    assert card.score is not None and card.score >= 75


@pytest.mark.parametrize("marking_path", MARKINGS, ids=lambda p: p.name.split(".")[0])
def test_summary_and_next_steps_for_the_right_reason(analysed, marking_path) -> None:
    """The trainer's file says where a check is decided ("near 26-31 s: ..."): the
    evidence must point there, not at some other words that happen to match."""
    marking, analysis = analysed(marking_path)
    for check_id in ("summarized", "next_steps"):
        want, why = marking["checks"].get(check_id, [None, ""])
        if not want:
            continue
        check = analysis.scorecard.check(check_id)
        assert check.passed and check.evidence, check
        near = [float(x) for x in re.findall(r"near (\d+)", why)]
        if near:
            assert any(abs(e.t - t) < 15 for e in check.evidence for t in near), (
                check_id, check.evidence, why)
