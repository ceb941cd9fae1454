"""Bundled files: the default playbook, the demo call and the stylesheet."""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent
DEFAULT_PLAYBOOK = ASSETS_DIR / "playbook.toml"
DEMO_CALL = ASSETS_DIR / "demo_call.flac"


def asset_path(name: str) -> Path:
    """Path of a bundled asset by file name."""
    return ASSETS_DIR / name
