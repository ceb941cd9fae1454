"""The user's preferences: one typed wrapper over QSettings.

Only the GUI thread reads or writes settings; what a worker needs is handed to it as a
frozen `AppSettings` (or a config built from it), so a preference changed mid-call never
changes a running engine under its feet.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from PySide6.QtCore import QSettings

from audio.devices import NO_CUSTOMER

__all__ = ["AppSettings", "SettingsStore", "THEMES", "AGENT_CHANNELS", "NO_CUSTOMER"]

THEMES = ("system", "light", "dark")
AGENT_CHANNELS = ("left", "right")


@dataclass(frozen=True)
class AppSettings:
    """Every preference, with the defaults a new user starts from.

    Attributes:
        agent_device: a device id from `callcoach devices` ("" = the first microphone).
        customer_device: a device id, "" = the first monitor/loopback input, "none" =
            agent-only (no customer source).
        model: a faster-whisper size or a model folder ("" = the bundled tiny.en).
        agent_channel: which stereo channel of a recording is the agent.
        playbook_path: an edited playbook TOML ("" = the bundled one).
        keep_audio: save each live call's audio with its history entry.
        keep_audio_days: delete kept audio older than this.
        theme: "system", "light" or "dark".
        first_run_done: the first-run setup was completed or skipped.
        compact_on_top: the compact strip stays above other windows.
        output_device: where replay plays (a PortAudio output name; "" = the system's).
    """

    agent_device: str = ""
    customer_device: str = ""
    model: str = ""
    agent_channel: str = "left"
    playbook_path: str = ""
    keep_audio: bool = False
    keep_audio_days: int = 30
    theme: str = "system"
    first_run_done: bool = False
    compact_on_top: bool = True
    output_device: str = ""

    def validated(self) -> AppSettings:
        """Out-of-range values (a hand-edited file) fall back to the defaults."""
        default = AppSettings()
        changes: dict[str, object] = {}
        if self.theme not in THEMES:
            changes["theme"] = default.theme
        if self.agent_channel not in AGENT_CHANNELS:
            changes["agent_channel"] = default.agent_channel
        if not 1 <= self.keep_audio_days <= 3650:
            changes["keep_audio_days"] = default.keep_audio_days
        return replace(self, **changes) if changes else self


def _coerce(value: object, default: object) -> object:
    """QSettings hands back strings from INI files; turn them into the field's type."""
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, int):
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return default
    return "" if value is None else str(value)


class SettingsStore:
    """Reads and writes `AppSettings` in a QSettings (the platform's usual place, or a
    given INI file for tests and portable installs)."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings or QSettings("callcoach", "callcoach")

    @classmethod
    def at(cls, ini_path: str) -> SettingsStore:
        return cls(QSettings(ini_path, QSettings.IniFormat))

    def load(self) -> AppSettings:
        default = AppSettings()
        values = {}
        for f in fields(AppSettings):
            fallback = getattr(default, f.name)
            values[f.name] = _coerce(self._q.value(f.name, fallback), fallback)
        return AppSettings(**values).validated()  # type: ignore[arg-type]

    def save(self, settings: AppSettings) -> None:
        for f in fields(AppSettings):
            self._q.setValue(f.name, getattr(settings, f.name))
        self._q.sync()

    def window_state(self, key: str) -> bytes | None:
        """Saved geometry/state blobs (not preferences, so not in AppSettings)."""
        value = self._q.value(f"window/{key}")
        return bytes(value) if value is not None else None

    def set_window_state(self, key: str, blob: bytes) -> None:
        self._q.setValue(f"window/{key}", blob)
