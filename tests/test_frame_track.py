"""The compact frame store: the same frames back, a fraction of the memory, safe to read
while the live worker appends."""

from __future__ import annotations

import math
import threading
import tracemalloc

import numpy as np
import pytest

from audio.channel import analyze_channel
from audio.recording import load_recording
from coaching.frame_track import FrameTrack
from coaching.timeline import Frame
from tests.conftest import SHARED_DATA


@pytest.fixture(scope="module")
def real_frames() -> list[Frame]:
    """Frames of real speech (JFK), as the analysis makes them."""
    frames, _ = analyze_channel(load_recording(SHARED_DATA / "jfk.flac").agent, "agent")
    return frames


def _same(a: Frame, b: Frame) -> bool:
    """Field by field, NaN pitch equal to NaN pitch."""
    return all(x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
               for x, y in zip((a.t, a.dbfs, a.pitch_hz, a.speech_prob, a.voice, a.in_turn),
                               (b.t, b.dbfs, b.pitch_hz, b.speech_prob, b.voice, b.in_turn),
                               strict=True))


def test_frames_come_back_exactly(real_frames) -> None:
    track = FrameTrack(real_frames)
    assert len(track) == len(real_frames) > 500
    assert any(f.has_pitch for f in real_frames) and any(not f.has_pitch for f in real_frames)
    assert all(_same(a, b) for a, b in zip(track, real_frames, strict=True))
    assert _same(track[0], real_frames[0]) and _same(track[-1], real_frames[-1])
    assert all(_same(a, b) for a, b in zip(track[100:110], real_frames[100:110], strict=True))
    assert len(track[10:0]) == 0 and len(track[::50]) == len(real_frames[::50])
    with pytest.raises(IndexError):
        track[len(real_frames)]
    assert np.array_equal(track.column("dbfs"), [f.dbfs for f in real_frames])
    assert track == FrameTrack(real_frames) and track != FrameTrack(real_frames[:-1])


def test_columns_cost_a_fraction_of_frame_objects(real_frames) -> None:
    many = real_frames * 20  # ~11,000 frames: three minutes of one party
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        as_objects = [Frame(*(float(v) if isinstance(v, float) else v for v in
                              (f.t, f.dbfs, f.pitch_hz, f.speech_prob, f.voice, f.in_turn,
                               f.tilt_db)))
                      for f in many]
        objects_bytes = tracemalloc.get_traced_memory()[0] - base
        del as_objects
        base = tracemalloc.get_traced_memory()[0]
        track = FrameTrack(many)
        track_bytes = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(track) == len(many)
    assert track_bytes < objects_bytes / 2, (track_bytes, objects_bytes)
    assert track_bytes / len(many) < 90  # 42 bytes a frame, at most doubled by growth


def test_a_reader_sees_whole_frames_while_the_track_grows() -> None:
    """The live window slices new frames on the GUI thread while the worker appends."""
    track = FrameTrack(capacity=16)  # grows many times under the reader
    total, seen, errors = 40_000, [], []

    def reader() -> None:
        start = 0
        while start < total:
            end = len(track)
            chunk = track[start:end]
            if len(chunk) != end - start:
                errors.append((start, end, len(chunk)))
            seen.extend(chunk)
            start = end

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(total):
        track.append(Frame(i * 0.016, -float(i % 90), float(i), 0.5, i % 2 == 0, True))
    thread.join(timeout=30)
    assert not errors
    assert [f.pitch_hz for f in seen] == [float(i) for i in range(total)]
    assert all(f.voice == (i % 2 == 0) for i, f in enumerate(seen))
