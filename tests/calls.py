"""The scenario library: scripted calls and what the engine must find in them.

Each scenario function returns a `Scenario`: the script and its ground truth. Event times
in the truth come from where the lines really are in the synthesized audio (`plan_call`
gives the same SpokenLines `synth_call` writes), so a test can compare them to what the
engine found. The telephone variant (`TELEPHONE` flags) moves nothing in time, so the same
event truth holds for it; but Whisper tiny.en cannot follow the agent's quiet, noisy phone
channel, so there only the `ACOUSTIC_CHECKS` of the truth's checks hold.

What Whisper tiny.en hears on the clean calls (checked by hand; the wording was chosen for
it): "Acme support" -> "me support"; "calm down" -> "come down"; the rest of every key
phrase (greeting, names, apology, empathy, summary, next step and time, "anything else",
thanks) comes through. Line texts that tests look lines up by
(`SynthCall.line("You need to calm down")`) are part of the contract: change them together
with the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.callsynth import Line, SpokenLine, SynthCall, louder, plan_call

__all__ = ["Scenario", "calm_call", "angry_call", "backchannel_call", "dead_air_call",
           "all_scenarios", "TELEPHONE", "ACOUSTIC_CHECKS", "ALL_CHECKS", "CALM", "ANGRY",
           "BACKCHANNEL", "DEAD_AIR", "SCENARIOS", "with_backchannels"]

A, C = "agent", "customer"

# The degraded variant of every scenario: 8 kHz phone band, line noise, a quiet agent mic.
TELEPHONE: dict[str, Any] = {"telephone": True, "noise_dbfs": -45.0, "agent_gain_db": -15.0}

ACOUSTIC_CHECKS = ("no_interruptions", "calm_voice", "responsive")
ALL_CHECKS = ("greeting", "used_name", "no_interruptions", "calm_voice", "apologized",
              "empathized", "summarized", "next_steps", "offered_more_help", "thanked",
              "no_calm_down", "no_blame", "responsive")

Truth = Callable[[Sequence[SpokenLine]], dict[str, Any]]


@dataclass(frozen=True)
class Scenario:
    """A scripted call and what the engine must find in it.

    `expect` keys: interruptions, interruption_times (agent onsets), customer_interruptions,
    raised_voice, raised_voice_times ((start, end) of the raised lines), dead_air,
    dead_air_times ((start, end) of the silence), slow_responses, forbidden (playbook phrase
    sets said), checks (scorecard check id -> passed; ids left out are not asserted), plus
    scenario-specific keys (apology_time, backchannel_times, longest_customer_turn_s).
    """

    name: str
    lines: tuple[Line, ...]
    truth: Truth = field(repr=False)

    @property
    def expect(self) -> dict[str, Any]:
        """The truth for a call made with synth_call's default lead-in (any variant)."""
        return self.truth(plan_call(self.lines))

    def expect_for(self, call: SynthCall) -> dict[str, Any]:
        """The truth measured on a call as synthesized (whatever lead-in it was given)."""
        return self.truth(call.lines)


def _find(spoken: Sequence[SpokenLine], text_start: str) -> SpokenLine:
    return next(s for s in spoken if s.text.startswith(text_start))


def _expect(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"interruptions": 0, "interruption_times": [],
                            "customer_interruptions": 0, "raised_voice": 0,
                            "raised_voice_times": [], "dead_air": 0, "dead_air_times": [],
                            "slow_responses": 0, "forbidden": [], "checks": {}}
    return base | over


# -- 1. calm: every check passes, no acoustic cue ---------------------------------------

CALM = [
    Line(A, "Thank you for calling Acme support, my name is Sam. How can I help you today?"),
    Line(C, "Hi, this is Maria Lopez. My internet has been down since yesterday, and it is "
            "still not working. I work from home."),
    Line(A, "I am so sorry about that, Maria."),
    Line(A, "I understand how frustrating that must be."),
    Line(C, "The light on my router is red."),
    Line(A, "Just to confirm, you have had no internet since yesterday, and the router "
            "light is red."),
    Line(C, "Yes, that is right."),
    Line(A, "I will send a technician tomorrow morning. You will get a text message within "
            "two hours with the exact time."),
    Line(C, "Okay, that sounds good."),
    Line(A, "Is there anything else I can do for you?"),
    Line(C, "No, that's all, thank you."),
    Line(A, "Thank you for calling, Maria. Have a great day."),
]


def _calm_truth(spoken: Sequence[SpokenLine]) -> dict[str, Any]:
    return _expect(checks=dict.fromkeys(ALL_CHECKS, True),
                   apology_time=_find(spoken, "I am so sorry").start)


def calm_call() -> Scenario:
    return Scenario("calm", tuple(CALM), _calm_truth)


# -- 2. angry: two interruptions, a raised voice, "calm down", no apology ---------------

# Each interruption starts 1.5 s before the end of a long customer line and goes on for
# over 2 s. The agent talks for more than 6 s at the normal level before shouting, so the
# engine has the agent's own baseline to measure the raised voice against.
ANGRY = [
    Line(A, "Thank you for calling Acme support, this is Sam speaking. How can I help?"),
    Line(C, "I have called you three times this week and my internet is still not working. "
            "This is ridiculous, and I want it fixed today."),
    Line(A, "Have you tried turning the router off and on again before calling us?", gap=-1.5),
    Line(C, "Of course I restarted the router. I have been waiting for days and nobody "
            "called me back."),
    Line(A, "I can see that you called before. Let me look at your account now."),
    Line(C, "You people keep telling me the same thing every time, and nothing ever "
            "happens. I pay every month for a service that does not work."),
    Line(A, "I need to stop you there and get your account number first.", gap=-1.5),
    Line(C, "No, you listen to me."),
    # Whisper hears espeak-ng's "calm" as "come"; the playbook accepts "you need to come
    # down" and "come down sir". A bare "Calm down, sir!" cut as its own utterance comes
    # out as "come come come, sir" or "come now, sir", so the phrase is not first.
    louder(Line(A, "You need to calm down, sir! I am trying to help you, and I cannot do that "
                   "like this!")),
    Line(C, "Unbelievable."),
    Line(A, "I will send a technician tomorrow."),
]


def _angry_truth(spoken: Sequence[SpokenLine]) -> dict[str, Any]:
    shout = _find(spoken, "You need to calm down")
    return _expect(
        interruptions=2,
        interruption_times=[_find(spoken, "Have you tried").start,
                            _find(spoken, "I need to stop you").start],
        raised_voice=1, raised_voice_times=[(shout.start, shout.end)],
        forbidden=["calm_down"],
        checks={"greeting": True, "no_interruptions": False, "calm_voice": False,
                "no_calm_down": False, "apologized": False, "empathized": False,
                "summarized": False, "offered_more_help": False, "thanked": False,
                "no_blame": True, "responsive": True})


def angry_call() -> Scenario:
    return Scenario("angry", tuple(ANGRY), _angry_truth)


# -- 3. backchannels: "mm-hmm" over a long turn is listening, not interrupting ----------

_STORY = ("So last month I moved to a new flat, and the engineer came to set up the line. "
          "He said everything was fine, but since then the connection drops every evening "
          "around seven. I tried the other cable, I moved the router to the living room, "
          "and I even bought a new power adapter, but it keeps happening every single "
          "night. My kids cannot do their homework, and I cannot work from home when the "
          "line is down.")

# Without its backchannels: they are placed on the story once its start is known.
BACKCHANNEL = [
    Line(A, "Thank you for calling Acme support, my name is Sam. How can I help?"),
    Line(C, _STORY),
    Line(A, "I am sorry to hear that. Let me run a test on your line right now."),
    Line(C, "Okay, thank you."),
]
BACKCHANNEL_WORDS = ("Mm-hmm.", "Okay.", "Right.", "I see.")
BACKCHANNEL_SPEED = 160


def with_backchannels(lines: list[Line], story_start: float) -> list[Line]:
    """Insert "mm-hmm", "okay", "right", "I see" at 4, 9, 14 and 19 s into the story.

    They are said a little quicker than the agent's lines (as people do), which keeps each
    under 0.65 s: the playbook counts agent speech over 0.8 s as talking over them.
    """
    extra = [Line(A, w, at=story_start + 4.0 + 5.0 * i, speed=BACKCHANNEL_SPEED)
             for i, w in enumerate(BACKCHANNEL_WORDS)]
    return lines[:2] + extra + lines[2:]


def _backchannel_truth(spoken: Sequence[SpokenLine]) -> dict[str, Any]:
    story = _find(spoken, "So last month")
    return _expect(backchannel_times=[(s.start, s.end) for s in spoken
                                      if s.text in BACKCHANNEL_WORDS and s.speaker == A],
                   longest_customer_turn_s=round(story.end - story.start, 3),
                   checks={"no_interruptions": True, "calm_voice": True, "responsive": True,
                           "apologized": True, "summarized": False})


def backchannel_call() -> Scenario:
    story = plan_call(BACKCHANNEL)[1]
    return Scenario("backchannel", tuple(with_backchannels(BACKCHANNEL, story.start)),
                    _backchannel_truth)


# -- 4. dead air: 12 s where nobody speaks ----------------------------------------------

DEAD_AIR = [
    Line(A, "Thank you for calling Acme support, my name is Sam. How can I help?"),
    Line(C, "Hi, I need to change the address on my account."),
    Line(A, "Sure, let me check that for you."),
    Line(A, "Thanks for waiting. I have updated your address.", gap=12.0),
    Line(C, "Great, thank you."),
    Line(A, "Is there anything else I can do for you?"),
    Line(C, "No, that's all, thanks."),
]


def _dead_air_truth(spoken: Sequence[SpokenLine]) -> dict[str, Any]:
    before, after = _find(spoken, "Sure, let me"), _find(spoken, "Thanks for waiting")
    return _expect(dead_air=1, dead_air_times=[(before.end, after.start)],
                   checks={"greeting": True, "no_interruptions": True, "calm_voice": True,
                           "responsive": False})


def dead_air_call() -> Scenario:
    return Scenario("dead_air", tuple(DEAD_AIR), _dead_air_truth)


def all_scenarios() -> list[Scenario]:
    return [calm_call(), angry_call(), backchannel_call(), dead_air_call()]


# The bare scripts by name (the backchannel one without its backchannels, see above).
SCENARIOS = {"calm": CALM, "angry": ANGRY, "backchannel": BACKCHANNEL, "dead_air": DEAD_AIR}
