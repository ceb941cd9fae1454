"""A local batch that resumes: the content key, atomic reports, stable report names, and the
two-step analysis, against `analyze_recording` itself, and two calls at once against one at
a time (no Ray)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio.analysis import AnalysisOptions, analyze_recording
from audio.contract import analysis_to_dict
from audio.staged_analysis import finish_measured, measure_recording
from coaching.playbook import default_playbook_path
from desktop.cli.batch import expand_recordings, run_batch, run_local
from desktop.cli.call_worker import CallJob, CallWorker
from desktop.cli.resume import (
    BatchRow,
    audio_digest,
    mark_done,
    read_done,
    report_stems,
    settings_key,
    write_atomic,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
STEREO = SHARED / "stereo_diarization.wav"


def test_report_names_do_not_depend_on_order_or_on_the_other_calls() -> None:
    paths = [Path("x/call.wav"), Path("y/call.wav"), Path("z/other.flac")]
    stems = report_stems(paths)
    assert stems[Path("z/other.flac")] == "other"
    assert stems[Path("x/call.wav")] != stems[Path("y/call.wav")]
    assert all(stems[p].startswith("call-") for p in paths[:2])
    assert report_stems(list(reversed(paths))) == stems
    # the same two calls in another batch (here, without the third) keep their names
    assert report_stems(paths[:2]) == {p: stems[p] for p in paths[:2]}


def test_the_settings_key_follows_the_playbook_and_the_model(tmp_path: Path) -> None:
    base = settings_key(AnalysisOptions())
    assert settings_key(AnalysisOptions()) == base
    assert settings_key(AnalysisOptions(cpu_threads=4)) == base  # speed, not words
    copy = tmp_path / "playbook.toml"
    shutil.copy(default_playbook_path(), copy)
    assert settings_key(AnalysisOptions(playbook_path=str(copy))) == base  # same text
    copy.write_text(copy.read_text() + "\n# a trainer's edit\n")
    assert settings_key(AnalysisOptions(playbook_path=str(copy))) != base
    assert settings_key(AnalysisOptions(model="base.en")) != base
    assert settings_key(AnalysisOptions(agent_channel="right")) != base
    assert settings_key(AnalysisOptions(transcribe=False)) != base


def test_a_marker_is_trusted_only_for_the_same_audio_and_whole_reports(tmp_path: Path) -> None:
    audio = tmp_path / "call.wav"
    shutil.copy(STEREO, audio)
    settings = settings_key(AnalysisOptions())
    row = BatchRow(recording=str(audio), status="ok", score=70)
    assert read_done(tmp_path, "call", audio, settings) is None  # nothing yet
    (tmp_path / "call.json").write_text("{}")
    (tmp_path / "call.html").write_text("<html>")
    mark_done(tmp_path, "call", audio, audio_digest(audio), settings, row)
    assert read_done(tmp_path, "call", audio, settings) == row
    assert read_done(tmp_path, "call", audio, settings_key(AnalysisOptions(
        agent_channel="right"))) is None
    # touched, same bytes: hashed again and still done
    audio.touch()
    assert read_done(tmp_path, "call", audio, settings) == row
    # other bytes of the same size and name: analysed again
    data = bytearray(audio.read_bytes())
    data[-1] ^= 0xFF
    audio.write_bytes(bytes(data))
    assert read_done(tmp_path, "call", audio, settings) is None
    mark_done(tmp_path, "call", audio, audio_digest(audio), settings, row)
    (tmp_path / "call.html").unlink()  # a report half there is not done
    assert read_done(tmp_path, "call", audio, settings) is None
    (tmp_path / "call.html").write_text("<html>")
    (tmp_path / ".callcoach" / "call.done").write_text('{"content_key": ')  # a torn marker
    assert read_done(tmp_path, "call", audio, settings) is None


def test_an_atomic_write_that_fails_leaves_the_old_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "call.json"
    write_atomic(target, '{"old": true}\n')

    with pytest.raises(TypeError):
        write_atomic(target, b"bytes are not text")  # type: ignore[arg-type]
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["call.json"]  # no temp file left


@pytest.mark.model
@pytest.mark.parametrize("name", ["stereo_diarization.wav", "jfk.flac"])
def test_the_two_steps_give_what_analyze_recording_gives(name: str) -> None:
    path = str(SHARED / name)
    whole = analysis_to_dict(analyze_recording(path))
    staged = analysis_to_dict(finish_measured(measure_recording(path)))
    assert set(whole.pop("timings_s")) == set(staged.pop("timings_s"))
    assert staged == whole


def _stamps(out: Path) -> dict[str, int]:
    """Every report and marker file, by its path in the folder, and when it was written."""
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*")
            if p.is_file() and p.name != "summary.csv"}


@pytest.mark.model
def test_a_local_rerun_picks_up_where_the_batch_stopped(tmp_path: Path, capsys) -> None:
    calls = tmp_path / "calls"
    (calls / "b").mkdir(parents=True)
    stereo, sr = sf.read(STEREO, dtype="float32")
    sf.write(calls / "one.wav", stereo, sr)
    sf.write(calls / "two.wav", np.ascontiguousarray(stereo[:, ::-1]), sr)
    sf.write(calls / "b" / "one.wav", np.ascontiguousarray(stereo[: sr * 3]), sr)
    (calls / "bad.wav").write_text("not audio")
    paths = expand_recordings([str(calls)])
    out = tmp_path / "reports"
    assert run_batch(paths, AnalysisOptions(), out) == 1
    first = capsys.readouterr().err
    assert "3 analysed, 1 failed, 0 skipped" in first and "calls per hour" in first
    summary = (out / "summary.csv").read_text()
    assert summary.count("\n") == 5
    mtimes = _stamps(out)
    assert len([n for n in mtimes if n.endswith(".json")]) == 3
    assert len([n for n in mtimes if n.endswith(".done")]) == 3
    assert not list(out.glob("*.done"))  # the markers kept apart from the reports

    # Stopped after the second call's JSON, before its marker: only it is done again.
    two_marker = out / ".callcoach" / "two.done"
    two_marker.unlink()
    assert run_batch(paths, AnalysisOptions(), out) == 1
    second = capsys.readouterr().err
    assert "1 analysed, 1 failed, 2 skipped" in second
    assert (out / "summary.csv").read_text() == summary  # complete, skipped ones included
    after = _stamps(out)
    assert {n for n in after if after[n] != mtimes.get(n)} == {
        "two.json", "two.html", ".callcoach/two.done"}

    # Nothing left to do: no call analysed, no report touched.
    assert run_batch(paths, AnalysisOptions(), out) == 1
    assert "0 analysed, 1 failed, 3 skipped" in capsys.readouterr().err
    assert _stamps(out) == after
    doc = json.loads((out / "two.json").read_text())
    assert doc["recording"] == str(calls / "two.wav")


def _reports(out: Path) -> dict[str, dict]:
    """Each call's JSON report, its timings (which differ run to run) taken out."""
    docs = {}
    for path in sorted(out.glob("*.json")):
        doc = json.loads(path.read_text())
        doc.pop("timings_s")
        docs[path.name] = doc
    return docs


@pytest.mark.model
def test_two_calls_at_once_keep_two_decodes_busy_and_write_the_same_reports(
        tmp_path: Path) -> None:
    lca = SHARED / "real_calls" / "lca_auto_repairs_49.flac"
    audio, sr = sf.read(lca, dtype="float32", frames=40 * sf.info(str(lca)).samplerate)
    calls = tmp_path / "calls"
    calls.mkdir()
    sf.write(calls / "first.flac", audio, sr)
    sf.write(calls / "swapped.flac", np.ascontiguousarray(audio[:, ::-1]), sr)
    shutil.copy(SHARED / "jfk.flac", calls / "jfk.flac")
    paths = expand_recordings([str(calls)])
    options = AnalysisOptions()
    settings = settings_key(options)

    worker = CallWorker(options, str(tmp_path / "two"), str(tmp_path / "two"), settings,
                        calls_at_once=2)
    (tmp_path / "two").mkdir()
    busiest = 0
    running = threading.Event()

    def watch() -> None:  # how many decodes the shared model runs at one moment
        nonlocal busiest
        while not running.wait(0.005):
            busiest = max(busiest, worker.model.model.num_active_batches)

    watcher = threading.Thread(target=watch)
    watcher.start()
    rows = []
    try:
        run_local([CallJob(str(p), str(p), p.stem) for p in paths], worker,
                  lambda job, row: rows.append(row), bars=False)
    finally:
        running.set()
        watcher.join()
    assert worker.model.model.num_workers == 2 and busiest >= 2  # both calls decoding
    assert all(r.status == "ok" for r in rows) and len(rows) == 3

    run_batch(paths, options, tmp_path / "one", quiet=True, overlap=False)
    one = _reports(tmp_path / "one")
    assert one == _reports(tmp_path / "two") and len(one) == 3
    assert len(one["first.json"]["transcript"]) > 5
