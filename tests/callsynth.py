"""Two-party test calls synthesized with espeak-ng, sox (Debian packages) and numpy.

A call is a script of lines. Each line is spoken by espeak-ng in its party's voice and put
on that party's channel of a stereo file (the agent on the left by default), so a call has
the shape of a dual-channel call-center recording. The true start and end of every line's
speech is known exactly (the synthesized clip is trimmed to its voice before it is placed),
which is what lets the integration tests assert event times to a tenth of a second.

Synthesis is cheap but not free, and the same sentences are spoken in every test run, so
each espeak-ng clip is cached on disk (`$CALLCOACH_SYNTH_CACHE`, else
`~/.cache/callcoach-synth`), keyed by the text, voice settings and espeak-ng's version.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

__all__ = ["Line", "SpokenLine", "SynthCall", "VOICES", "SR", "synth_speech", "synth_call",
           "plan_call", "louder", "cache_dir"]

SR = 16000
# Two voices a listener (and a pitch tracker) tells apart at once: a lower American agent
# and a higher British customer, both transcribed well by Whisper tiny.en (plain en-gb
# says "found" for "down"). The agent's 130 (espeak-ng's words per minute, pauses
# included) is about 160 words per minute of speech, under the playbook's fast-speech
# limit of 180; espeak-ng's default 175 would trip it in every call.
VOICES: dict[str, dict[str, str | int]] = {
    "agent": {"voice": "en-us", "pitch": 35, "speed": 130, "amplitude": 100},
    "customer": {"voice": "en-gb-x-rp", "pitch": 60, "speed": 150, "amplitude": 100},
}
LEVEL_DBFS = -24.0  # RMS of the voiced part of a line at amplitude 100: a typical call level
_TRIM_DB = 40.0  # frames this far under a clip's loudest frame are silence
_FRAME_S = 0.01
_LIMIT_KNEE = 0.8  # a soft limiter above this keeps shouted lines from clipping
_CACHE_VERSION = 2


@dataclass(frozen=True)
class Line:
    """One line of the script.

    Attributes:
        speaker: "agent" or "customer".
        at: absolute start in seconds (a backchannel or a deliberate overlap). None: start
            `gap` seconds after the end of everything spoken so far, so a negative gap talks
            over the end of the previous line (the first line starts at synth_call's lead_s).
        voice, pitch, speed, amplitude: espeak-ng settings; None takes the party's default
            from VOICES. Amplitude is linear like espeak-ng's `-a` (200 is +6 dB over 100)
            but applied in numpy, because espeak-ng itself clips above about 140.
        gain_db: extra level for this line (a raised voice), on top of the amplitude.
    """

    speaker: str
    text: str
    at: float | None = None
    gap: float = 0.6
    voice: str | None = None
    pitch: int | None = None
    speed: int | None = None
    amplitude: int | None = None
    gain_db: float = 0.0


@dataclass(frozen=True)
class SpokenLine:
    """Where a line's speech really is in the mix: its first to last sample over the silence
    level (40 dB under its loudest 10 ms)."""

    speaker: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class SynthCall:
    """A written call: the file, its lines as spoken (script order), its length in s."""

    path: Path
    lines: tuple[SpokenLine, ...]
    duration_s: float
    sample_rate: int

    def line(self, text_start: str) -> SpokenLine:
        """The first line whose text starts with `text_start` (tests name lines this way)."""
        return next(s for s in self.lines if s.text.startswith(text_start))

    def of(self, speaker: str) -> list[SpokenLine]:
        return [s for s in self.lines if s.speaker == speaker]


def cache_dir() -> Path:
    """Where espeak-ng clips are kept between runs (created on first use)."""
    env = os.environ.get("CALLCOACH_SYNTH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "callcoach-synth"


@functools.cache
def _espeak_version() -> str:
    """Part of the cache key: a new espeak-ng may pronounce (and time) lines differently."""
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _settings(voice: str | None, pitch: int | None, speed: int | None,
              amplitude: int | None) -> tuple[str, int, int, int]:
    """A party name ("agent", "customer") or an espeak-ng voice, with defaults filled in."""
    base = VOICES.get(voice or "agent", {"voice": voice, "pitch": 50, "speed": 175,
                                         "amplitude": 100})
    return (str(base["voice"]), int(pitch if pitch is not None else base["pitch"]),
            int(speed if speed is not None else base["speed"]),
            int(amplitude if amplitude is not None else base["amplitude"]))


def _frame_db(x: np.ndarray) -> np.ndarray:
    n = int(_FRAME_S * SR)
    frames = x[: len(x) // n * n].reshape(-1, n)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)


def _espeak(text: str, voice: str, pitch: int, speed: int) -> np.ndarray:
    """espeak-ng's clip at 16 kHz, trimmed to its voice and scaled to LEVEL_DBFS (cached)."""
    key = json.dumps([_CACHE_VERSION, _espeak_version(), text, voice, pitch, speed])
    path = cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"
    if path.exists():
        return np.load(path)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "line.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed),
                        "-w", str(wav), text], check=True, capture_output=True)
        raw, rate = sf.read(wav, dtype="float32", always_2d=True)
    audio = raw[:, 0]
    if rate != SR:
        g = np.gcd(SR, rate)
        audio = resample_poly(audio, SR // g, rate // g).astype(np.float32)
    db = _frame_db(audio)
    if len(db) == 0 or db.max() < -100:
        raise ValueError(f"espeak-ng said nothing for {text!r}")
    floor_db = db.max() - _TRIM_DB
    loud = np.flatnonzero(db > floor_db)
    n = int(_FRAME_S * SR)
    # To the sample: the first and last sample of the voice over the silence level.
    over = np.flatnonzero(np.abs(audio[loud[0] * n:(loud[-1] + 1) * n]) > 10 ** (floor_db / 20))
    audio = audio[loud[0] * n + over[0]:loud[0] * n + over[-1] + 1]
    rms = np.sqrt(np.mean(10 ** (db[loud] / 10)))
    audio = (audio * (10 ** (LEVEL_DBFS / 20) / rms)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp_path, audio)
    os.replace(tmp_path, path)  # atomic: parallel test workers never read half a file
    return audio


def synth_speech(text: str, voice: str | None = "agent", pitch: int | None = None,
                 speed: int | None = None, amplitude: int | None = None) -> np.ndarray:
    """One line of speech: 16 kHz float32 mono, trimmed to the voice, no padding.

    Args:
        voice: a party name ("agent", "customer": its VOICES defaults) or an espeak-ng voice
            ("en-us", "en-us+m3"; unset settings then take espeak-ng's defaults).
        amplitude: linear level, 100 = LEVEL_DBFS; other values scale it (espeak-ng's scale).
    """
    v, p, s, a = _settings(voice, pitch, speed, amplitude)
    return _espeak(text, v, p, s) * np.float32(a / 100)


def _clip_of(line: Line) -> np.ndarray:
    """The line's speech: unset settings are the speaker's, even with another voice."""
    if line.speaker not in VOICES:
        raise ValueError(f"speaker must be 'agent' or 'customer', not {line.speaker!r}")
    base = VOICES[line.speaker]

    def pick(value: int | None, key: str) -> int:
        return int(base[key]) if value is None else value

    speech = synth_speech(line.text, line.voice or str(base["voice"]), pick(line.pitch, "pitch"),
                          pick(line.speed, "speed"), pick(line.amplitude, "amplitude"))
    return speech * np.float32(10 ** (line.gain_db / 20))


def _layout(lines: Sequence[Line], lead_s: float) -> list[tuple[Line, np.ndarray, int]]:
    """Each line with its clip and first sample: the one place the timing rules live."""
    placed: list[tuple[Line, np.ndarray, int]] = []
    cursor: float | None = None  # the end of everything spoken so far
    for line in lines:
        clip = _clip_of(line)
        if line.at is not None:
            start = line.at
        else:
            start = lead_s if cursor is None else cursor + line.gap
        first = int(round(max(0.0, start) * SR))
        placed.append((line, clip, first))
        cursor = max(cursor or 0.0, (first + len(clip)) / SR)
    return placed


def _spoken(placed: list[tuple[Line, np.ndarray, int]]) -> tuple[SpokenLine, ...]:
    return tuple(SpokenLine(ln.speaker, ln.text, round(i / SR, 3), round((i + len(c)) / SR, 3))
                 for ln, c, i in placed)


def plan_call(lines: Sequence[Line], *, lead_s: float = 0.5) -> tuple[SpokenLine, ...]:
    """The SpokenLines synth_call would give, without writing audio: a scenario uses it to
    place lines at points of another line (backchannels) and to state its ground truth."""
    return _spoken(_layout(lines, lead_s))


def _limit(x: np.ndarray) -> np.ndarray:
    """Soft-limit peaks over the knee (a shouted line's) instead of clipping them."""
    over = np.abs(x) > _LIMIT_KNEE
    if over.any():
        room = 1.0 - _LIMIT_KNEE
        mag = _LIMIT_KNEE + room * np.tanh((np.abs(x[over]) - _LIMIT_KNEE) / room)
        x = x.copy()
        x[over] = np.sign(x[over]) * mag
    return x


def _telephone(stereo: np.ndarray) -> np.ndarray:
    """300-3400 Hz at 8 kHz through sox (linear phase, so no line moves in time)."""
    fmt = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "2"]
    out = subprocess.run(["sox", *fmt, "-r", str(SR), "-", *fmt, "-r", "8000", "-",
                          "sinc", "300-3400", "rate", "8k"],
                         input=np.ascontiguousarray(stereo, dtype=np.float32).tobytes(),
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.float32).reshape(-1, 2)


def _noise(n: int, rate: int, dbfs: float, color: str,
           rng: np.random.Generator) -> np.ndarray:
    """White or pink (1/f power from 20 Hz up: no drift, as on a real line) noise at exactly
    `dbfs` RMS."""
    x = rng.standard_normal(n)
    if color == "pink":
        spectrum = np.fft.rfft(x)
        f = np.fft.rfftfreq(n, 1 / rate)
        x = np.fft.irfft(spectrum / np.sqrt(np.maximum(f, 20.0)) * (f >= 20.0), n)
    elif color != "white":
        raise ValueError(f"noise color must be 'white' or 'pink', not {color!r}")
    return (x * (10 ** (dbfs / 20) / np.sqrt(np.mean(x ** 2)))).astype(np.float32)


def synth_call(lines: Sequence[Line], path: Path, *, sample_rate: int = SR,
               agent_channel: str = "left", telephone: bool = False,
               noise_dbfs: float | None = None, noise_color: str = "white",
               agent_gain_db: float = 0.0, lead_s: float = 0.5, tail_s: float = 1.0,
               seed: int = 0) -> SynthCall:
    """Speak the script into a stereo file, one party per channel.

    Args:
        path: the file to write (format from its suffix: .wav or .flac), 16-bit PCM.
        sample_rate: the file's rate when not `telephone`.
        agent_channel: "left" or "right".
        telephone: band-limit to 300-3400 Hz and save at 8 kHz (sox), like a phone line.
        noise_dbfs: independent noise at this RMS level on both channels (a noisy line),
            added after the telephone band so its level is the one asked for.
        agent_gain_db: the agent's whole channel louder or quieter (-15: a quiet mic).
        lead_s: silence before the first line; tail_s: silence after the last.
        seed: the noise generator's seed.

    Returns:
        The file, each line's true speech start and end, and the call's length.
    """
    if agent_channel not in ("left", "right"):
        raise ValueError(f"agent_channel must be 'left' or 'right', not {agent_channel!r}")
    placed = _layout(lines, lead_s)
    n = max((i + len(c) for _, c, i in placed), default=0) + int(round(tail_s * SR))
    tracks = {"agent": np.zeros(n, np.float32), "customer": np.zeros(n, np.float32)}
    for line, clip, i in placed:
        tracks[line.speaker][i:i + len(clip)] += clip
    tracks["agent"] *= np.float32(10 ** (agent_gain_db / 20))
    pair = ((tracks["agent"], tracks["customer"]) if agent_channel == "left"
            else (tracks["customer"], tracks["agent"]))
    stereo = np.stack([_limit(t) for t in pair], axis=1)
    rate = sample_rate
    if telephone:
        stereo, rate = _telephone(stereo), 8000
    elif rate != SR:
        g = np.gcd(SR, rate)
        stereo = resample_poly(stereo, rate // g, SR // g, axis=0).astype(np.float32)
    if noise_dbfs is not None:
        rng = np.random.default_rng(seed)
        stereo = stereo + np.stack([_noise(len(stereo), rate, noise_dbfs, noise_color, rng)
                                    for _ in range(2)], axis=1)
    path = Path(path)
    sf.write(path, np.clip(stereo, -1.0, 1.0), rate, subtype="PCM_16")
    return SynthCall(path, _spoken(placed), round(n / SR, 3), rate)


def louder(line: Line, gain_db: float = 8.0) -> Line:
    """The same line shouted: about 10 dB louder (amplitude 130 and `gain_db`), 20 higher in
    espeak-ng pitch and 15 words a minute faster. Keep it to one line: each line is one
    raised stretch, and the agent needs some normal speech before it for a baseline."""
    base = VOICES[line.speaker]
    return replace(line, gain_db=gain_db, amplitude=130,
                   pitch=(line.pitch if line.pitch is not None else int(base["pitch"])) + 20,
                   speed=(line.speed if line.speed is not None else int(base["speed"])) + 15)
