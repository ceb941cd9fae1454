"""What a model learned from labelled utterances says a sentence means.

The playbook's patterns and example sentences are precise, but on phrasing nobody wrote
down they miss about one intent in six. A small linear model trained on thousands of
labelled utterances (`coaching.intent_training`, `callcoach playbook train`) hears many
of those, at the same precision, on files of utterances it never saw (README, Phrase
matching).

It is one logistic regression per speaker, over two kinds of evidence: the words and
word pairs said (hashed, so the model is a fixed size whatever the vocabulary), and the
sentence encoder's vector (meaning beyond the exact words). That keeps it explainable:
a match names the words that weighed most for it, and its probability. It is pure
numpy and costs a few microseconds per utterance; the weights are one `.npz` file that
the playbook names (`[learned]`).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coaching.text import normalize_text

__all__ = ["LearnedIntents", "LearnedIntentsError", "grams", "gram_slot", "FORMAT"]

FORMAT = 1  # the layout of the saved file; a newer one is refused with a clear message
_QUESTION = "<?>"


class LearnedIntentsError(ValueError):
    """The model file is missing, unreadable or of another layout (one line, says why)."""


# Words that carry no intent on their own: a model that counts "you" or "it" as blame
# hears blame in "you know, believe it or not, this happens". They still count in word
# pairs ("you should", "my fault"), where they do say something.
FUNCTION_WORDS = frozenset("""
a an the and or but so if then than as of to in on at by for from with about into over
i im ive id ill me my mine myself you youre youve youd youll your yours he hes him his she
shes her hers it its itd itll we were weve wed well us our they theyre theyve them their
this that thats these those there theres here what whats which who whos
is are was be been being am do does did doing have has had having will would can could
shall should may might must just like um uh erm yeah yes ok okay oh well really very
""".split())


def grams(text: str) -> list[str]:
    """The evidence a sentence gives the model: its words (but not the function words
    alone), its word pairs, how it starts and ends, and whether it is written as a
    question ("<?>")."""
    words = normalize_text(text).split() or [""]
    out = [w for w in words if w not in FUNCTION_WORDS]
    out += [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    out += [f"^{words[0]}", f"{words[-1]}$"]
    if text.rstrip().endswith("?"):
        out.append(_QUESTION)
    return list(dict.fromkeys(out))


def gram_slot(gram: str, bits: int) -> int:
    """The row of a gram: a stable hash (crc32), the same on every machine and run."""
    return zlib.crc32(gram.encode("utf-8")) & ((1 << bits) - 1)


@dataclass(frozen=True)
class LearnedIntents:
    """The trained weights, by speaker.

    Attributes:
        sets: speaker -> the phrase sets the model scores for that speaker (columns).
        weights: speaker -> float32 (dim + 2**bits + 1, len(sets)): rows for the
            encoder's vector (times `vector_scale`), then one per hashed gram, then bias.
        bits: how many bits of a gram's hash pick its row.
        vector_scale: how much the encoder's vector weighs against one gram.
        encoder_name: the encoder whose vectors it was trained on; with another one,
            or none, it does not speak (its vector rows would mean nothing).
        trained_on: what it learned from, for a trainer (files and line counts).
    """

    sets: Mapping[str, tuple[str, ...]]
    weights: Mapping[str, np.ndarray] = field(repr=False)
    bits: int = 16
    vector_scale: float = 3.0
    encoder_name: str = ""
    trained_on: str = ""

    @property
    def dim(self) -> int:
        """The length of the encoder's vectors the model reads."""
        first = next(iter(self.weights.values()))
        return int(first.shape[0]) - (1 << self.bits) - 1

    def speaker_of(self, name: str) -> str | None:
        """Whose words the model scores set `name` in, or None (it does not know it)."""
        for speaker, names in self.sets.items():
            if name in names:
                return speaker
        return None

    def probabilities(self, speaker: str, text: str, vector: np.ndarray) -> dict[str, float]:
        """How likely `text` (said by `speaker`) says each of the speaker's sets."""
        names = self.sets.get(speaker, ())
        if not names:
            return {}
        w = self.weights[speaker]
        slots = [self.dim + gram_slot(g, self.bits) for g in grams(text)]
        logits = (np.asarray(vector, np.float32) * self.vector_scale) @ w[:self.dim] + \
            w[slots].sum(axis=0) + w[-1]
        probs = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        return {n: float(p) for n, p in zip(names, probs, strict=True)}

    def weighed_words(self, name: str, text: str, count: int = 3) -> tuple[str, ...]:
        """The words (or word pairs) of `text` that weighed most for set `name`: why it
        matched, for a trainer. Empty when no word spoke for it (its meaning did)."""
        speaker = self.speaker_of(name)
        if speaker is None:
            return ()
        column = self.sets[speaker].index(name)
        w = self.weights[speaker]
        weighed = [(float(w[self.dim + gram_slot(g, self.bits), column]), g) for g in grams(text)
                   if g != _QUESTION and not g.startswith("^") and not g.endswith("$")]
        best = sorted((x for x in weighed if x[0] > 0), reverse=True)[:count]
        return tuple(g for _, g in best)

    # -- the file ------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the model as one compressed `.npz` (float16 weights: under 1 MB)."""
        arrays = {f"weights_{s}": w.astype(np.float16) for s, w in self.weights.items()}
        meta = {"format": FORMAT, "bits": self.bits, "vector_scale": self.vector_scale,
                "encoder_name": self.encoder_name, "trained_on": self.trained_on,
                "speakers": list(self.sets), **{f"sets_{s}": list(n)
                                                 for s, n in self.sets.items()}}
        np.savez_compressed(Path(path), meta=np.array(repr(meta)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> LearnedIntents:
        """Read a model written by `save`.

        Raises:
            LearnedIntentsError: the file is missing, damaged, or of another layout.
        """
        file = Path(path)
        try:
            with np.load(file, allow_pickle=False) as data:
                meta = _literal(str(data["meta"]))
                if meta.get("format") != FORMAT:
                    raise LearnedIntentsError(
                        f"{file.name} is a learned model of another layout "
                        f"({meta.get('format')!r}, this version reads {FORMAT}); train it "
                        "again with callcoach playbook train")
                speakers = list(meta["speakers"])
                weights = {s: data[f"weights_{s}"].astype(np.float32) for s in speakers}
        except FileNotFoundError:
            raise LearnedIntentsError(f"learned model not found: {file}") from None
        except LearnedIntentsError:
            raise
        except Exception as exc:  # a truncated zip, a missing array, a bad header
            raise LearnedIntentsError(f"cannot read learned model {file}: "
                                      f"{type(exc).__name__}: {exc}") from None
        sets = {s: tuple(meta[f"sets_{s}"]) for s in speakers}
        for s in speakers:
            if weights[s].shape[1] != len(sets[s]):
                raise LearnedIntentsError(f"learned model {file} is damaged: speaker {s} "
                                          "has weights for another number of sets")
        return cls(sets, weights, int(meta["bits"]), float(meta["vector_scale"]),
                   str(meta["encoder_name"]), str(meta["trained_on"]))


def _literal(text: str) -> dict:
    import ast

    value = ast.literal_eval(text)
    if not isinstance(value, dict):
        raise ValueError("its header is not a table")
    return value

