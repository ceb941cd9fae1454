"""The sentence encoder the phrase sets match meanings with, loaded offline in the
background.

The encoder is WordLlama's `l2_supercat_256` (MIT): 16 MB of token embeddings and a
tokenizer that ship inside the `wordllama` wheel, averaged into a sentence vector. It needs
no torch and embeds a short sentence in a fraction of a millisecond on one core, so every
utterance of a live call can be read by meaning well inside the prompt budget. Its default
loader looks for the weights in a cache folder and downloads them when they are not
there; it is pointed at the package's own folder with downloads disabled, so nothing is
ever fetched (`HF_HUB_OFFLINE` or not). It is a bag of tokens, blind to word order and
negation: the playbook's guards (`coaching.semantic`) see those.

`shared_encoder()` starts one load per process, on a daemon thread, at the first ask: the
window and the live engine never wait for it. Until it is ready, and if it cannot load
(a missing or broken package), phrase sets match by their patterns and guards alone and
`EncoderLoad.note` says so in one line; nothing raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from coaching.playbook import Playbook

__all__ = ["ENCODER_NAME", "EncoderError", "WordLlamaEncoder", "load_encoder", "EncoderLoad",
           "shared_encoder", "attach_encoder"]

ENCODER_NAME = "wordllama l2_supercat_256"
_PATTERNS_ONLY = "phrase sets match by their patterns only"


class EncoderError(Exception):
    """The encoder cannot be loaded; the message is one line and says why."""


class WordLlamaEncoder:
    """`coaching.semantic.Encoder` over a loaded WordLlama model."""

    name = ENCODER_NAME

    def __init__(self, model: object) -> None:
        self._model = model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 256), np.float32)
        vectors = self._model.embed(list(texts), norm=True)  # type: ignore[attr-defined]
        vectors = np.nan_to_num(np.asarray(vectors, dtype=np.float32))  # an empty text: 0/0
        return vectors


def _package_folder() -> Path:
    try:
        import wordllama
    except Exception as exc:  # ImportError, or a broken install failing on import
        raise EncoderError(f"the sentence encoder is not installed (pip install wordllama): "
                           f"{type(exc).__name__}") from None
    return Path(wordllama.__file__).parent


def load_encoder() -> WordLlamaEncoder:
    """Load the bundled WordLlama model from its package, never downloading.

    Raises:
        EncoderError: the package is missing, or its weights are missing or unreadable.
    """
    folder = _package_folder()
    weights = folder / "weights" / "l2_supercat_256.safetensors"
    if not weights.is_file():
        raise EncoderError(f"the sentence encoder's weights are missing ({weights}); "
                           "reinstall wordllama")
    try:
        from wordllama import WordLlama

        model = WordLlama.load(config="l2_supercat", dim=256, cache_dir=folder,
                               disable_download=True)
        encoder = WordLlamaEncoder(model)
        probe = encoder.encode(["thank you"])
    except Exception as exc:  # a corrupt file fails in many ways inside the library
        raise EncoderError(f"the sentence encoder could not load: {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
                           ) from None
    if probe.shape != (1, 256) or not np.isfinite(probe).all():
        raise EncoderError("the sentence encoder gave no usable vector; reinstall wordllama")
    return encoder


class EncoderLoad:
    """One background load of the encoder, and the playbooks waiting for it."""

    def __init__(self, loader=load_encoder) -> None:
        self._loader = loader
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._waiting: list[Playbook] = []
        self.encoder: WordLlamaEncoder | None = None
        self.error: str | None = None
        self.seconds: float | None = None
        self._thread = threading.Thread(target=self._run, name="sentence-encoder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            encoder = self._loader()
        except EncoderError as exc:
            encoder, self.error = None, str(exc)
        except Exception as exc:  # never let a loading thread die with a traceback
            encoder, self.error = None, f"the sentence encoder could not load: {exc!r}"
        with self._lock:
            self.encoder, self.seconds = encoder, time.perf_counter() - t0
            waiting, self._waiting = self._waiting, []
        for playbook in waiting:
            self._give(playbook)
        self._done.set()

    def _give(self, playbook: Playbook) -> None:
        if self.encoder is None:
            return
        try:
            playbook.use_encoder(self.encoder)
        except Exception as exc:  # an example that cannot be embedded: patterns only
            self.error = f"the playbook's example sentences could not be embedded: {exc!r}"

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the load to end (loaded or failed); False on timeout."""
        return self._done.wait(timeout)

    def attach(self, playbook: Playbook, wait: float | None = 0.0) -> None:
        """Give `playbook` the encoder now if it is loaded, else as soon as it is (after
        waiting up to `wait` seconds here; None waits for the load to end)."""
        if wait is None or wait > 0:
            self.wait(wait)
        with self._lock:
            if not self._done.is_set() and self.encoder is None and self.error is None:
                self._waiting.append(playbook)
                return
        self._give(playbook)

    @property
    def note(self) -> str | None:
        """One line for the user when matching is by patterns only, else None."""
        if self.error is not None:
            return f"{self.error}; {_PATTERNS_ONLY}"
        if not self.ready:
            return f"the sentence encoder is still loading; {_PATTERNS_ONLY} until it is"
        return None


_shared: EncoderLoad | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> EncoderLoad:
    """This process's encoder load, started on the first call."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EncoderLoad()
        return _shared


def attach_encoder(playbook: Playbook, wait: float | None = 0.0) -> EncoderLoad:
    """Match `playbook`'s phrase sets by meaning once the shared encoder is loaded (see
    `EncoderLoad.attach`); returns the load, whose `note` says if it is not."""
    load = shared_encoder()
    load.attach(playbook, wait)
    return load
