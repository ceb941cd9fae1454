"""The trainer's "Try a sentence against the playbook" dialog, offscreen: typed sentences,
the sets listed with their reasons, the speaker switch, patterns only while the encoder
loads, an edited playbook from the settings, and a bad one."""

from __future__ import annotations

import os
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from audio.sentence_encoder import ENCODER_NAME, EncoderLoad, load_encoder, shared_encoder
from desktop.window.dialogs.phrase_tryout import PhraseTryoutDialog


@pytest.fixture
def dialog(qtbot):
    d = PhraseTryoutDialog("")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.by_meaning, timeout=60_000)  # the shared encoder loaded
    return d


def type_sentence(qtbot, d: PhraseTryoutDialog, text: str) -> dict[str, str]:
    d.sentence.clear()
    with qtbot.waitSignal(d.judged, timeout=5_000):
        qtbot.keyClicks(d.sentence, text)
    qtbot.waitUntil(lambda: not d._debounce.isActive(), timeout=5_000)
    return d.matched()


def test_a_typed_sentence_lists_its_sets_and_why(qtbot, dialog) -> None:
    found = type_sentence(qtbot, dialog, "I'm so sorry about the mix-up with your order.")
    assert "apology" in found
    assert found["apology"].startswith("matches the pattern ") and "sorry" in found["apology"]
    assert "apology" in dialog.summary.text()
    assert dialog.heard("apology").startswith("I'm so sorry")  # as typed, not "im so sorry"
    shown = dialog.findChild(QLabel, "why_apology").text()  # what the trainer reads
    assert found["apology"] in shown and dialog.heard("apology") in shown


def test_a_paraphrase_names_the_example_it_was_close_to(qtbot, dialog) -> None:
    found = type_sentence(qtbot, dialog, "I really feel for you, honestly.")
    assert "empathy" in found
    why = found["empathy"]
    assert why.startswith("close in meaning to an example (similarity ")
    similarity = float(why.split("similarity ")[1].split(",")[0])
    floor = dialog.playbook.matching.min_similarity
    assert floor <= similarity <= 1.0 and f"{floor:.2f} needed" in why
    example = why.split(': "', 1)[1].rstrip('"')
    assert example in dialog.playbook.meanings["empathy"].like  # one of the set's own


def test_a_phrasing_only_the_learned_model_hears_says_how_sure_and_which_words(
        qtbot, dialog) -> None:
    found = type_sentence(qtbot, dialog,
                          "I don't set the coverage, that's underwriting.")
    assert found["deflection"].startswith("the model learned from labelled calls is ")
    assert '"dont set"' in found["deflection"]
    shown = dialog.findChild(QLabel, "why_deflection").text()
    assert found["deflection"] in shown
    assert "the model learned from labelled calls (5979 lines" in dialog.matching.text()
    if os.environ.get("CALLCOACH_SCREENSHOTS"):  # for a person to look at
        qtbot.wait(300)
        dialog.grab().save(os.path.join(os.environ["CALLCOACH_SCREENSHOTS"], "tryout.png"))


def test_an_apology_request_is_no_apology(qtbot, dialog) -> None:
    found = type_sentence(qtbot, dialog, "Sorry, could you repeat that?")
    assert "apology" not in found
    assert found == {} and "No phrase set matches" in dialog.summary.text()


def test_a_request_that_says_sorry_came_near_and_says_why_not(qtbot, dialog) -> None:
    found = type_sentence(qtbot, dialog, "I'm sorry, what was your last name again?")
    assert "apology" not in found
    why_not = dialog.not_counted()["apology"]
    assert why_not.startswith("matches the pattern ")
    assert why_not.endswith('not counted: the guard "apology_request" is said there')
    qtbot.waitUntil(lambda: any(h.isVisible() for h in dialog.findChildren(
        QLabel, "near_heading")), timeout=5_000)  # laid out and shown, under the matches


def test_a_near_miss_it_was_closer_to_is_named(qtbot, dialog) -> None:
    type_sentence(qtbot, dialog, "I'm not able to send a replacement.")
    assert "next_steps" not in dialog.matched()
    why_not = dialog.not_counted()["next_steps"]
    assert "not counted: it is closer" in why_not and "near misses" in why_not
    rival = why_not.rsplit(': "', 1)[1].rstrip('"')
    assert rival in dialog.playbook.meanings["next_steps"].unlike


def test_the_speaker_decides_which_sets_are_listened_for(qtbot, dialog) -> None:
    found = type_sentence(qtbot, dialog, "This is the third time I call about this!")
    assert "complaint" not in found  # a complaint is the customer's
    with qtbot.waitSignal(dialog.judged, timeout=5_000):
        qtbot.mouseClick(dialog.customer, Qt.LeftButton)
    assert dialog.speaker == "customer"
    assert "complaint" in dialog.matched()
    assert "complaint" in dialog.listened.text() and "customer" in dialog.listened.text()


def test_patterns_only_until_the_encoder_is_loaded_and_it_says_so(qtbot) -> None:
    release = threading.Event()

    def slow_load():
        release.wait(30)
        return load_encoder()

    d = PhraseTryoutDialog("", encoder_load=EncoderLoad(slow_load))
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.playbook is not None, timeout=10_000)  # read off the GUI thread
    assert not d.by_meaning and "still loading" in d.matching.text()
    assert "patterns only" in d.matching.text()
    found = type_sentence(qtbot, d, "I really feel for you, honestly.")
    assert "empathy" not in found  # only the encoder hears this paraphrase
    assert "apology" in type_sentence(qtbot, d, "I do apologize for that.")  # patterns work
    with qtbot.waitSignal(d.matchingChanged, timeout=60_000):
        release.set()
    assert d.by_meaning and ENCODER_NAME in d.matching.text()
    assert "empathy" in type_sentence(qtbot, d, "I really feel for you, honestly.")


def test_a_broken_encoder_leaves_patterns_and_a_plain_note(qtbot) -> None:
    from audio.sentence_encoder import EncoderError

    def broken():
        raise EncoderError("the sentence encoder could not load: OSError: bad file")

    d = PhraseTryoutDialog("", encoder_load=EncoderLoad(broken))
    qtbot.addWidget(d)
    qtbot.waitUntil(lambda: "could not load" in d.matching.text(), timeout=10_000)
    assert d.matching.text() == ("The sentence encoder could not load: OSError: bad file; "
                                 "phrase sets match by their patterns only.")
    assert "apology" in type_sentence(qtbot, d, "I'm so sorry about that.")


def test_an_edited_playbook_and_a_bad_one(qtbot, tmp_path) -> None:
    shared_encoder().wait(60)
    edited = tmp_path / "campaign.toml"
    edited.write_text("[phrases]\nthanks = ['cheers']\n"
                      "[examples.thanks]\nsaid_by = 'agent'\n"
                      "like = ['That is very kind of you']\n", encoding="utf-8")
    d = PhraseTryoutDialog(str(edited))
    qtbot.addWidget(d)
    assert "Reading the playbook" in d.playbook_label.text()
    qtbot.waitUntil(lambda: d.playbook is not None, timeout=10_000)
    assert str(edited) in d.playbook_label.text()
    assert "thanks" in type_sentence(qtbot, d, "Cheers!")
    assert d.listened.text() == "Listened for in the agent's words: thanks."
    bad = tmp_path / "bad.toml"
    bad.write_text("[phrases\n", encoding="utf-8")
    with qtbot.waitSignal(d.playbookRead, timeout=10_000):
        d.use_playbook(str(bad))
    assert "cannot be used" in d.playbook_label.text() and not d.sentence.isEnabled()
    assert d.matched() == {}


def test_the_window_opens_it_from_the_tools_menu_with_its_playbook(qtbot, tmp_path) -> None:
    from desktop.history.store import CallHistory
    from desktop.window.main_window import MainWindow
    from desktop.window.settings import SettingsStore

    win = MainWindow(store=SettingsStore.at(str(tmp_path / "settings.ini")),
                     history=CallHistory(tmp_path / "history.sqlite3"), load_model=False,
                     check_devices=False)
    qtbot.addWidget(win)
    action = win.findChild(type(win.menuBar().actions()[0]), "act_try_sentence")
    assert action is not None and "Try a sentence" in action.text()
    action.trigger()
    d = win.phrase_tryout
    assert d is not None and d.isVisible() and d.playbook_path == ""
    qtbot.waitUntil(lambda: d.playbook is not None, timeout=10_000)
    assert "bundled" in d.playbook_label.text()
    edited = tmp_path / "pb.toml"
    edited.write_text("[phrases]\nthanks = ['cheers']\n[examples.thanks]\nsaid_by = 'agent'\n",
                      encoding="utf-8")
    from dataclasses import replace

    with qtbot.waitSignal(d.playbookRead, timeout=10_000):
        win.apply_settings(replace(win.settings, playbook_path=str(edited)))
    assert d.playbook_path == str(edited) and d.playbook.intents("agent") == ["thanks"]
    win.close()
