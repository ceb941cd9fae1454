"""The redactor on written transcripts: what is personal data, what is not, and when.

Utterances are written as Whisper writes them (its punctuation, its digit spacing, its
homophones), with evenly spread word times.
"""

from __future__ import annotations

import re

import pytest

from coaching.playbook import PlaybookError, load_playbook
from coaching.redaction_claims import luhn_ok
from coaching.redaction_config import KINDS, default_redaction
from coaching.redactor import Redactor, redact_utterances
from coaching.timeline import AGENT, CUSTOMER, Utterance, Word

CONFIG = default_redaction()


def utt(speaker: str, start: float, text: str, step: float = 0.4) -> Utterance:
    words = tuple(Word(round(start + i * step, 3), round(start + i * step + 0.9 * step, 3), w)
                  for i, w in enumerate(text.split()))
    return Utterance(speaker, start, words[-1].end, text, words)


def redact(*utterances: Utterance, config=CONFIG):
    out, redactions, silence = redact_utterances(list(utterances), config)
    return [u.text for u in out], redactions, silence


def one(text: str, speaker: str = CUSTOMER, config=CONFIG) -> str:
    return redact(utt(speaker, 0.0, text), config=config)[0][0]


def config_with(tmp_path, body: str):
    path = tmp_path / "playbook.toml"
    path.write_text(body)
    return load_playbook(path).redaction


# -- card numbers -----------------------------------------------------------------------

def test_luhn() -> None:
    assert luhn_ok("4539148803436467")
    assert luhn_ok("4111111111111111")
    assert luhn_ok("378282246310005")  # Amex, 15 digits
    assert not luhn_ok("4539148803436468")
    assert not luhn_ok("1234567812345678")


@pytest.mark.parametrize("text", [
    "my number is 4539 1488 0343 6467 thanks",
    "it's 4539-1488-0343-6467.",
    "4539148803436467",
    "it's 4 ,539 ,148 ,803 ,436 ,467 okay",
    "4 -5 -3 -9 -1 -4 -8 -8 -0 -3 -4 -3 -6 -4 -6 -7.",
    "four five three nine one four eight eight zero three four three six four six seven",
    "forty five thirty nine fourteen eighty eight oh three forty three sixty four sixty seven",
    "four triple one, double one double one, double one double one, double one double one",
    "five one oh five, one oh five one, oh five one oh, five one double oh",
    "an amex 3782 822463 10005 please",
])
def test_a_luhn_valid_card_number_is_redacted_however_it_is_written(text: str) -> None:
    out = one(text)
    assert "[card number]" in out
    assert not re.search(r"\d", out), out
    assert not re.search(r"\b(one|five|oh|four|double)\b", out), out


def test_a_luhn_invalid_number_without_a_cue_is_not_a_card() -> None:
    text = "my tracking code is 4539 1488 0343 6468 thanks"
    assert one(text) == text


def test_a_number_read_after_a_card_cue_is_redacted_even_if_misheard() -> None:
    out, redactions, _ = redact(utt(AGENT, 0, "What is the long number on the card?"),
                                utt(CUSTOMER, 3, "4539 1488 0343 6468"))
    assert out[1] == "[card number]"
    assert [r.kind for r in redactions] == ["card_number"]


def test_card_digits_split_across_utterances_with_okay_between_are_caught_without_a_cue(
) -> None:
    out, redactions, _ = redact(
        utt(CUSTOMER, 0, "sure it's 4539 1488"), utt(AGENT, 2.5, "okay"),
        utt(CUSTOMER, 3.5, "0343"), utt(AGENT, 5.5, "mm-hmm"), utt(CUSTOMER, 6.5, "6467."))
    assert out == ["sure it's [card number]", "okay", "[card number]", "mm-hmm",
                   "[card number]."]
    assert len(redactions) == 1  # one card number, however many utterances it took
    r = redactions[0]
    assert (r.kind, r.speaker, r.start, r.end) == ("card_number", CUSTOMER, 0.8, 6.86)


def test_spoken_groups_interrupted_by_the_agent_are_caught() -> None:
    out, _, _ = redact(
        utt(AGENT, 0, "Can I take the card number please?"),
        utt(CUSTOMER, 3, "four five three nine..."), utt(AGENT, 5, "okay..."),
        utt(CUSTOMER, 6, "one four eight eight"), utt(AGENT, 8, "okay"),
        utt(CUSTOMER, 9, "zero three four three"), utt(AGENT, 11, "yes"),
        utt(CUSTOMER, 12, "six four six seven"))
    assert out[1::2] == ["[card number]..."] + ["[card number]"] * 3
    assert out[2::2] == ["okay...", "okay", "yes"]


def test_the_agent_reading_the_number_back_is_redacted_too() -> None:
    out, redactions, _ = redact(
        utt(CUSTOMER, 0, "my card is 4539 1488 0343 6467"),
        utt(AGENT, 4, "so that's 4539 1488 0343 6467, correct?"))
    assert out == ["my card is [card number]", "so that's [card number], correct?"]
    assert {r.speaker for r in redactions} == {AGENT, CUSTOMER}


def test_homophones_whisper_writes_for_digits_count_beside_digits() -> None:
    out, _, _ = redact(utt(AGENT, 0, "And the card number?"),
                       utt(CUSTOMER, 2, "It is 4 .5 free nine, 1 for 8 8, 0 3 4 3, 6 4 6 7."))
    assert out[1] == "It is [card number]."


@pytest.mark.parametrize("text", [
    "my order number is 4539 1488 0343 and it never arrived",
    "it will be there within twenty four hours",
    "you'll get it in 3 to 5 business days",
    "I called 3 times about order 88213",
    "it was 49.99 a month and now it's $59.99",
    "the reference is 1 2 3 4 5 6 7 8",
    "it is for one person and for two nights",
])
def test_numbers_that_are_not_cards_are_left(text: str) -> None:
    assert one(text) == text


def test_amounts_in_a_card_context_are_left() -> None:
    out, _, _ = redact(
        utt(AGENT, 0, "What is the card number?"),
        utt(CUSTOMER, 2, "4539 1488 0343 6467"),
        utt(AGENT, 6, "Thanks, the refund will take 3 to 5 business days, within twenty four"
                      " hours you get an email, and it's 120 dollars"))
    assert out[2].startswith("Thanks, the refund will take 3 to 5 business days, within "
                             "twenty four hours")
    assert out[2].endswith("120 dollars")


def test_a_not_personal_cue_ends_the_card_context() -> None:
    out, _, _ = redact(utt(AGENT, 0, "What is the card number?"),
                       utt(CUSTOMER, 2, "4539 1488 0343 6467"),
                       utt(AGENT, 6, "Thank you, your confirmation number is 58213."))
    assert out[2] == "Thank you, your confirmation number is 58213."


def test_card_redaction_off_leaves_card_numbers(tmp_path) -> None:
    config = config_with(tmp_path, "[redaction]\ncard_numbers = false\n")
    text = "it's 4539 1488 0343 6467"
    assert one(text, config=config) == text
    assert config.off == ("card_number",)
    assert "card numbers" in config.notes[0] and "OFF" in config.notes[0]
    assert not CONFIG.notes


# -- security codes and expiry dates ----------------------------------------------------

def test_security_code_and_expiry_after_their_cues() -> None:
    out, redactions, _ = redact(
        utt(AGENT, 0, "And the expiry date?"), utt(CUSTOMER, 2, "It expires 08/27."),
        utt(AGENT, 5, "And the three digit code on the back?"),
        utt(CUSTOMER, 8, "It's in 7 3 9."))
    assert out[1] == "It expires [expiry date]."
    assert out[3] == "It's in [security code]."
    assert [r.kind for r in redactions] == ["expiry_date", "security_code"]


@pytest.mark.parametrize("text, marker", [
    ("the cvv is 739", "the cvv is [security code]"),
    ("security code, seven three nine", "security code, [security code]"),
    ("it expires oh eight twenty seven", "it expires [expiry date]"),
    ("expiration date August 2027", "expiration date [expiry date]"),
])
def test_cue_and_digits_in_one_breath(text: str, marker: str) -> None:
    assert one(text) == marker


def test_digits_without_a_cue_are_not_a_security_code() -> None:
    assert one("room 739 please") == "room 739 please"


def test_a_code_said_right_after_a_card_number_is_redacted_without_a_cue() -> None:
    out, _, _ = redact(utt(CUSTOMER, 0, "4539 1488 0343 6467"), utt(AGENT, 4, "okay"),
                       utt(CUSTOMER, 5, "and 739"))
    assert out == ["[card number]", "okay", "and [card number]"]


def test_the_security_code_on_the_back_of_the_card_is_a_security_code() -> None:
    out, redactions, _ = redact(utt(AGENT, 0, "And the security code on the back of the card?"),
                                utt(CUSTOMER, 4.5, "739"))
    assert out[1] == "[security code]"
    assert redactions[0].kind == "security_code"


def test_a_cue_expires() -> None:
    out, _, _ = redact(utt(AGENT, 0, "What's the security code?"),
                       utt(CUSTOMER, 40, "room 739 please"))
    assert out[1] == "room 739 please"


# -- other personal data ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("my social security number is 219 09 8765", "my social security number is "
                                                "[social security number]"),
    ("my social is 219098765 okay", "my social is [social security number] okay"),
    ("it's 219-09-8765", "it's [social security number]"),
    ("the last four of your social please, 8765", "the last four of your social please, "
                                                  "[social security number]"),
    ("my date of birth is March 15, 1980.", "my date of birth is [date of birth]."),
    ("I was born on the 4th of July 1976.", "I was born on the [date of birth]."),
    ("birthday fifteenth of March nineteen eighty", "birthday [date of birth]"),
    ("my account number is 12345678", "my account number is [account number]"),
    ("and the routing number 021000021", "and the routing number [routing number]"),
    ("call me on 555 867 5309", "call me on [phone number]"),
    ("it's 555-867-5309", "it's [phone number]"),
    ("my email is john.smith@example.com.", "my email is [email address]."),
    ("john dot smith at example dot com", "[email address]"),
    ("my email is john .mit that example .com", "my email is [email address]"),
])
def test_personal_data_after_its_cue_or_in_its_shape(text: str, expected: str) -> None:
    assert one(text) == expected


@pytest.mark.parametrize("text", [
    "my appointment is on March 15, 2024",
    "it's 219098765",  # nine digits with no cue and no 3-2-4 shape
    "I'm at the office",
    "the fourth time this month",
])
def test_dates_and_numbers_without_a_cue_are_left(text: str) -> None:
    assert one(text) == text


def test_an_answer_to_the_agents_question_takes_the_questions_kind() -> None:
    out, redactions, _ = redact(utt(AGENT, 0, "Can I have your date of birth please?"),
                                utt(CUSTOMER, 3, "March the fifteenth, 1980."),
                                utt(AGENT, 6, "And a phone number?"),
                                utt(CUSTOMER, 8, "it's 555 867 5309"))
    assert out[1] == "[date of birth]."
    assert out[3] == "it's [phone number]"
    assert [r.kind for r in redactions] == ["date_of_birth", "phone_number"]


def test_phone_numbers_are_left_when_phone_redaction_is_off(tmp_path) -> None:
    config = config_with(tmp_path, "[redaction]\nphone_numbers = false\n")
    for text in ("call me on 555 867 5309", "my phone is 555-867-5309"):
        assert one(text, config=config) == text
    # and such a number is never taken for a card
    _, redactions, _ = redact(utt(AGENT, 0, "What is the card number?"),
                              utt(CUSTOMER, 2, "4539 1488 0343 6467"),
                              utt(AGENT, 6, "and a phone number?"),
                              utt(CUSTOMER, 8, "555 867 5309"), config=config)
    assert [r.kind for r in redactions] == ["card_number"]


# -- live: nothing shown before it is decided -------------------------------------------

def test_digits_that_may_start_a_card_number_are_held_until_decided() -> None:
    r = Redactor(CONFIG)
    assert r.feed(utt(CUSTOMER, 0, "it's 4539 1488")) == []  # held: maybe a card number
    assert [u.text for u in r.feed(utt(AGENT, 2.5, "okay"))] == ["okay"]
    assert r.pending_since() == 0.0
    assert r.feed(utt(CUSTOMER, 3.5, "0343 6467")) != []  # a card number: certain now
    assert r.pending_since() is None


def test_held_digits_nobody_goes_on_with_are_released_after_the_pause() -> None:
    r = Redactor(CONFIG)
    assert r.feed(utt(CUSTOMER, 0, "the code was 4539")) == []
    assert r.tick(5.0) == []
    released = r.tick(0.4 * 4 + CONFIG.continue_within_s + 0.1)
    assert [u.text for u in released] == ["the code was 4539"]


def test_in_a_payment_context_digits_are_redacted_as_they_come() -> None:
    r = Redactor(CONFIG)
    r.feed(utt(AGENT, 0, "What is the long number on the card?"))
    shown = []
    for i, group in enumerate(("4539", "1488", "0343", "6467")):
        shown += [u.text for u in r.feed(utt(CUSTOMER, 3 + 2 * i, group))]
        assert shown[-1] == "[card number]"  # at once, not held
    assert len(r.redactions) == 1


def test_word_times_are_kept_and_nothing_of_the_content_is() -> None:
    u = utt(CUSTOMER, 10.0, "it's 4539 1488 0343 6467, thanks")
    out, redactions, silence = redact_utterances([u], CONFIG)
    words = out[0].words
    assert [w.text for w in words] == ["it's", "[card number],", "thanks"]
    assert (words[1].start, words[1].end) == (u.words[1].start, u.words[4].end)
    assert (out[0].start, out[0].end) == (u.start, u.end)
    assert [(r.kind, r.start, r.end) for r in redactions] == [
        ("card_number", u.words[1].start, u.words[4].end)]
    assert set(vars(type(redactions[0])).get("__slots__")) == {"kind", "speaker", "start",
                                                               "end"}
    # kept audio is silenced over the words, to the utterance's end (a word it missed)
    assert silence[0].start <= u.words[1].start and silence[0].end >= u.words[4].end


def test_utterances_without_word_times_are_redacted_too() -> None:
    out, _, _ = redact_utterances([Utterance(CUSTOMER, 0, 3, "it's 4539 1488 0343 6467")],
                                  CONFIG)
    assert out[0].text == "it's [card number]"


# -- the playbook section -------------------------------------------------------------

def test_everything_is_on_by_default_and_in_a_playbook_without_the_section(tmp_path) -> None:
    assert CONFIG.enabled == frozenset(KINDS)
    older = config_with(tmp_path, "[thresholds]\ndead_air_s = 12\n")
    assert older.enabled == frozenset(KINDS)
    assert older.cues == CONFIG.cues


def test_a_trainer_can_replace_a_cue_list(tmp_path) -> None:
    config = config_with(tmp_path, '[redaction.cues]\nssn = ["tax number"]\n')
    assert one("my tax number is 219098765", config=config) == \
        "my tax number is [social security number]"
    assert one("my social is 219098765", config=config) == "my social is 219098765"
    assert config.cues["card_number"] == CONFIG.cues["card_number"]


@pytest.mark.parametrize("body, words", [
    ("[redaction]\ncard_numbers = 0\n", "card_numbers must be true or false"),
    ("[redaction]\ncard_number = false\n", "unknown setting 'card_number'"),
    ("[redaction]\ncontext_window_s = -1\n", "context_window_s must be a number"),
    ("[redaction.cues]\ncards = ['x']\n", "unknown kind 'cards'"),
    ("[redaction.cues]\nssn = 'social'\n", "ssn must be a list"),
])
def test_a_bad_redaction_section_is_one_clear_line(tmp_path, body: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    assert words in str(err.value) and str(path) in str(err.value)


def test_a_misheard_security_code_is_still_a_security_code() -> None:
    out, _, _ = redact(utt(AGENT, 0, "And the security code on the back?"),
                       utt(CUSTOMER, 3, "7th free, I'm..."))
    assert out[1] == "[security code], I'm..."


def test_an_answer_in_a_payment_context_is_silenced_whole_whatever_whisper_heard() -> None:
    answer = utt(CUSTOMER, 3, "it's a salmon", step=0.5)
    _, redactions, silence = redact(utt(AGENT, 0, "What is the security code?"), answer,
                                    utt(AGENT, 5, "Thank you, that's all done"))
    assert redactions == ()  # nothing in the text to redact...
    # ...but the answer's audio is not kept; the agent's own words are
    assert [(s.speaker, s.start, s.end, s.reason) for s in silence] == [
        (CUSTOMER, answer.start, answer.end, "security_code")]
    _, _, silence = redact(utt(AGENT, 0, "What is your phone number?"), answer)
    assert silence == ()  # not for every cue: phone numbers are redacted by their digits


def test_card_numbers_in_any_format_never_survive_random_calls() -> None:
    """Random sentences of numbers, cues and words, with a card number read in some way
    somewhere (maybe split over two utterances): the redactor never fails, and the card's
    digits never come out."""
    import random

    rng = random.Random(12)
    vocab = ["okay", "the", "card", "order", "is", "3", "24", "hours", "my", "number",
             "four", "double", "oh", "and", "uh", "phone", "code", "1,", "-2", ".5", "for",
             "March", "15th", "social", "email", "at", "dot", "com", "$20", "50%", "twenty"]
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    card = "4539148803436467"
    forms = [lambda d: " ".join(d[i:i + 4] for i in range(0, 16, 4)),
             lambda d: "-".join(d[i:i + 4] for i in range(0, 16, 4)),
             lambda d: " ".join(f"-{c}" for c in d),
             lambda d: ", ".join(words[int(c)] for c in d),
             lambda d: d]
    for _ in range(300):
        said = forms[rng.randrange(len(forms))](card).split()
        cut = rng.randrange(1, len(said)) if len(said) > 1 and rng.random() < 0.5 \
            else len(said)
        before = [rng.choice(vocab) for _ in range(rng.randrange(0, 6))]
        after = [rng.choice(vocab) for _ in range(rng.randrange(0, 6))]
        calls = [utt(CUSTOMER, 0.0, " ".join(before + said[:cut]))]
        if rng.random() < 0.5:
            calls.append(utt(AGENT, 30.0, " ".join(rng.choice(vocab) for _ in range(4))))
        if cut < len(said):
            calls.insert(1, utt(AGENT, 0.4 * len(before + said[:cut]) + 0.3, "okay"))
            calls.append(utt(CUSTOMER, 0.4 * len(before + said[:cut]) + 1.5,
                             " ".join(said[cut:] + after)))
        out, _, _ = redact(*calls)
        text = " ".join(out)
        digits = re.sub(r"\D", "", re.sub(r"\b(" + "|".join(words) + r")\b",
                                          lambda m: str(words.index(m.group(1))), text))
        assert card[:8] not in digits and card[8:] not in digits, (calls, out)
