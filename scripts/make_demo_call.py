"""Write assets/demo_call.flac: the bundled demo call (synthesized speech, agent left).

    .venv/bin/python scripts/make_demo_call.py

A billing complaint that shows the main cues on replay, in call order: a greeting, the
customer's complaint, the agent talking over the end of it, an apology with empathy, a slow
answer (the agent is silent for 4 s after the customer's question), a summary, next steps
with a time, "anything else" and thanks. Regenerate it after changing the voices in
tests/callsynth.py; the printed line times are what the replay should mark.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.callsynth import Line, synth_call  # noqa: E402

A, C = "agent", "customer"
SLOW_RESPONSE_S = 4.0  # over the playbook's 3 s slow_response, well under 10 s of dead air
LINES = [
    Line(A, "Thank you for calling Acme support, my name is Sam. How can I help you today?"),
    Line(C, "Hi, this is Maria Lopez. I am really frustrated. You charged me twice this "
            "month, and this is the second time it has happened."),
    # The interruption: 1.5 s before the end of her long last sentence, for over 2 s.
    Line(A, "Can I have your account number please, so I can look at your account?",
         gap=-1.5),
    Line(C, "It is four four two one nine. Can you tell me why this keeps happening?"),
    Line(A, "I am so sorry about the double charge, Maria. I understand how frustrating "
            "that is.", gap=SLOW_RESPONSE_S),
    Line(C, "I just want my money back, and I want it to stop."),
    Line(A, "Just to confirm, you were charged twice this month, and you want the second "
            "charge refunded."),
    Line(C, "Yes, exactly."),
    Line(A, "I have issued the refund now. You will see it on your card within three "
            "business days, and I will email you a confirmation today."),
    Line(C, "Okay, that is great, thank you."),
    Line(A, "Is there anything else I can do for you?"),
    Line(C, "No, that's all, thanks."),
    Line(A, "Thank you for calling, Maria. Have a lovely day."),
]


def main() -> None:
    out = ROOT / "assets" / "demo_call.flac"
    with tempfile.TemporaryDirectory() as tmp:
        call = synth_call(LINES, Path(tmp) / "demo.wav")
        audio, rate = sf.read(call.path, dtype="int16")
    sf.write(out, audio, rate, format="FLAC", subtype="PCM_16", compression_level=1.0)
    for line in call.lines:
        print(f"{line.start:6.2f}-{line.end:6.2f} {line.speaker:8} {line.text}")
    print(f"wrote {out} ({call.duration_s:.1f} s, {out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
