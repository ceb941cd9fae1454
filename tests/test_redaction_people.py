"""Names and postal addresses in written transcripts: the customer's name where they give
it and wherever it is said again, an address by its shape or in answer to "what is your
address?"; and what is neither (the agent's own name, "this is ridiculous", "20 minutes
way too long"). Written as Whisper writes them, with evenly spread word times."""

from __future__ import annotations

from coaching.engine import run_rules
from coaching.playbook import load_playbook
from coaching.redaction_config import KINDS
from coaching.scorecard import build_scorecard
from tests.test_redaction import CONFIG, config_with, one, redact, utt
from tests.timeline_builder import build

A, C = "agent", "customer"


def texts(*lines: tuple[str, str]) -> tuple[list[str], list]:
    t, out = 0.0, []
    for speaker, text in lines:
        out.append(utt(speaker, t, text))
        t = out[-1].end + 0.5
    said, redactions, _ = redact(*out)
    return said, redactions


def test_names_and_addresses_are_on_by_default_and_in_the_kinds() -> None:
    assert {"name", "postal_address"} <= set(KINDS) and CONFIG.on("name")
    assert CONFIG.on("postal_address")


def test_a_name_the_customer_gives_is_redacted_there_and_wherever_it_is_said_again() -> None:
    said, redactions = texts(
        (A, "Thank you for calling Acme, my name is Sam. How can I help?"),
        (C, "Hi, my name is Maria Lopez and I'm calling about my bill."),
        (A, "Thanks Maria, let me look. Ms. Lopez, is that your account?"),
        (C, "Yes, thanks Sam."))
    assert said[0] == "Thank you for calling Acme, my name is Sam. How can I help?"
    assert said[1] == "Hi, my name is [name] and I'm calling about my bill."
    assert said[2] == "Thanks [name], let me look. Ms. [name], is that your account?"
    assert said[3] == "Yes, thanks Sam.", "the agent's own name is not the customer's data"
    assert [(r.kind, r.speaker) for r in redactions] == [
        ("name", C), ("name", A), ("name", A)]


def test_an_answer_to_the_agents_question_and_letters_spelled_out() -> None:
    said, _ = texts(
        (A, "Can I have your last name please?"),
        (C, "Sure, it's Lopez, L-O-P-E-Z."),
        (A, "And your first name?"),
        (C, "Maria. M, A, R, I, A."),
        (A, "Thank you Maria Lopez."))
    assert said[1] == "Sure, it's [name]."
    assert said[3] == "[name]."
    assert said[4] == "Thank you [name]."


def test_what_is_not_a_name() -> None:
    said, redactions = texts(
        (C, "Yes, this is ridiculous, I've waited since Tuesday."),
        (A, "Is John there? What's your name?"),
        (C, "It's about my Visa card, actually."),
        (A, "Okay, I can help with the Visa card. Where are you calling from?"),
        (C, "From Springfield."))
    assert said[0] == "Yes, this is ridiculous, I've waited since Tuesday."
    assert said[1] == "Is John there? What's your name?", "a name nobody gave is kept"
    assert said[2] == "It's [name].", "the answer to 'your name?', whatever it says"
    assert said[3] == "Okay, I can help with the Visa card. Where are you calling from?"
    assert said[4] == "From Springfield.", "the agent went on: the answer window ended"
    assert [r.kind for r in redactions] == ["name"]


def test_a_misheard_answer_is_taken_whole_and_its_common_words_are_not_learned() -> None:
    """Whisper writes a name it does not know as common words ("Maria Lopez" came out
    "very low, Ben" on a synthesized voice): the short answer is taken whole, only its
    name-like word is looked for again, and the agent saying the name back ("Thank you,
    Maria") gives it as they heard it."""
    said, _ = texts(
        (A, "Can I have your full name please?"),
        (C, "Yes, it is very low, Ben."),
        (A, "Thank you, Maria. Is the battery low?"),
        (A, "And what is your home address?"),
        (C, "It is 42 -mode street, spring field."),
        (A, "Thanks Maria, and Ben is your middle name?"))
    assert said[1] == "Yes, it is [name]."
    assert said[2] == "Thank you, [name]. Is the battery low?"
    assert said[4] == "It is [address]."
    assert said[5] == "Thanks [name], and [name] is your middle name?"


def test_a_lower_case_transcript_takes_the_words_after_the_cue() -> None:
    assert one("my name is maria lopez and i need help") == (
        "my name is [name] and i need help")


def test_an_address_by_its_shape_with_what_follows_it() -> None:
    assert one("It's 42 Oak Street, apartment 4B, Springfield, 62704.") == "It's [address]."
    assert one("Send it to 1600 North Pennsylvania Avenue please.") == (
        "Send it to [address] please.")
    assert one("Sure, it's forty two Elm Road.") == "Sure, it's [address]."
    assert one("My postcode is SW1A 1AA, thanks.") == "My postcode is [address], thanks."


def test_an_answer_to_what_is_your_address() -> None:
    said, redactions = texts(
        (A, "And what is your billing address?"),
        (C, "It's 221B Baker Street, London NW1 6XE."),
        (A, "And the zip code for the card?"),
        (C, "62704."))
    assert said[1] == "It's [address]."
    assert said[3] == "[address].", "a postal code is an address, not a card or a code"
    assert {r.kind for r in redactions} == {"postal_address"}


def test_only_the_answer_to_the_address_question_is_taken_whole() -> None:
    """The answer is; what is said well after it is judged on its own."""
    lines = [utt(A, 0.0, "And what is your home address?"),
             utt(C, 3.0, "It is 42 -mode street, spring field."),
             utt(C, 20.0, "Yes that is the right one.")]
    said, _, _ = redact(*lines)
    assert said[1:] == ["It is [address].", "Yes that is the right one."]


def test_a_question_back_is_not_a_name_and_the_agent_says_nothing_back() -> None:
    said, redactions = texts(
        (A, "Can I have your full name please?"),
        (C, "Why do you need it?"),
        (A, "For security, it is Acme policy."),
        (C, "Okay."))
    assert said[2] == "For security, it is Acme policy."
    assert [r.kind for r in redactions] == ["name"]  # the short answer, whatever it is


def test_what_is_not_an_address() -> None:
    for text in ("I waited 20 minutes way too long.", "i waited 20 minutes way too long",
                 "Your order 4521 ships to the store on Main Street Tuesday.",
                 "It takes 3 to 5 business days."):
        assert one(text) == text


def test_the_playbook_can_turn_names_and_addresses_off(tmp_path) -> None:
    config = config_with(tmp_path, "[redaction]\nnames = false\npostal_addresses = false\n")
    assert not config.on("name") and not config.on("postal_address")
    text = "Hi, my name is Maria Lopez, I live at 42 Oak Street."
    assert one(text, config=config) == text
    assert one(text) == "Hi, my name is [name], I live at [address]."


def test_the_scorecard_sees_a_redacted_name_used() -> None:
    """`used_name` on what the engine keeps: the customer's name given and used, both
    redacted, still counts; given and never used still fails, without the name."""
    pb = load_playbook()

    def score(lines: list[tuple[str, float, float, str]]):
        said, _, _ = redact(*[utt(s, a, t) for s, a, _, t in lines])
        say = [(s, a, b, t) for (s, a, b, _), t in zip(lines, said, strict=True)]
        tl = build(30.0, [x[:3] for x in say], say)
        return build_scorecard(tl, run_rules(tl, pb), pb).check("used_name"), said

    used, said = score([(A, 1, 4, "Thank you for calling Acme, my name is Sam."),
                        (C, 5, 9, "Hi, this is Maria calling about my order."),
                        (A, 10, 14, "Thanks, Maria, let me check that for you.")])
    assert said[1:] == ["Hi, this is [name] calling about my order.",
                        "Thanks, [name], let me check that for you."]
    assert used.passed and "[name]" in used.detail and "Maria" not in used.detail
    unused, _ = score([(C, 5, 9, "Hi, this is Maria calling about my order."),
                       (A, 10, 14, "Okay, let me check that for you.")])
    assert not unused.passed and unused.applicable
    assert unused.detail.startswith("the customer gave their name (redacted, at ")


def test_amounts_in_a_card_context_are_not_card_digits() -> None:
    """Once the card is given, the agent goes on about money: an amount after an amount
    word stays; the card's digits and the code do not."""
    said, redactions = texts(
        (A, "What is the card number?"),
        (C, "4539 1488 0343 6467"),
        (A, "Thanks. The payment of 120 will go through now."),
        (A, "Your balance is 150 after that. And the security code?"),
        (C, "739"),
        (C, "My other card is 4539 1488."))
    assert said[1] == "[card number]" and said[4] == "[security code]"
    assert said[2] == "Thanks. The payment of 120 will go through now."
    assert said[3] == "Your balance is 150 after that. And the security code?"
    assert said[5] == "My other card is [card number].", "a card's digits after 'card is'"
    assert [r.kind for r in redactions] == ["card_number", "security_code", "card_number"]


def test_digits_followed_by_on_the_card_are_an_amount_not_its_digits() -> None:
    """No card context yet: "150 on the card" is what is charged; "4539 is my card" is
    the card's own first group."""
    assert one("Okay, just 150 on the card please.") == "Okay, just 150 on the card please."
    assert one("The 4539 is my card.") == "The [card number] is my card."


def test_every_kind_is_counted_by_name_in_the_reports() -> None:
    """The scorecard page, HTML and PDF say how many of each kind were taken out: a kind
    without its words there would be taken out silently."""
    from desktop.reports.scorecard_text import redaction_summary

    doc = {"redactions": [{"kind": k, "speaker": C, "start": 1.0, "end": 2.0} for k in KINDS]}
    summary = redaction_summary(doc)
    assert summary is not None and summary.count(", ") == len(KINDS) - 1
    assert "1 name, 1 postal address" in summary
