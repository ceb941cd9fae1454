"""Two-party test calls synthesized with espeak-ng and sox (Debian packages) and numpy.

A call is a script of lines. Each line is spoken by espeak-ng in the party's voice and
placed on that party's channel (agent left), either after the previous line with a gap
(a negative gap talks over it) or at an absolute time. The true start and end of every
line's speech is measured from the synthesized audio, so tests can assert event times.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

__all__ = ["Line", "SpokenLine", "SynthCall", "synth_speech", "synth_call", "VOICES"]

SR = 16000
VOICES = {
    "agent": {"voice": "en-us", "pitch": 35, "speed": 130, "amplitude": 100},
    "customer": {"voice": "en-gb", "pitch": 60, "speed": 140, "amplitude": 100},
}
_LEVEL_DBFS = -24.0  # speaking level of a normal line (RMS of its voiced part)


@dataclass(frozen=True)
class Line:
    """One line of the script.

    Attributes:
        gap: seconds after the end of the previous sequential line (negative: overlap).
        at: absolute start time; such a line does not move the script's cursor
            (a backchannel during the other party's turn).
        gain_db: extra level over the party's normal level (a raised voice).
    """

    speaker: str
    text: str
    gap: float = 0.7
    at: float | None = None
    pitch: int | None = None
    speed: int | None = None
    amplitude: int | None = None
    gain_db: float = 0.0


@dataclass(frozen=True)
class SpokenLine:
    speaker: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class SynthCall:
    path: Path
    lines: tuple[SpokenLine, ...]
    duration_s: float
    sample_rate: int

    def line(self, text_start: str) -> SpokenLine:
        return next(s for s in self.lines if s.text.startswith(text_start))


def synth_speech(text: str, speaker: str, pitch: int | None = None, speed: int | None = None,
                 amplitude: int | None = None) -> np.ndarray:
    """espeak-ng speech at 16 kHz, trimmed to the voice, at the normal speaking level."""
    v = dict(VOICES[speaker])
    v.update({k: val for k, val in (("pitch", pitch), ("speed", speed),
                                    ("amplitude", amplitude)) if val is not None})
    wav = subprocess.run(
        ["espeak-ng", "-v", v["voice"], "-p", str(v["pitch"]), "-s", str(v["speed"]),
         "-a", str(v["amplitude"]), "--stdout", text],
        capture_output=True, check=True).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    if rate != SR:
        g = np.gcd(SR, rate)
        audio = resample_poly(audio, SR // g, rate // g)
    audio = np.asarray(audio, dtype=np.float32)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    audio = audio[loud[0]:loud[-1] + 1] if len(loud) else audio[:0]
    rms = float(np.sqrt(np.mean(audio ** 2))) if len(audio) else 1.0
    return audio * (10 ** (_LEVEL_DBFS / 20) / rms)


def _place(track: np.ndarray, clip: np.ndarray, start: float) -> np.ndarray:
    i = int(round(start * SR))
    need = i + len(clip)
    if need > len(track):
        track = np.concatenate([track, np.zeros(need - len(track), dtype=np.float32)])
    track[i:need] += clip
    return track


def synth_call(lines: list[Line], path: Path, *, telephone: bool = False,
               noise_dbfs: float | None = None, agent_gain_db: float = 0.0,
               agent_channel: str = "left", lead_s: float = 0.5, tail_s: float = 1.5,
               seed: int = 0) -> SynthCall:
    """Speak the script into a stereo file (one party per channel).

    Args:
        telephone: band-limit to 300-3400 Hz and save at 8 kHz (sox), like a phone line.
        noise_dbfs: white noise at this RMS level on both channels (a noisy line).
        agent_gain_db: the agent's whole channel louder or quieter (a mic 15 dB quieter).
    """
    tracks = {"agent": np.zeros(0, np.float32), "customer": np.zeros(0, np.float32)}
    spoken: list[SpokenLine] = []
    cursor = lead_s
    for line in lines:
        clip = synth_speech(line.text, line.speaker, line.pitch, line.speed, line.amplitude)
        clip = clip * (10 ** (line.gain_db / 20))
        start = line.at if line.at is not None else max(0.0, cursor + line.gap)
        tracks[line.speaker] = _place(tracks[line.speaker], clip, start)
        end = start + len(clip) / SR
        spoken.append(SpokenLine(line.speaker, line.text, round(start, 3), round(end, 3)))
        if line.at is None:
            cursor = end
    n = max(len(t) for t in tracks.values()) + int(tail_s * SR)
    agent = np.pad(tracks["agent"], (0, n - len(tracks["agent"]))) * 10 ** (agent_gain_db / 20)
    customer = np.pad(tracks["customer"], (0, n - len(tracks["customer"])))
    if noise_dbfs is not None:
        rng = np.random.default_rng(seed)
        level = 10 ** (noise_dbfs / 20)
        agent = agent + rng.standard_normal(n).astype(np.float32) * level
        customer = customer + rng.standard_normal(n).astype(np.float32) * level
    pair = [agent, customer] if agent_channel == "left" else [customer, agent]
    stereo = np.clip(np.stack(pair, axis=1), -1.0, 1.0).astype(np.float32)
    path = Path(path)
    if telephone:
        with tempfile.TemporaryDirectory() as tmp:
            wide = Path(tmp) / "wide.wav"
            sf.write(wide, stereo, SR, subtype="FLOAT")
            subprocess.run(["sox", str(wide), "-b", "16", str(path), "sinc", "300-3400",
                            "rate", "8k"], check=True, capture_output=True)
        rate = 8000
    else:
        sf.write(path, stereo, SR)
        rate = SR
    return SynthCall(path, tuple(spoken), n / SR, rate)


def louder(line: Line, gain_db: float = 10.0) -> Line:
    """The same line shouted: louder, higher, faster."""
    return replace(line, gain_db=gain_db, pitch=(line.pitch or 35) + 25, speed=175,
                   amplitude=180)
