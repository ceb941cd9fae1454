"""The playbook: thresholds, prompts and phrase patterns, read from an editable TOML file.

Thresholds live here and not in code so that a trainer can tune them, and so that the
replay page can ask "what if" by swapping a threshold and re-running the rules.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from coaching.redaction_config import (
    RedactionConfig,
    RedactionConfigError,
    bundled_section,
    default_redaction,
    parse_redaction,
)

__all__ = ["Thresholds", "PromptSpec", "PromptPolicyConfig", "Playbook", "PlaybookError",
           "load_playbook", "default_playbook_path", "normalize_text"]


class PlaybookError(ValueError):
    """The playbook file is missing, not TOML, or holds a value of the wrong kind."""


@dataclass(frozen=True)
class Thresholds:
    """Numbers the rules compare against; see assets/playbook.toml for what each means."""

    interruption_min_talk_s: float = 0.8
    interruption_customer_lead_s: float = 0.4
    backchannel_max_s: float = 0.8
    raised_voice_db: float = 6.0
    raised_voice_min_s: float = 1.5
    baseline_min_speech_s: float = 4.0
    baseline_window_s: float = 90.0
    dead_air_s: float = 10.0
    slow_response_s: float = 3.0
    long_monologue_s: float = 45.0
    monologue_pause_s: float = 1.5
    fast_speech_wpm: float = 180.0
    fast_speech_window_s: float = 30.0
    fast_speech_min_speech_s: float = 8.0
    apology_wait_s: float = 20.0
    summary_after_customer_s: float = 25.0
    greeting_within_s: float = 30.0


@dataclass(frozen=True)
class PromptSpec:
    """What the agent sees for one event kind."""

    kind: str
    text: str
    priority: int


@dataclass(frozen=True)
class PromptPolicyConfig:
    cooldown_s: float = 20.0
    min_display_s: float = 3.0


_PUNCT = re.compile(r"[^\w\s]|_")
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case, drop punctuation (apostrophes too: "I'm" -> "im"), fold spaces.

    Whisper's casing and punctuation vary from run to run; phrase patterns are written
    against this normal form so that they tolerate it.
    """
    text = text.lower().replace("'", "").replace("\u2019", "").replace("-", " ")
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


@dataclass(frozen=True)
class Playbook:
    """A loaded playbook. Phrase sets are compiled once, here."""

    thresholds: Thresholds
    policy: PromptPolicyConfig
    prompts: dict[str, PromptSpec]
    phrases: dict[str, tuple[re.Pattern[str], ...]]
    source: str = "default"
    redaction: RedactionConfig = field(default_factory=default_redaction)

    def prompt_for(self, kind: str) -> PromptSpec:
        return self.prompts.get(kind, PromptSpec(kind, "", 10))

    def patterns(self, name: str) -> tuple[re.Pattern[str], ...]:
        return self.phrases.get(name, ())

    def find(self, name: str, text: str) -> re.Match[str] | None:
        """The first match of phrase set `name` in `text` (normalized here), or None."""
        norm = normalize_text(text)
        best: re.Match[str] | None = None
        for pat in self.patterns(name):
            m = pat.search(norm)
            if m and (best is None or m.start() < best.start()):
                best = m
        return best

    def with_thresholds(self, **changes: float) -> Playbook:
        """A copy with some thresholds changed (the replay page's "what if")."""
        return replace(self, thresholds=replace(self.thresholds, **changes))


def default_playbook_path() -> Path:
    from assets import DEFAULT_PLAYBOOK

    return DEFAULT_PLAYBOOK


def _compile(name: str, patterns: object) -> tuple[re.Pattern[str], ...]:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise PlaybookError(f"phrases.{name} must be a list of strings")
    out = []
    for p in patterns:
        try:
            out.append(re.compile(rf"(?<!\w)(?:{p})(?!\w)"))
        except re.error as exc:
            raise PlaybookError(f"phrases.{name}: bad pattern {p!r}: {exc}") from None
    return tuple(out)


def _numbers(section: dict, cls: type, where: str) -> dict[str, float]:
    known = {f.name for f in fields(cls)}
    values: dict[str, float] = {}
    for key, value in section.items():
        if key not in known:
            raise PlaybookError(f"[{where}] has an unknown setting {key!r}")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise PlaybookError(f"[{where}] {key} must be a number >= 0, not {value!r}")
        values[key] = float(value)
    return values


def load_playbook(path: str | Path | None = None) -> Playbook:
    """Read and validate a playbook (the bundled default when `path` is None).

    Raises:
        PlaybookError: with a one-line message naming the file and the problem.
    """
    file = Path(path) if path is not None else default_playbook_path()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlaybookError(f"playbook not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"cannot read playbook {file}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError(f"playbook {file} is not valid TOML: {exc}") from None
    try:
        thresholds = Thresholds(**_numbers(data.get("thresholds", {}), Thresholds, "thresholds"))
        policy = PromptPolicyConfig(**_numbers(data.get("policy", {}), PromptPolicyConfig,
                                               "policy"))
        prompts = {}
        for kind, spec in data.get("prompts", {}).items():
            if not isinstance(spec, dict) or not isinstance(spec.get("text", ""), str):
                raise PlaybookError(f"[prompts.{kind}] needs text = \"...\"")
            prompts[kind] = PromptSpec(kind, spec.get("text", ""), int(spec.get("priority", 50)))
        phrases = {name: _compile(name, pats) for name, pats in data.get("phrases", {}).items()}
        redaction = parse_redaction(data.get("redaction", {}), bundled_section())
    except (PlaybookError, RedactionConfigError) as exc:
        raise PlaybookError(f"{file}: {exc}") from None
    return Playbook(thresholds, policy, prompts, phrases, source=str(file),
                    redaction=redaction)
