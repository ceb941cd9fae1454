"""The scenario library: scripted calls and what the engine must find in them."""

from __future__ import annotations

from tests.callsynth import Line, louder

__all__ = ["CALM", "ANGRY", "BACKCHANNEL", "DEAD_AIR", "SCENARIOS"]

A, C = "agent", "customer"

CALM = [
    Line(A, "Thank you for calling Acme support, my name is Sam. How can I help you today?"),
    Line(C, "Hi, this is Maria calling. My internet has been down since yesterday, and I work "
            "from home."),
    Line(A, "I am so sorry about that, Maria. I understand how frustrating that must be."),
    Line(C, "The light on the router keeps blinking red."),
    Line(A, "Just to confirm, your internet has been down since yesterday, and the router light "
            "is blinking red."),
    Line(C, "Yes, that is right."),
    Line(A, "I will send a technician tomorrow morning. You will get a text message within two "
            "hours with the exact time."),
    Line(C, "Okay, great."),
    Line(A, "Is there anything else I can help you with today?"),
    Line(C, "No, that is all. Thank you."),
    Line(A, "Thank you for calling, Maria. Have a great day."),
]

ANGRY = [
    Line(A, "Thank you for calling Acme support, this is Sam speaking. How can I help?"),
    Line(C, "I have called you three times this week and my internet is still not working. "
            "This is ridiculous, and I want it fixed today."),
    Line(A, "Okay, well, have you tried restarting the router first?", gap=-1.6),
    Line(C, "Of course I restarted the router. I have been waiting for days and nobody "
            "called me back."),
    Line(A, "I can see that you called before. Let me look at your account now."),
    Line(C, "You people keep telling me the same thing every time, and nothing ever "
            "happens. I pay every month for a service that does not work."),
    Line(A, "Sir, you need to listen to me for a moment here.", gap=-1.6),
    Line(C, "No, you listen to me."),
    louder(Line(A, "Calm down, sir! Shouting at me will not fix your internet any faster!")),
    Line(C, "Unbelievable."),
    Line(A, "I will book a technician for tomorrow."),
]

_STORY = ("So last month I moved to a new flat, and the engineer came to set up the line. "
          "He said everything was fine, but since then the connection drops every evening "
          "around seven. I tried the other cable, I moved the router to the living room, "
          "and I even bought a new power adapter, but it keeps happening every single "
          "night, and my kids cannot do their homework.")

BACKCHANNEL = [
    Line(A, "Thank you for calling Acme support, this is Sam. How can I help?"),
    Line(C, _STORY),
    # Short backchannels during the customer's long turn (absolute times, set by the test
    # helper `backchannel_lines` once the story's start is known).
    Line(A, "I am sorry to hear that. Let me run a test on your line right now."),
    Line(C, "Okay, thank you."),
]

DEAD_AIR = [
    Line(A, "Thank you for calling Acme support, this is Sam. How can I help?"),
    Line(C, "Hi, I need to change the address on my account."),
    Line(A, "Sure, let me check that for you."),
    Line(A, "Thanks for waiting. I have updated your address.", gap=12.5),
    Line(C, "Great, thank you."),
]


def with_backchannels(lines: list[Line], story_start: float) -> list[Line]:
    """Insert "mm-hmm", "okay", "right", "I see" at fixed points of the customer's story."""
    words = ["Mm-hmm.", "Okay.", "Right.", "I see."]
    extra = [Line(A, w, at=story_start + 4.0 + 5.0 * i) for i, w in enumerate(words)]
    return lines[:2] + extra + lines[2:]


SCENARIOS = {"calm": CALM, "angry": ANGRY, "backchannel": BACKCHANNEL, "dead_air": DEAD_AIR}
