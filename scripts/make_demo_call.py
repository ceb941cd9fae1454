"""Write assets/demo_call.flac: the bundled demo call (synthesized speech, agent left).

    .venv/bin/python scripts/make_demo_call.py

A complaint call that shows the main cues on replay: a greeting, a complaint, the agent
talking over the customer, an apology, a slow answer, a summary, next steps with a time,
"anything else" and thanks. Regenerate it after changing the voices in tests/callsynth.py.
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
LINES = [
    Line(A, "Thank you for calling Acme support, my name is Sam. How can I help you today?"),
    Line(C, "Hi, this is Maria calling. I was charged twice for my bill this month, and this "
            "is the second time it has happened. I am really frustrated."),
    Line(A, "Okay, can I have your account number please?", gap=-1.0),
    Line(C, "It is four four two one nine."),
    Line(A, "Thank you. I am so sorry about the double charge, Maria. I understand how "
            "frustrating that is.", gap=4.2),
    Line(C, "I just want my money back."),
    Line(A, "Just to confirm, you were charged twice this month, and you want the second "
            "charge refunded."),
    Line(C, "Yes, exactly."),
    Line(A, "I have issued the refund now. You will see it on your card within three "
            "business days, and I will email you a confirmation today."),
    Line(C, "Okay, that is great, thank you."),
    Line(A, "Is there anything else I can help you with?"),
    Line(C, "No, that is all."),
    Line(A, "Thank you for calling, Maria. Have a lovely day."),
]


def main() -> None:
    out = ROOT / "assets" / "demo_call.flac"
    with tempfile.TemporaryDirectory() as tmp:
        call = synth_call(LINES, Path(tmp) / "demo.wav")
        audio, rate = sf.read(call.path, dtype="float32")
    sf.write(out, audio, rate, format="FLAC", subtype="PCM_16")
    print(f"wrote {out} ({call.duration_s:.1f} s, {out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
