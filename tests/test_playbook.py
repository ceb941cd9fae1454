"""The playbook: loading and validating it, and the bundled phrase sets on Whisper-style
text (casing, punctuation and small wording vary from run to run)."""

from __future__ import annotations

import pytest

from coaching.playbook import PlaybookError, Thresholds, load_playbook, normalize_text

PB = load_playbook()


# -- loading --------------------------------------------------------------------------

@pytest.mark.parametrize("content,words", [
    (None, "playbook not found"),
    ("[thresholds\n", "is not valid TOML"),
    ("[thresholds]\ndead_air_s = 'long'\n", "dead_air_s must be a number"),
    ("[thresholds]\ndead_air_s = -3\n", "dead_air_s must be a number >= 0"),
    ("[thresholds]\ndead_air_s = true\n", "dead_air_s must be a number"),
    ("[thresholds]\nnope = 3\n", "unknown setting 'nope'"),
    ("[policy]\ncooldown = 3\n", "unknown setting 'cooldown'"),
    ("[phrases]\napology = ['(unclosed']\n", "bad pattern '(unclosed'"),
    ("[phrases]\napology = 'sorry'\n", "phrases.apology must be a list of strings"),
    ("[prompts.dead_air]\ntext = 3\n", "[prompts.dead_air] needs text")])
def test_a_bad_playbook_gives_one_clear_line(tmp_path, content, words) -> None:
    path = tmp_path / "pb.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    message = str(info.value)
    assert words in message and "\n" not in message and str(path) in message


def test_a_partial_playbook_keeps_the_defaults(tmp_path) -> None:
    path = tmp_path / "pb.toml"
    path.write_text("[thresholds]\ndead_air_s = 7\n[phrases]\napology = ['sorry']\n")
    pb = load_playbook(path)
    assert pb.thresholds.dead_air_s == 7.0 and pb.thresholds.slow_response_s == 3.0
    assert pb.find("apology", "Sorry!") and pb.source == str(path)


def test_the_bundled_playbook_sets_every_threshold_and_prompt() -> None:
    text = PB.source and open(PB.source, encoding="utf-8").read()
    for name in Thresholds.__dataclass_fields__:
        assert f"\n{name} = " in text, name
    for kind in ("interruption", "raised_voice", "forbidden_phrase", "fast_speech",
                 "prompt_apologize", "prompt_empathize", "prompt_summarize",
                 "prompt_next_steps", "prompt_anything_else"):
        assert PB.prompt_for(kind).text, kind


def test_with_thresholds_is_a_changed_copy() -> None:
    changed = PB.with_thresholds(dead_air_s=5, apology_wait_s=8.5)
    assert changed.thresholds.dead_air_s == 5 and changed.thresholds.apology_wait_s == 8.5
    assert PB.thresholds.dead_air_s == 10  # the original is untouched
    assert changed.phrases is PB.phrases and changed.prompts is PB.prompts
    with pytest.raises(TypeError):
        PB.with_thresholds(no_such_threshold=1)


def test_normalize_text_folds_whisper_variation() -> None:
    assert normalize_text("  I'M SO Sorry!!  ") == "im so sorry"
    assert normalize_text("Mm-hmm. Okay,sure") == "mm hmm okay sure"
    assert normalize_text("It\u2019s company_policy") == "its company policy"


# -- phrase sets ----------------------------------------------------------------------

SAID = {
    "greeting": ["Thank you for calling Acme.", "Good morning!", "hello?",
                 "How may I help you?", "You've reached Acme support."],
    "apology": ["I'm so sorry.", "i apologize", "Sorry about that!", "My apologies, sir.",
                "We're really sorry for the trouble.", "I am sorry to hear that.",
                "I do apologise for the delay."],
    "empathy": ["I understand how frustrating this is.", "That must be so annoying.",
                "I can imagine.", "I can see why you're upset.", "That sounds stressful.",
                "I'd feel the same.", "I hear you.", "That's not okay."],
    "summary": ["Just to confirm, the order never came.", "So you're saying it broke.",
                "Let me make sure I understand.", "If I understand correctly, you paid twice.",
                "To recap: no internet since Monday."],
    "next_steps": ["I'll send a new one.", "We will refund you.", "I'm going to escalate it.",
                   "You'll receive an email.", "A technician will come.",
                   "It should arrive Friday.", "I've issued a refund.",
                   "We'll have it fixed."],
    "time_estimate": ["within 24 hours", "by Friday", "in two to three business days",
                      "tomorrow", "48 hours", "in a few minutes", "right away",
                      "by the end of the day", "at 3 p.m."],
    "done_now": ["I have updated your address.", "That's all sorted now."],
    "anything_else": ["Is there anything else I can help with?", "Anything else?",
                      "Any other questions?"],
    "thanks": ["Thank you!", "thanks a lot", "I really appreciate your patience."],
    "calm_down": ["Calm down.", "come down", "You need to come down.", "Come down, sir!",
                  "Please relax.", "Stop shouting.", "Lower your voice."],
    "blame": ["That's your fault.", "You should have read the terms.",
              "You should've called earlier.", "You didn't read the email.",
              "It's user error."],
    "deflection": ["That's company policy.", "It's not my department.",
                   "There's nothing I can do.", "We don't handle that.",
                   "You'll have to call the bank."],
    "complaint": ["This is ridiculous, it never came!", "It's the third time I call.",
                  "It never arrived.",
                  "My internet has been down since yesterday.", "Still not working.",
                  "You charged me twice.", "I want a refund.", "It keeps dropping.",
                  "I have called you three times this week."],
    "distress": ["I'm so frustrated.", "I'm really upset.", "I can't believe this.",
                 "Unbelievable.", "I'm fed up.", "This is ridiculous!"],
    "next_steps_question": ["When will it be fixed?", "How long will it take?",
                            "What happens next?", "What now?", "Is someone going to call me?"],
    "closing_cue": ["That's all, thanks.", "Okay, thank you.", "No thanks.", "Bye!",
                    "Thank you so much for your help.", "Perfect, thanks.",
                    "Have a nice day."],
}
NOT_SAID = {
    "apology": ["Sorry, what was that?", "Sorry?"],
    "empathy": ["I understand your account number is 12.", "Okay.",
                "I can see that you called before."],
    "next_steps": ["Let me check.", "Your order is here.",
                   "Okay. Well, have you tried restarting the router first?"],
    "time_estimate": ["At one point it worked.", "I see.", "I have updated your address."],
    "calm_down": ["The technician will come down tomorrow.", "Prices will come down."],
    "blame": ["You should have it by Friday.", "You should have received a text."],
    "deflection": ["Our policy is to refund you.", "I can do that for you."],
    "complaint": ["I'd like to change my address.", "Yes, that is right."],
    "distress": ["I'm fine, thanks.", "Great."],
    "next_steps_question": ["When I called last week it worked.", "What a day."],
    "closing_cue": ["Thanks, but it still does not work and I need it for my job.",
                    "Okay.", "That's it, I'm cancelling my contract and going elsewhere."],
    "greeting": ["The order is late."],
}


@pytest.mark.parametrize("name,text", [(n, t) for n, ts in SAID.items() for t in ts])
def test_phrase_set_matches(name: str, text: str) -> None:
    assert PB.find(name, text), f"{name} should match {text!r}"


@pytest.mark.parametrize("name,text", [(n, t) for n, ts in NOT_SAID.items() for t in ts])
def test_phrase_set_does_not_match(name: str, text: str) -> None:
    assert PB.find(name, text) is None, f"{name} matched {text!r}: {PB.find(name, text)}"


def test_names_are_captured() -> None:
    assert PB.find("name_intro", "Hi, this is Maria calling.").group("name") == "maria"
    assert PB.find("name_intro", "My name is John Smith.").group("name") == "john"
    assert PB.find("name_address", "Thank you, Mrs. Lopez.").group("name") == "lopez"


def test_every_pattern_compiles_and_sets_exist() -> None:
    needed = {"greeting", "apology", "empathy", "summary", "next_steps", "time_estimate",
              "anything_else", "thanks", "backchannel", "name_intro", "name_address",
              "calm_down", "blame", "deflection", "complaint", "distress",
              "next_steps_question", "closing_cue"}
    assert needed <= set(PB.phrases)
    assert all(PB.patterns(n) for n in needed)
