"""`callcoach playbook test` as a trainer runs it: the installed console script in a real
process, lines from standard input or a file, `--why`, an edited playbook, bad input, and
an encoder that cannot load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CALLCOACH = Path(sys.executable).with_name("callcoach")  # the venv's console script
ASSETS = Path(__file__).resolve().parents[1] / "assets"


def playbook_test(*args: str, stdin: str | None = None, env: dict | None = None,
                  cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert CALLCOACH.is_file(), f"the console script is not installed: {CALLCOACH}"
    return subprocess.run([str(CALLCOACH), "playbook", "test", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=cwd,
                          env=dict(os.environ, HF_HUB_OFFLINE="1", **(env or {})))


def records(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_lines_from_standard_input_are_judged_as_the_engine_would() -> None:
    proc = playbook_test("-", stdin=(
        "agent\tSorry, could you repeat that?\n"
        "agent\tI'm so sorry about the mix-up with your order.\n"
        "customer\tThis is the third time I call about this!\n"
        "customer\tI'm so sorry about the mix-up with your order.\n"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the encoder loaded: no note
    got = records(proc)
    assert [r["line"] for r in got] == [1, 2, 3, 4]
    assert set(got[0]) == {"line", "speaker", "text", "intents"}
    assert got[0] == {"line": 1, "speaker": "agent", "text": "Sorry, could you repeat that?",
                      "intents": []}
    assert "apology" in got[1]["intents"]
    assert got[2]["speaker"] == "customer" and "complaint" in got[2]["intents"]
    assert "apology" not in got[3]["intents"]  # apologies are listened for from the agent


def test_why_names_the_pattern_or_the_example_and_how_close() -> None:
    proc = playbook_test("-", "--why", stdin=(
        "agent\tI'm so sorry about that.\n"
        "customer\tThis is the third time I call about this!\n"
        "agent\tYou'll have it by Friday.\n"
        "agent\tI'm sorry, what was your last name again?\n"))
    assert proc.returncode == 0, proc.stderr
    pattern, example, promise, request = records(proc)
    assert "not_counted" not in pattern
    assert "apology" not in request["intents"]
    held = request["not_counted"]["apology"]  # why a trainer's "sorry" did not count
    assert held["words"] == "I'm sorry" and held["how"] == "pattern"
    assert held["not_counted"] == 'the guard "apology_request" is said there'
    why = pattern["why"]["apology"]
    assert why["how"] == "pattern" and "sorry" in why["pattern"]
    assert "sorry" in why["words"] and why["reason"].startswith("pattern ")
    assert set(example["why"]) == set(example["intents"])
    why = example["why"]["complaint"]
    assert why["how"] == "example" and why["example"]  # one of the playbook's sentences
    assert 0.75 <= why["similarity"] <= 1.0
    assert why["reason"] == f'close to "{why["example"]}" ({why["similarity"]:.2f})'
    assert {"next_steps", "time_estimate"} <= set(promise["why"])
    assert promise["why"]["time_estimate"]["words"] == "by Friday"


def test_a_file_with_labels_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "campaign.tsv"
    path.write_text("# a trainer's checks for the new campaign\n\n"
                    "agent\tThank you so much for your patience.\tthanks\n"
                    "Customer\tCan I speak to your manager?\tcomplaint\textra\n"
                    "   \n"
                    "agent\tIt's not your fault at all.\t-\n", encoding="utf-8")
    proc = playbook_test(str(path))
    assert proc.returncode == 0, proc.stderr
    got = records(proc)
    assert [(r["line"], r["speaker"]) for r in got] == [(3, "agent"), (4, "customer"),
                                                       (6, "agent")]
    assert got[1]["text"] == "Can I speak to your manager?"  # the labels are not text
    assert "thanks" in got[0]["intents"]
    assert "blame" not in got[2]["intents"]


def test_an_edited_playbook_is_what_is_judged(tmp_path: Path) -> None:
    """A trainer teaches a set with an ordinary sentence and checks it before a shift."""
    text = (ASSETS / "playbook.toml").read_text(encoding="utf-8")
    edited = tmp_path / "campaign.toml"
    edited.write_text(text + "\n[examples.campaign_offer]\nsaid_by = \"agent\"\n"
                      "like = [\"Would you like to hear about our loyalty discount?\"]\n",
                      encoding="utf-8")
    line = "agent\tCan I tell you about the loyalty discount we have?\n"
    before = records(playbook_test("-", stdin=line))[0]
    proc = playbook_test("-", "--why", "--playbook", str(edited), stdin=line)
    assert proc.returncode == 0, proc.stderr
    after = records(proc)[0]
    assert "campaign_offer" not in before["intents"]
    assert "campaign_offer" in after["intents"]
    assert after["why"]["campaign_offer"]["example"] == (
        "Would you like to hear about our loyalty discount?")


def one_error_line(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def test_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    proc = playbook_test(str(tmp_path / "nope.tsv"))
    one_error_line(proc, "no such file", "nope.tsv")
    assert proc.stdout == ""


def test_a_bad_playbook_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[examples.apology]\nsaid_by = 'boss'\n", encoding="utf-8")
    proc = playbook_test("-", "--playbook", str(bad), stdin="agent\tI'm sorry.\n")
    one_error_line(proc, "bad.toml", "said_by must be")
    assert proc.stdout == ""
    proc = playbook_test("-", "--playbook", str(tmp_path / "gone.toml"), stdin="agent\thi\n")
    one_error_line(proc, "playbook not found", "gone.toml")


@pytest.mark.parametrize("line,words", [
    ("agent I'm so sorry (spaces, no tab)", "line 2: expected speaker<TAB>text"),
    ("manager\tI'm so sorry", "line 2: the speaker must be agent or customer, not 'manager'")])
def test_one_bad_line_is_named_and_the_rest_still_judged(line: str, words: str) -> None:
    proc = playbook_test("-", stdin=f"agent\tHello, thanks for calling.\n{line}\n"
                                    "agent\tI'm so sorry about that.\n")
    message = one_error_line(proc, words, "standard input")
    assert message.startswith("callcoach: error: ")
    got = records(proc)
    assert [r["line"] for r in got] == [1, 3]
    assert "apology" in got[1]["intents"]


def test_without_the_encoder_it_says_so_and_uses_the_patterns(tmp_path: Path) -> None:
    """A broken install of the encoder's package (it fails on import): one line on
    stderr, then the patterns and guards alone."""
    broken = tmp_path / "site" / "wordllama"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('a broken install')\n")
    proc = playbook_test("-", env={"PYTHONPATH": str(broken.parent)}, stdin=(
        "agent\tI'm so sorry about that.\n"
        "agent\tSorry, could you repeat that?\n"
        "agent\tI really feel for you, honestly.\n"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "patterns only" in lines[0], proc.stderr
    assert "not installed" in lines[0]
    sorry, request, paraphrase = records(proc)
    assert "apology" in sorry["intents"]
    assert "apology" not in request["intents"]
    assert "empathy" not in paraphrase["intents"]  # only the encoder hears this one


def test_a_reader_that_stops_early_is_no_error(tmp_path: Path) -> None:
    """`callcoach playbook test big.tsv | head -1`: a closed pipe ends the run quietly."""
    lines = (Path(__file__).parent / "data" / "phrase_intents.tsv").read_text(encoding="utf-8")
    big = tmp_path / "big.tsv"
    big.write_text(lines * 8, encoding="utf-8")  # more output than a pipe holds
    proc = subprocess.Popen([str(CALLCOACH), "playbook", "test", str(big)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, HF_HUB_OFFLINE="1"))
    first = json.loads(proc.stdout.readline())
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert proc.stderr.read() == ""
    proc.stderr.close()
    assert first["line"] == 4 and "greeting" in first["intents"]


def test_files_saved_by_a_spreadsheet_are_read(tmp_path: Path) -> None:
    """Excel's "Unicode text" is UTF-16 with CRLF, its "CSV UTF-8" starts with a BOM; a
    line in another encoding (Latin-1 from an old editor) is named, the rest judged."""
    lines = "agent\tThank you so much for your patience.\r\ncustomer\tI want a refund.\r\n"
    for encoding in ("utf-16", "utf-8-sig"):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(lines.encode(encoding))
        proc = playbook_test(str(path))
        assert proc.returncode == 0, proc.stderr
        got = records(proc)
        assert [(r["speaker"], r["text"]) for r in got] == [
            ("agent", "Thank you so much for your patience."),
            ("customer", "I want a refund.")], encoding
    mixed = tmp_path / "mixed.tsv"
    mixed.write_bytes(b"agent\tI'm so sorry.\n" + "agent\tMerci, caf\u00e9.\n".encode("latin-1")
                      + b"agent\tThanks for waiting.\n")
    proc = playbook_test(str(mixed))
    one_error_line(proc, "line 2: not UTF-8 text")
    assert [r["line"] for r in records(proc)] == [1, 3]
