"""Training the learned intents (`coaching.learned_intents`) from labelled utterances.

A trainer who has a few hundred lines of their own campaign, labelled the way
`callcoach playbook test` prints them, can teach the model that campaign's words: the
bundled model was made the same way, from the files in `bench/data/`, by
`callcoach playbook train`. Training is plain full-batch logistic regression (Adam, L2)
on hashed word features; five thousand lines take about ten seconds.

Pure numpy: the encoder is injected, and the labelled lines are read by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coaching.learned_intents import LearnedIntents, gram_slot, grams
from coaching.phrase_types import Encoder

__all__ = ["Labelled", "TrainingError", "parse_labelled", "train_intents"]


class TrainingError(ValueError):
    """Labelled lines that cannot be learned from (the message names the line)."""


@dataclass(frozen=True)
class Labelled:
    """One labelled utterance: who said it, what, and the sets it says."""

    speaker: str
    text: str
    labels: frozenset[str]


# How hard the weights are pulled to zero. Chosen on blind files S-Z with a model trained
# without them (micro F1 0.880 at 1e-3, 0.891 at 1e-4, 0.890 at 3e-5); the files held out
# from every model then moved from 0.930 to 0.936 (bench/phrase_matching.py).
L2 = 1e-4


def parse_labelled(lines: Iterable[str], where: str = "") -> list[Labelled]:
    """`speaker<TAB>text<TAB>labels` lines (labels comma-separated, "-" for none); blank
    lines and `#` comments are skipped.

    Raises:
        TrainingError: a line without its three fields, or of another speaker.
    """
    out = []
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise TrainingError(f"{where}line {number}: expected speaker<TAB>text<TAB>labels")
        speaker = parts[0].strip().lstrip("\ufeff").lower()
        if speaker not in ("agent", "customer"):
            raise TrainingError(f"{where}line {number}: speaker must be agent or customer, "
                                f"not {parts[0]!r}")
        labels = frozenset(x.strip() for x in parts[2].split(",")
                           if x.strip() and x.strip() != "-")
        out.append(Labelled(speaker, parts[1], labels))
    return out


def train_intents(rows: Sequence[Labelled], sets: Mapping[str, Sequence[str]],
                  encoder: Encoder, trained_on: str = "", bits: int = 16,
                  vector_scale: float = 3.0, l2: float = L2, steps: int = 300,
                  rate: float = 0.05) -> LearnedIntents:
    """Learn, for each speaker in `sets`, the sets that speaker's lines say.

    Labels of sets the speaker is not listened for are ignored (a customer's "thanks").
    The halves of the longer lines that say nothing are learned as saying nothing too.

    Raises:
        TrainingError: a speaker with no lines, or a set with no line that says it.
    """
    rows = list(rows) + _fragments(rows)
    weights = {}
    for speaker, names in sets.items():
        mine = [r for r in rows if r.speaker == speaker]
        if not mine:
            raise TrainingError(f"no labelled lines said by the {speaker}")
        missing = [n for n in names if not any(n in r.labels for r in mine)]
        if missing:
            raise TrainingError(f"no {speaker} line is labelled {', '.join(missing)}: the "
                                "model cannot learn a set without examples of it")
        x = _features([r.text for r in mine], encoder, bits, vector_scale)
        y = np.array([[n in r.labels for n in names] for r in mine], np.float32)
        weights[speaker] = _fit(x, y, l2, steps, rate)
    return LearnedIntents({s: tuple(n) for s, n in sets.items()}, weights, bits, vector_scale,
                          getattr(encoder, "name", type(encoder).__name__), trained_on)


@dataclass(frozen=True)
class _Features:
    """The lines as the model reads them: dense vectors (already scaled), and the hashed
    grams as (line, row) pairs, sorted both ways for fast sums."""

    vectors: np.ndarray  # lines x dim
    lines: np.ndarray  # the line of each (line, row) pair, ascending
    rows: np.ndarray  # the weight row of each pair (dim + slot)
    line_starts: np.ndarray  # where each line's pairs start
    by_row: np.ndarray  # the pairs in order of row
    row_starts: np.ndarray  # where each distinct row's pairs start (in by_row order)
    distinct_rows: np.ndarray
    width: int


def _features(texts: Sequence[str], encoder: Encoder, bits: int, scale: float) -> _Features:
    vectors = np.asarray(encoder.encode(list(texts)), np.float32) * scale
    dim = vectors.shape[1]
    lines, rows = [], []
    for i, text in enumerate(texts):
        slots = sorted({dim + gram_slot(g, bits) for g in grams(text)})
        lines += [i] * len(slots)
        rows += slots
    lines_a, rows_a = np.array(lines), np.array(rows)
    by_row = np.argsort(rows_a, kind="stable")
    distinct, row_starts = np.unique(rows_a[by_row], return_index=True)
    line_starts = np.searchsorted(lines_a, np.arange(len(texts)))
    return _Features(vectors, lines_a, rows_a, line_starts, by_row, row_starts, distinct,
                     dim + (1 << bits) + 1)


def _fit(x: _Features, y: np.ndarray, l2: float, steps: int, rate: float) -> np.ndarray:
    """Logistic regression, one column per set, by full-batch Adam."""
    dim, n = x.vectors.shape[1], len(y)
    w = np.zeros((x.width, y.shape[1]), np.float32)
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        hashed = np.add.reduceat(w[x.rows], x.line_starts, axis=0)  # every line has grams
        p = 1.0 / (1.0 + np.exp(-np.clip(x.vectors @ w[:dim] + hashed + w[-1], -30, 30)))
        d = (p - y) / n
        g = l2 * w
        g[:dim] += x.vectors.T @ d
        g[x.distinct_rows] += np.add.reduceat(d[x.lines[x.by_row]], x.row_starts, axis=0)
        g[-1] += d.sum(axis=0)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= rate * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w


def _fragments(rows: Sequence[Labelled]) -> list[Labelled]:
    """Pieces of the lines that say nothing, as Whisper cuts speech: they say nothing
    either. Without them the model hears distress in "I'm going to be", a line cut
    before its end, because lines that start so are often distressed."""
    out = []
    for r in rows:
        if r.labels:
            continue
        words = r.text.split()
        if len(words) < 6:
            continue
        cut = max(3, len(words) // 2)
        out.append(Labelled(r.speaker, " ".join(words[:cut]), frozenset()))
        out.append(Labelled(r.speaker, " ".join(words[cut:]), frozenset()))
    return out
