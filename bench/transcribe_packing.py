"""Does packing turns into ~28-s windows pay off? One Whisper call per turn vs packed.

    .venv/bin/python bench/transcribe_packing.py [--speech 60]

Builds one speaker's channel from the real recordings in ../shared/data (J. F. Kennedy cut
at his pauses, and both read-speech speakers), repeated with 0.8-2 s silences until it
holds about `--speech` seconds of speech, with the turns known. Then, with the bundled
tiny.en (int8, 2 threads, beam 1) loaded once:
  - per turn: `transcribe_utterance` on each turn, as the live engine does;
  - packed: `transcribe_segments` on the whole channel, as `callcoach analyze` does.
Prints seconds, the real-time factor (over the channel's length and over its speech),
and how far the two transcripts agree.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
SR = 16000


def clips() -> list[np.ndarray]:
    """Real speech turns of 1-5 s: JFK phrase by phrase, and the two read sentences."""
    import librosa
    import soundfile as sf

    jfk, rate = sf.read(DATA / "jfk.flac", dtype="float32")
    jfk = librosa.resample(jfk[:, 0], orig_sr=rate, target_sr=SR)
    stereo, _ = sf.read(DATA / "stereo_diarization.wav", dtype="float32")
    phrases = [(0.2, 2.1), (3.2, 4.35), (5.35, 7.6), (8.1, 10.6)]
    return ([jfk[int(a * SR):int(b * SR)] for a, b in phrases]
            + [stereo[:, 0], stereo[:, 1][: int(2.6 * SR)]])


def build_channel(speech_s: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    rng = np.random.default_rng(0)
    parts, segments, t, speech = [np.zeros(SR, np.float32)], [], 1.0, 0.0
    pool = clips()
    while speech < speech_s:
        for clip in pool:
            gap = float(rng.uniform(0.8, 2.0))
            segments.append((t, t + len(clip) / SR))
            parts += [clip, np.zeros(int(gap * SR), np.float32)]
            t += len(clip) / SR + gap
            speech += len(clip) / SR
    return np.concatenate(parts).astype(np.float32), segments


def normalized(texts) -> list[str]:
    return "".join(c if c.isalnum() or c.isspace() else " "
                   for c in " ".join(texts).lower()).split()


def word_edits(a: list[str], b: list[str]) -> int:
    """Word-level edit distance (substitutions, insertions, deletions), as in WER."""
    row = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, other in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (word != other))
    return row[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", type=float, default=60.0, help="seconds of speech")
    args = parser.parse_args()

    from audio.transcribe import Transcriber

    channel, segments = build_channel(args.speech)
    length = len(channel) / SR
    speech = sum(b - a for a, b in segments)
    print(f"channel {length:.1f} s, {len(segments)} turns, {speech:.1f} s of speech")

    t0 = time.perf_counter()
    tr = Transcriber()
    tr.load()
    print(f"model load: {time.perf_counter() - t0:.2f} s ({tr.name})")
    tr.transcribe_utterance(channel[:SR], "agent", 0.0)  # warm-up

    t0 = time.perf_counter()
    single = [tr.transcribe_utterance(channel[int(a * SR):int(b * SR)], "agent", a)
              for a, b in segments]
    per_turn_s = time.perf_counter() - t0
    single = [u for u in single if u is not None]

    t0 = time.perf_counter()
    packed = tr.transcribe_segments(channel, "agent", segments)
    packed_s = time.perf_counter() - t0

    for label, seconds, got in (("one call per turn", per_turn_s, single),
                                ("packed windows", packed_s, packed)):
        print(f"{label:18s} {seconds:6.2f} s   RTF {seconds / length:.3f} of the channel, "
              f"{seconds / speech:.3f} of the speech   {len(got)}/{len(segments)} utterances")
    words_a = normalized(u.text for u in single)
    words_b = normalized(u.text for u in packed)
    changes = word_edits(words_a, words_b)
    print(f"speed-up {per_turn_s / packed_s:.1f}x; the packed transcript differs from the "
          f"per-turn one in {changes} of {len(words_a)} words "
          f"({changes / max(1, len(words_a)):.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
