"""Read a two-party call recording into one 16 kHz float32 track per party.

libsndfile (soundfile) reads WAV, FLAC, OGG and MP3 quickly; PyAV (which faster-whisper
already depends on) decodes the rest, M4A/AAC included. Every failure becomes a
`RecordingError` whose one-line message names the file, so no caller shows a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

__all__ = ["SAMPLE_RATE", "Recording", "RecordingError", "load_recording", "probe_duration"]

SAMPLE_RATE = 16000
_SAME_CHANNEL_CORRELATION = 0.97  # channels this alike carry one signal, not two parties


class RecordingError(Exception):
    """A recording that cannot be analysed; the message is meant for the user."""


@dataclass(frozen=True)
class Recording:
    """A call in memory: the agent's track and, for a two-party recording, the customer's."""

    path: str
    agent: np.ndarray
    customer: np.ndarray | None
    source_sample_rate: int
    source_channels: int
    agent_channel: str
    notes: tuple[str, ...] = ()
    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return len(self.agent) / self.sample_rate

    @property
    def channels(self) -> str:
        return "stereo" if self.customer is not None else "agent-only"


def _decode_soundfile(path: Path) -> tuple[np.ndarray, int, list[str]]:
    notes: list[str] = []
    with sf.SoundFile(path) as f:
        promised = f.frames
        data = f.read(dtype="float32", always_2d=True)
        rate = f.samplerate
    if promised > 0 and len(data) < promised * 0.98:
        notes.append(f"file looks truncated: header promised {promised / rate:.1f} s, "
                     f"read {len(data) / rate:.1f} s")
    return data, rate, notes


def _decode_av(path: Path) -> tuple[np.ndarray, int, list[str]]:
    import av  # faster-whisper's decoder; imported late, it is only the fallback

    chunks: list[np.ndarray] = []
    notes: list[str] = []
    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise RecordingError(f"{path.name} has no audio stream")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        channels = stream.codec_context.channels or 1
        try:
            for frame in container.decode(stream):
                arr = frame.to_ndarray()
                if arr.dtype.kind in "iu":
                    arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
                arr = arr.astype(np.float32, copy=False)
                if frame.format.is_planar:
                    arr = arr.reshape(channels, -1).T
                else:
                    arr = arr.reshape(-1, channels)
                chunks.append(arr)
        except av.error.FFmpegError as exc:
            if not chunks:
                raise
            notes.append(f"file looks truncated or damaged ({exc.strerror or exc}); "
                         "analysed what could be decoded")
    if not chunks:
        return np.zeros((0, 1), dtype=np.float32), int(rate or SAMPLE_RATE), notes
    return np.concatenate(chunks), int(rate), notes


def _decode(path: Path) -> tuple[np.ndarray, int, list[str]]:
    try:
        return _decode_soundfile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        pass
    try:
        return _decode_av(path)
    except RecordingError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure is the same to the user
        reason = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
        raise RecordingError(f"{path.name} is not an audio file callcoach can read, or it "
                             f"is damaged ({reason})") from None


def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return np.ascontiguousarray(x, dtype=np.float32)
    g = np.gcd(rate, SAMPLE_RATE)
    y = resample_poly(x, SAMPLE_RATE // g, rate // g, axis=0)
    return np.ascontiguousarray(y, dtype=np.float32)


def _same_audio(a: np.ndarray, b: np.ndarray) -> bool:
    """Two channels carrying one signal (a mono call saved as stereo, maybe re-encoded)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ea, eb = float(np.dot(a64, a64)), float(np.dot(b64, b64))
    if ea < 1e-12 or eb < 1e-12:
        return False  # silence on one side is a quiet party, not a copy
    return float(np.dot(a64, b64)) / np.sqrt(ea * eb) > _SAME_CHANNEL_CORRELATION


def probe_duration(path: str | os.PathLike[str]) -> float | None:
    """Duration in seconds from the header alone, or None when it can't be told cheaply."""
    try:
        info = sf.info(str(path))
        return info.frames / info.samplerate if info.samplerate else None
    except Exception:  # noqa: BLE001
        return None


def load_recording(path: str | os.PathLike[str], agent_channel: str = "left") -> Recording:
    """Read a call recording; stereo = one party per channel, mono = the agent alone.

    Args:
        path: the audio file.
        agent_channel: "left" or "right": which channel of a stereo file is the agent.

    Returns:
        The two tracks at 16 kHz, and notes (one line each) about what was assumed.

    Raises:
        RecordingError: missing, empty, unreadable, truncated-to-nothing or not audio.
    """
    if agent_channel not in ("left", "right"):
        raise RecordingError(f"agent channel must be 'left' or 'right', not {agent_channel!r}")
    p = Path(path)
    if not p.exists():
        raise RecordingError(f"file not found: {p}")
    if p.is_dir():
        raise RecordingError(f"{p} is a folder, not a recording")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise RecordingError(f"cannot read {p}: {exc.strerror}") from None
    if size == 0:
        raise RecordingError(f"{p.name} is empty (0 bytes)")
    try:
        data, rate, notes = _decode(p)
    except PermissionError:
        raise RecordingError(f"cannot read {p}: permission denied") from None
    if data.size == 0 or len(data) == 0:
        raise RecordingError(f"{p.name} holds no audio samples")
    if rate <= 0:
        raise RecordingError(f"{p.name} has no valid sample rate")
    data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    channels = data.shape[1]
    if channels > 2:
        notes.append(f"{channels} channels: used 1 and 2 (agent {agent_channel}), ignored "
                     f"3-{channels}")
    agent_idx = 0 if agent_channel == "left" else 1
    if channels == 1:
        notes.append("mono recording: analysing the agent only (no customer channel)")
        agent, customer = data[:, 0], None
    elif _same_audio(data[:, 0], data[:, 1]):
        notes.append("both channels carry the same audio: analysing it as the agent only")
        agent, customer = data[:, 0], None
    else:
        agent, customer = data[:, agent_idx], data[:, 1 - agent_idx]
    agent = _resample(agent, rate)
    customer = _resample(customer, rate) if customer is not None else None
    return Recording(path=str(path), agent=agent, customer=customer, source_sample_rate=rate,
                     source_channels=channels, agent_channel=agent_channel,
                     notes=tuple(notes))
