"""The playbook: thresholds, prompts and phrase sets, read from an editable TOML file.

Thresholds live here and not in code so that a trainer can tune them, and so that the
replay page can ask "what if" by swapping a threshold and re-running the rules. A phrase
set is its patterns (`[phrases]`) and, in `[examples.NAME]`, example sentences a trainer
writes in plain words, near misses, and context guards (see `coaching.semantic`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from coaching.learned_intents import LearnedIntents, LearnedIntentsError
from coaching.redaction_config import (
    RedactionConfig,
    RedactionConfigError,
    bundled_section,
    default_redaction,
    parse_redaction,
)
from coaching.semantic import (
    QUESTION,
    Encoder,
    MatchingConfig,
    PhraseMatch,
    PhraseMatcher,
    SetMeaning,
)
from coaching.text import normalize_text

__all__ = ["Thresholds", "PromptSpec", "PromptPolicyConfig", "Playbook", "PlaybookError",
           "load_playbook", "default_playbook_path", "normalize_text", "PhraseMatch",
           "SetMeaning", "MatchingConfig"]


class PlaybookError(ValueError):
    """The playbook file is missing, not TOML, or holds a value of the wrong kind."""


@dataclass(frozen=True)
class Thresholds:
    """Numbers the rules compare against; see assets/playbook.toml for what each means."""

    interruption_min_talk_s: float = 0.8
    interruption_customer_lead_s: float = 0.4
    interruption_min_overlap_s: float = 0.6
    backchannel_max_s: float = 0.8
    acknowledgement_max_s: float = 2.0
    raised_voice_db: float = 6.0
    raised_voice_min_s: float = 1.5
    baseline_min_speech_s: float = 4.0
    baseline_window_s: float = 90.0
    dead_air_s: float = 10.0
    slow_response_s: float = 3.0
    long_monologue_s: float = 45.0
    monologue_pause_s: float = 1.5
    fast_speech_wpm: float = 180.0
    talk_pause_s: float = 2.0
    fast_speech_window_s: float = 60.0
    fast_speech_min_speech_s: float = 20.0
    apology_wait_s: float = 20.0
    anything_else_wait_s: float = 4.0
    summary_after_customer_s: float = 25.0
    summary_turn_s: float = 8.0
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


_SPEAKERS = ("agent", "customer")


@dataclass(frozen=True)
class Playbook:
    """A loaded playbook. Phrase sets are compiled once, here; their example sentences
    are embedded once, when a sentence encoder is attached (`use_encoder`)."""

    thresholds: Thresholds
    policy: PromptPolicyConfig
    prompts: dict[str, PromptSpec]
    phrases: dict[str, tuple[re.Pattern[str], ...]]
    source: str = "default"
    meanings: dict[str, SetMeaning] = field(default_factory=dict)
    matching: MatchingConfig = MatchingConfig()
    matcher: PhraseMatcher = field(default=None, compare=False, repr=False)  # type: ignore

    redaction: RedactionConfig = field(default_factory=default_redaction)
    learned: LearnedIntents | None = field(default=None, compare=False, repr=False)
    learned_min_probability: float = 0.5
    learned_min_words: int = 2
    learned_floors: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.matcher is None:
            object.__setattr__(self, "matcher",
                               PhraseMatcher(self.phrases, self.meanings, self.matching,
                                             self.learned, self.learned_min_probability,
                                             self.learned_min_words, self.learned_floors))

    def prompt_for(self, kind: str) -> PromptSpec:
        return self.prompts.get(kind, PromptSpec(kind, "", 10))

    def patterns(self, name: str) -> tuple[re.Pattern[str], ...]:
        return self.phrases.get(name, ())

    def find(self, name: str, text: str) -> PhraseMatch | None:
        """The first place phrase set `name` is said in `text`, or None: a pattern that
        matches (its normal form), or a clause close to one of the set's examples, where
        its guards allow."""
        return self.matcher.find(name, text)

    def intents(self, speaker: str) -> list[str]:
        """The phrase sets listened for in `speaker`'s words ("agent" or "customer")."""
        return self.matcher.intents(speaker)

    def judge(self, text: str, speaker: str) -> dict[str, PhraseMatch]:
        """Every set listened for in `speaker`'s words that `text` says, with its match."""
        return self.matcher.judge(text, speaker)

    def use_encoder(self, encoder: Encoder | None) -> None:
        """Match by meaning too, with `encoder` (None: patterns and guards only). Copies
        made by `with_thresholds` share it."""
        self.matcher.use(encoder)

    @property
    def encoder_name(self) -> str | None:
        return self.matcher.encoder_name

    @property
    def has_phrases(self) -> bool:
        return bool(self.phrases)

    def settings_only(self) -> Playbook:
        """The same playbook without its phrase sets: its thresholds, prompts and
        redaction settings. What the window keeps of a call its engine process analysed:
        the what-if needs only the numbers, and compiling a thousand patterns again in
        the window's process would hold the GIL the event loop needs."""
        return replace(self, phrases={}, meanings={}, matcher=None, learned=None)

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


def _sentences(where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PlaybookError(f"{where} must be a list of sentences")
    return tuple(v.strip() for v in value)


def _meaning(name: str, spec: object, known: set[str]) -> SetMeaning:
    """One `[examples.NAME]` table."""
    where = f"examples.{name}"
    if not isinstance(spec, dict):
        raise PlaybookError(f"[{where}] must be a table (said_by, like, unlike, unless)")
    extra = set(spec) - {"said_by", "like", "unlike", "unless", "also_when", "min_similarity",
                          "needs", "unless_in_sentence", "said_with"}
    if extra:
        raise PlaybookError(f"[{where}] has an unknown setting {sorted(extra)[0]!r}")
    said_by = spec.get("said_by", "")
    if said_by not in _SPEAKERS + ("",):
        raise PlaybookError(f"[{where}] said_by must be \"agent\" or \"customer\"")
    guards = spec.get("unless", [])
    if not isinstance(guards, list) or any(g not in known and g != QUESTION for g in guards):
        raise PlaybookError(f"[{where}] unless must list phrase sets (or \"question\")")
    groups = spec.get("also_when", [])
    if not isinstance(groups, list) or not all(
            isinstance(g, list) and g and all(x in known or x == QUESTION for x in g)
            for g in groups):
        raise PlaybookError(f"[{where}] also_when must be a list of lists of phrase sets")
    in_sentence = spec.get("unless_in_sentence", [])
    if not isinstance(in_sentence, list) or any(g not in known for g in in_sentence):
        raise PlaybookError(f"[{where}] unless_in_sentence must list phrase sets")
    company = spec.get("said_with", [])
    if not isinstance(company, list) or any(g not in known for g in company):
        raise PlaybookError(f"[{where}] said_with must list phrase sets")
    needs = spec.get("needs", [])
    if not isinstance(needs, list) or any(g not in known and g != QUESTION for g in needs):
        raise PlaybookError(f"[{where}] needs must list phrase sets (or \"question\")")
    floor = spec.get("min_similarity")
    if floor is not None and (not isinstance(floor, (int, float)) or isinstance(floor, bool)
                              or not 0 <= floor <= 1):
        raise PlaybookError(f"[{where}] min_similarity must be a number from 0 to 1")
    return SetMeaning(said_by, _sentences(f"examples.{name}.like", spec.get("like", [])),
                      _sentences(f"examples.{name}.unlike", spec.get("unlike", [])),
                      tuple(guards), tuple(tuple(g) for g in groups),
                      None if floor is None else float(floor), tuple(needs),
                      tuple(in_sentence), tuple(company))


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
        examples = data.get("examples", {})
        if not isinstance(examples, dict):
            raise PlaybookError("[examples] must hold one table per phrase set")
        meanings = {name: _meaning(name, spec, set(phrases)) for name, spec in examples.items()}
        matching = MatchingConfig(**_numbers(data.get("matching", {}), MatchingConfig,
                                             "matching"))
        redaction = parse_redaction(data.get("redaction", {}), bundled_section())
        learned, min_probability, min_words, floors = _learned(data.get("learned", {}), file,
                                                               meanings)
    except (PlaybookError, RedactionConfigError, LearnedIntentsError) as exc:
        raise PlaybookError(f"{file}: {exc}") from None
    return Playbook(thresholds, policy, prompts, phrases, source=str(file), meanings=meanings,
                    matching=matching, redaction=redaction, learned=learned,
                    learned_min_probability=min_probability, learned_min_words=min_words,
                    learned_floors=floors)


def _learned(section: object, file: Path, meanings: dict[str, SetMeaning]
             ) -> tuple[LearnedIntents | None, float, int, dict[str, float]]:
    """The playbook's `[learned]`: the model file (beside the playbook, else the bundled
    one of that name, so a copied playbook keeps working), how likely is enough, and
    how many words that say something an utterance needs before the model's word
    counts, and the sets that need more certainty (`min_probability_of`)."""
    if not isinstance(section, dict):
        raise PlaybookError("[learned] must be a table")
    unknown = set(section) - {"model", "min_probability", "min_words", "min_probability_of"}
    if unknown:
        raise PlaybookError(f"[learned] has an unknown setting {sorted(unknown)[0]!r}")
    floor = _probability("min_probability", section.get("min_probability", 0.5))
    of = section.get("min_probability_of", {})
    if not isinstance(of, dict) or any(n not in meanings for n in of):
        raise PlaybookError("[learned] min_probability_of must be a table of phrase sets")
    floors = {n: _probability(f"min_probability_of.{n}", v) for n, v in of.items()}
    min_words = section.get("min_words", 2)
    if not isinstance(min_words, int) or isinstance(min_words, bool) or min_words < 1:
        raise PlaybookError("[learned] min_words must be a whole number >= 1")
    name = section.get("model", "")
    if not isinstance(name, str):
        raise PlaybookError("[learned] model must be a file name")
    if not name:
        return None, floor, min_words, floors
    from assets import asset_path

    path = file.parent / name
    if not path.is_file() and asset_path(Path(name).name).is_file():
        path = asset_path(Path(name).name)
    model = LearnedIntents.load(path)
    for speaker, names in model.sets.items():
        wrong = [n for n in names if n in meanings and meanings[n].said_by != speaker]
        if wrong:
            raise PlaybookError(f"[learned] {path.name} scores {wrong[0]} in the {speaker}'s "
                                f"words, but the playbook listens for it from the "
                                f"{meanings[wrong[0]].said_by}")
    return model, floor, min_words, floors


def _probability(key: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
        raise PlaybookError(f"[learned] {key} must be a number between 0 and 1")
    return float(value)
