"""The live engine is the recorded-call pipeline run incrementally: fed a call in 20 ms
blocks it must find the same acoustic cues at the same moments as `callcoach analyze`,
and prompt from transcripts as utterances end."""

from __future__ import annotations

import pytest

from audio.analysis import AnalysisOptions, analyze_loaded
from audio.live import LiveConfig, LiveEngine
from audio.recording import load_recording
from audio.transcribe import Transcriber
from coaching.playbook import load_playbook
from tests.calls import ANGRY
from tests.callsynth import synth_call

ACOUSTIC = {"interruption", "customer_interruption", "raised_voice", "customer_raised_voice",
            "dead_air", "slow_response", "long_monologue"}
BLOCK = 320  # 20 ms at 16 kHz, a typical audio callback


@pytest.fixture(scope="module")
def angry(tmp_path_factory: pytest.TempPathFactory):
    call = synth_call(ANGRY, tmp_path_factory.mktemp("live") / "angry.wav")
    return call, load_recording(call.path)


def feed(rec, transcriber=None, config=LiveConfig()):
    seen = []
    live = LiveEngine(config, load_playbook(), transcriber, on_event=seen.append)
    for i in range(0, len(rec.agent), BLOCK):
        customer = rec.customer[i:i + BLOCK] if rec.customer is not None else None
        live.push(rec.agent[i:i + BLOCK], customer)
    return live, live.finish(), seen


def acoustic(events):
    return [(e.kind, e.start, e.end, e.detected_at) for e in events if e.kind in ACOUSTIC]


def test_live_acoustic_cues_equal_the_recorded_analysis(angry) -> None:
    _, rec = angry
    _, result, seen = feed(rec, config=LiveConfig(transcribe=False))
    batch = analyze_loaded(rec, AnalysisOptions(transcribe=False))
    assert acoustic(result.events) == acoustic(batch.events)
    assert [e.kind for e in result.events].count("interruption") == 2
    # Each event was emitted as it was detected, in audio order.
    assert [e.detected_at for e in seen] == sorted(e.detected_at for e in seen)


@pytest.mark.model
def test_live_transcribes_each_utterance_and_prompts_from_it(angry) -> None:
    call, rec = angry
    live, result, seen = feed(rec, Transcriber())
    text = " ".join(u.text for u in result.timeline.utterances).lower()
    assert "ridiculous" in text and "router" in text
    kinds = [e.kind for e in seen]
    assert "prompt_apologize" in kinds and "forbidden_phrase" in kinds
    assert live.status().backlog == 0 and live.status().dropped_utterances == 0
    assert not result.scorecard.check("no_calm_down").passed
    # The scorecard judges the same way as the recorded analysis on the same call.
    assert {c.id for c in result.scorecard.checks if not c.passed} >= {
        "no_interruptions", "calm_voice", "no_calm_down", "apologized"}


def test_agent_only_live(angry) -> None:
    _, rec = angry
    live = LiveEngine(LiveConfig(has_customer=False, transcribe=False), load_playbook())
    for i in range(0, len(rec.agent), BLOCK):
        live.push(rec.agent[i:i + BLOCK])
    result = live.finish()
    assert "interruption" in result.skipped_kinds
    assert [e.kind for e in result.events] == ["raised_voice"]
    assert not result.scorecard.check("responsive").applicable


def test_bounded_backlog_drops_the_oldest(angry) -> None:
    """A transcriber far slower than the call (a stand-in for an overloaded Whisper)."""
    _, rec = angry

    class Slow:
        name = "slow"

        def transcribe_utterance(self, audio, speaker, offset):
            import time

            time.sleep(0.5)
            return None

    live = LiveEngine(LiveConfig(max_backlog=2), load_playbook(), Slow())
    for i in range(0, len(rec.agent), BLOCK * 50):
        live.push(rec.agent[i:i + BLOCK * 50], rec.customer[i:i + BLOCK * 50])
    status = live.status()
    result = live.finish()
    assert status.backlog <= 2 and status.dropped_utterances > 0
    # The acoustic cues were never held up by the slow worker.
    assert [e.kind for e in result.events].count("interruption") == 2


def test_utterance_audio_is_cut_from_the_kept_blocks() -> None:
    import numpy as np

    from audio.live import _Track

    track = _Track("agent", LiveConfig(keep_audio_s=2.0))
    x = np.arange(16000 * 5, dtype=np.float32)
    for i in range(0, len(x), 333):
        track.add_audio(x[i:i + 333])
    clip, offset = track.clip(3.5, 4.25)
    assert offset == 3.5 and np.array_equal(clip, x[56000:68000])
    clip, offset = track.clip(0.0, 1.0)  # older than what is kept: nothing, not garbage
    assert len(clip) == 0 and track.audio_start / 16000 >= 2.9
