"""`callcoach playbook train`: teach the learned intents a campaign's own words.

A trainer labels lines the way `callcoach playbook test` reads them, with a third field
of the sets each line says (`agent<TAB>text<TAB>apology,next_steps`, or `-`), and trains
a model from them; the playbook's `[learned] model` names the file. The bundled model
was made with this command from `bench/data/phrase_blind_*.tsv` (README, Phrase
matching). The model learns only the sets the playbook listens for, from the speaker
the playbook listens to.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

__all__ = ["run_playbook_train", "TrainInputError"]


class TrainInputError(Exception):
    """The labelled files cannot be read or learned from; one line."""


def run_playbook_train(files: list[str], out_path: str, playbook_path: str | None,
                       out: TextIO | None = None) -> int:
    """Train on the labelled `files`, write the model to `out_path`, say what it learned.

    Raises:
        TrainInputError: a file is missing or malformed, or a set has no example.
        PlaybookError: the playbook cannot be used.
    """
    from audio.sentence_encoder import EncoderError, load_encoder
    from coaching.intent_training import TrainingError, parse_labelled, train_intents
    from coaching.playbook import load_playbook

    out = out or sys.stdout
    playbook = load_playbook(playbook_path)
    rows = []
    for name in files:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise TrainInputError(f"no such file: {name}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TrainInputError(f"cannot read {name}: {exc}") from None
        try:
            rows += parse_labelled(text.splitlines(), f"{name} ")
        except TrainingError as exc:
            raise TrainInputError(str(exc)) from None
    sets = {s: playbook.intents(s) for s in ("agent", "customer")}
    try:
        encoder = load_encoder()
    except EncoderError as exc:
        raise TrainInputError(f"cannot train without the sentence encoder: {exc}") from None
    started = time.perf_counter()
    names = [Path(f).name for f in files]
    trained_on = f"{len(rows)} lines from {len(names)} file(s): {', '.join(names)}"
    try:
        model = train_intents(rows, sets, encoder, trained_on)
    except TrainingError as exc:
        raise TrainInputError(str(exc)) from None
    model.save(out_path)
    try:
        _report(out, rows, names, sets, out_path, time.perf_counter() - started)
    except BrokenPipeError:  # `| head`: the reader has all it wants; the model is written
        from desktop.cli.playbook_cli import _quiet_stdout

        _quiet_stdout()
    return 0


def _report(out: TextIO, rows: list, names: list[str], sets: dict, out_path: str,
            seconds: float) -> None:
    listed = ", ".join(names) if len(names) <= 4 else f"{names[0]} ... {names[-1]}"
    print(f"trained on {len(rows)} lines from {len(names)} file(s) ({listed}) in "
          f"{seconds:.0f} s; "
          f"wrote {out_path}", file=out)
    for speaker, set_names in sets.items():
        counts = ", ".join(f"{n} {sum(n in r.labels for r in rows if r.speaker == speaker)}"
                           for n in set_names)
        print(f"  {speaker}: {counts}", file=out)
    print(f"to use it, name it in the playbook: [learned] model = \"{Path(out_path).name}\" "
          "(beside the playbook file)", file=out)
