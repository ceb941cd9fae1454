"""Read a two-party call recording into one 16 kHz float32 track per party.

libsndfile (soundfile) reads WAV, FLAC, OGG and MP3 quickly; PyAV (which faster-whisper
already depends on) decodes the rest, M4A/AAC included. Every failure becomes a
`RecordingError` whose one-line message names the file, so no caller shows a traceback.
Whatever was assumed on the way (mono, copied channels, extra channels, a cut-off file)
is said in `Recording.notes`, because a silent guess would make the scorecard lie.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

try:  # librosa's own "soxr_hq" resampler, called directly: librosa.resample costs 1-3 s of
    import soxr  # lazy imports in every new process, more than the whole load budget.
except ImportError:  # pragma: no cover - soxr comes with librosa; scipy is the safety net
    soxr = None

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame

__all__ = ["SAMPLE_RATE", "Recording", "RecordingError", "load_recording", "probe_duration"]

SAMPLE_RATE = 16000
AGENT_CHANNELS = ("left", "right")

# Channels this alike carry one signal (a mono call saved as stereo, maybe re-encoded),
# not two parties; two real parties correlate far below this even with some echo.
_SAME_CHANNEL_CORRELATION = 0.97
# The correlation is estimated on at most this many samples: enough to be stable, cheap.
_CORRELATION_SAMPLES = 250_000
# Blocks read from libsndfile: a decoder error mid-file then loses at most one block.
_BLOCK_FRAMES = 1 << 16
_MAX_PREALLOC_S = 6 * 3600  # a header promising more than this is not trusted up front
# libsndfile converts these to float slowly (10x the read itself); numpy does it for free.
_INT16_SUBTYPES = frozenset({"PCM_16", "PCM_S8", "PCM_U8", "ULAW", "ALAW"})
_INT32_SUBTYPES = frozenset({"PCM_24", "PCM_32"})
# A shortfall below this is encoder padding or rounding, not a cut-off file.
_TRUNCATION_FRACTION = 0.01
_TRUNCATION_MIN_S = 0.1


class RecordingError(Exception):
    """A recording that cannot be analysed; the message is one line meant for the user."""


@dataclass(frozen=True, eq=False)
class Recording:
    """A call in memory: the agent's track and, for a two-party recording, the customer's.

    `eq=False`: comparing two calls sample by sample is never what a caller means, and
    the generated `__eq__`/`__hash__` would fail on numpy arrays anyway.
    """

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


@dataclass
class _Decoded:
    """Raw decoder output before any channel or rate decision."""

    data: np.ndarray  # (frames, channels): float32, or int16/int32 full scale
    rate: int
    promised_frames: int | None = None  # what the header says, when it says anything
    error: str | None = None  # why decoding stopped before the end, if it did


class _NotReadable(Exception):
    """The decoder could not make sense of the file at all (so try the next one)."""


def _wav_promised_frames(path: Path) -> int | None:
    """Frames the WAV header's data chunk announces.

    libsndfile quietly shrinks its frame count to what the file holds, so a WAV cut in its
    data would otherwise look complete; the header is the only witness of the cut.
    """
    with path.open("rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        block_align = 0
        for _ in range(64):  # a real WAV has a handful of chunks before its data
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            cid, size = chunk[:4], int.from_bytes(chunk[4:], "little")
            if cid == b"fmt ":
                fmt = fh.read(size + (size & 1))
                block_align = int.from_bytes(fmt[12:14], "little") if len(fmt) >= 14 else 0
            elif cid == b"data":
                # 0 and 0xFFFFFFFF are what streaming writers leave: no promise made.
                if block_align and 0 < size < 0xFFFFFFFF:
                    return size // block_align
                return None
            else:
                fh.seek(size + (size & 1), os.SEEK_CUR)
    return None


def _decode_soundfile(path: Path) -> _Decoded:
    try:
        f = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _NotReadable(str(exc)) from None
    error = None
    with f:
        promised = f.frames if f.frames > 0 else None
        rate, channels, major = f.samplerate, f.channels, f.format
        dtype = ("int16" if f.subtype in _INT16_SUBTYPES else
                 "int32" if f.subtype in _INT32_SUBTYPES else "float32")
        # Read into one buffer sized from the header (np.empty only reserves address
        # space); an estimate that was too small is doubled.
        buf = np.empty((min(promised or 0, _MAX_PREALLOC_S * rate) + _BLOCK_FRAMES, channels),
                       dtype)
        n = 0
        while True:
            if n + _BLOCK_FRAMES > len(buf):
                buf = np.concatenate([buf[:n], np.empty((n + _BLOCK_FRAMES, channels), dtype)])
            try:
                got = len(f.read(dtype=dtype, always_2d=True, out=buf[n:n + _BLOCK_FRAMES]))
            except (sf.LibsndfileError, RuntimeError) as exc:
                error = str(exc)
                break
            if got == 0:
                break
            n += got
    if major in ("WAV", "WAVEX"):
        promised = _wav_promised_frames(path) or promised
    return _Decoded(buf[:n], rate, promised, error)


def _frame_to_float(frame: AudioFrame, channels: int) -> np.ndarray:
    """One PyAV frame as (samples, channels) float32 in [-1, 1]."""
    arr = frame.to_ndarray()
    if arr.dtype == np.uint8:
        arr = (arr.astype(np.float32) - 128.0) / 128.0
    elif arr.dtype.kind == "i":
        arr = arr.astype(np.float32) / float(-np.iinfo(arr.dtype).min)
    else:
        arr = arr.astype(np.float32, copy=False)
    if frame.format.is_planar:
        return arr.reshape(channels, -1).T
    return arr.reshape(-1, channels)


def _decode_av(path: Path) -> _Decoded:
    import av  # faster-whisper's decoder; imported late, it is only the fallback

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except Exception as exc:  # noqa: BLE001 - any open failure means "not readable"
        raise _NotReadable(getattr(exc, "strerror", None) or str(exc)) from None
    chunks: list[np.ndarray] = []
    error = None
    with container:
        if not container.streams.audio:
            raise _NotReadable("no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        channels = 1
        seconds = None
        if stream.duration and stream.time_base:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration:
            seconds = container.duration / av.time_base
        try:
            for frame in container.decode(stream):
                channels = len(frame.layout.channels) or 1
                rate = frame.sample_rate or rate
                chunks.append(_frame_to_float(frame, channels))
        except Exception as exc:  # noqa: BLE001 - a damaged stream: keep what decoded
            error = getattr(exc, "strerror", None) or str(exc)
    if rate <= 0:
        raise _NotReadable("no sample rate")
    data = np.concatenate(chunks) if chunks else np.zeros((0, channels), np.float32)
    promised = round(seconds * rate) if seconds else None
    return _Decoded(data, rate, promised, error)


def _decode(path: Path) -> _Decoded:
    """libsndfile first (fast, exact lengths); PyAV for what it can't open or read."""
    reasons: list[str] = []
    first = None
    try:
        first = _decode_soundfile(path)
        if len(first.data):
            return first
    except _NotReadable as exc:
        reasons.append(str(exc))
    try:
        second = _decode_av(path)
    except _NotReadable as exc:
        second = None
        reasons.append(str(exc))
    if second is not None and (len(second.data) or first is None):
        return second
    if first is not None:  # libsndfile knew the format: it simply holds nothing
        return first
    raise _NotReadable(reasons[-1] if reasons else "unknown format")


def _truncation_note(dec: _Decoded) -> str | None:
    read_s = len(dec.data) / dec.rate
    if dec.promised_frames:
        missing = dec.promised_frames - len(dec.data)
        if missing > max(_TRUNCATION_FRACTION * dec.promised_frames,
                         _TRUNCATION_MIN_S * dec.rate):
            return (f"file looks truncated: header promised {dec.promised_frames / dec.rate:.1f}"
                    f" s, read {read_s:.1f} s")
    if dec.error:
        return (f"file looks damaged after {read_s:.1f} s ({_one_line(dec.error)}); "
                "analysed what could be decoded")
    return None


def _same_audio(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two channels carry one signal (equal, scaled, inverted or re-encoded)."""
    step = max(1, len(a) // _CORRELATION_SAMPLES)
    a64, b64 = a[::step].astype(np.float64), b[::step].astype(np.float64)
    if np.array_equal(a64, b64):
        return bool(np.any(a64))  # two silent channels: nothing says they are one party
    a64 -= a64.mean()
    b64 -= b64.mean()
    ea, eb = float(a64 @ a64), float(b64 @ b64)
    if ea < 1e-12 or eb < 1e-12:
        return False  # silence on one side is a quiet party, not a copy
    return abs(float(a64 @ b64)) / np.sqrt(ea * eb) > _SAME_CHANNEL_CORRELATION


def _as_float(track: np.ndarray) -> np.ndarray:
    """One channel as contiguous float32, integers scaled from full scale to [-1, 1]."""
    if track.dtype.kind == "i":
        return np.multiply(track, np.float32(1.0 / -np.iinfo(track.dtype).min),
                           dtype=np.float32)  # one pass, no int-to-float temporary
    return np.ascontiguousarray(track, dtype=np.float32)


def _to_16k(track: np.ndarray, rate: int) -> np.ndarray:
    """One channel converted to float and resampled to SAMPLE_RATE."""
    x = _as_float(track)
    if rate == SAMPLE_RATE:
        return x
    if soxr is not None:
        y = soxr.resample(x, rate, SAMPLE_RATE, quality="HQ")
    else:  # pragma: no cover - see the import
        from scipy.signal import resample_poly

        g = np.gcd(rate, SAMPLE_RATE)
        y = resample_poly(x, SAMPLE_RATE // g, rate // g)
    return np.ascontiguousarray(y, dtype=np.float32)


def _resample(tracks: list[np.ndarray], rate: int) -> list[np.ndarray]:
    """Each track to 16 kHz float32; two run in parallel (the resampler releases the GIL)."""
    if len(tracks) == 1:
        return [_to_16k(tracks[0], rate)]
    with ThreadPoolExecutor(max_workers=len(tracks)) as pool:
        return list(pool.map(lambda t: _to_16k(t, rate), tracks))


def _pick_parties(data: np.ndarray, agent_channel: str, notes: list[str]
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Agent and customer columns of (frames, channels) audio; notes say what was assumed."""
    channels = data.shape[1]
    agent_idx = AGENT_CHANNELS.index(agent_channel)
    if channels == 1:
        notes.append("mono recording: analysing the agent only (no customer channel)")
        return data[:, 0], None
    if channels > 2:
        ignored = "3" if channels == 3 else f"3-{channels}"
        notes.append(f"{channels} channels: used {agent_idx + 1} (agent) and {2 - agent_idx} "
                     f"(customer), ignored {ignored}")
    if _same_audio(data[:, 0], data[:, 1]):
        notes.append("both channels carry the same audio (a mono recording saved as stereo): "
                     "analysing the agent only")
        return data[:, 0], None
    return data[:, agent_idx], data[:, 1 - agent_idx]


def _check_file(p: Path) -> None:
    """The errors a user can fix by pointing at another file, said before any decoding."""
    if not p.exists():
        raise RecordingError(f"file not found: {p}")
    if p.is_dir():
        raise RecordingError(f"{p} is a folder, not a recording")
    if not p.is_file():
        raise RecordingError(f"{p} is not a regular file")
    try:
        with p.open("rb") as fh:
            fh.read(1)
        size = p.stat().st_size
    except OSError as exc:
        raise RecordingError(f"cannot read {p}: {exc.strerror or exc}") from None
    if size == 0:
        raise RecordingError(f"{p.name} is empty (0 bytes)")


def probe_duration(path: str | os.PathLike[str]) -> float | None:
    """Duration in seconds from the header alone, or None when it can't be told cheaply."""
    try:
        info = sf.info(str(path))
        if info.samplerate and info.frames > 0:
            return info.frames / info.samplerate
    except Exception:  # noqa: BLE001 - unknown to libsndfile: ask the container below
        pass
    try:
        import av

        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            return container.duration / av.time_base if container.duration else None
    except Exception:  # noqa: BLE001
        return None


def load_recording(path: str | os.PathLike[str], agent_channel: str = "left") -> Recording:
    """Read a call recording; stereo = one party per channel, mono = the agent alone.

    Args:
        path: the audio file (WAV, FLAC, MP3, OGG, M4A/AAC, or anything FFmpeg decodes).
        agent_channel: "left" or "right": which channel of a stereo file is the agent.

    Returns:
        The tracks at 16 kHz float32, and one-line notes about what was assumed.

    Raises:
        RecordingError: missing, empty, unreadable, not audio, cut inside its header, or
            holding no samples. The message names the file and fits on one line.
    """
    p = Path(path)
    channel = str(agent_channel).strip().lower()
    if channel not in AGENT_CHANNELS:
        raise RecordingError(f"agent channel must be 'left' or 'right', not {agent_channel!r} "
                             f"(reading {p.name})")
    _check_file(p)
    try:
        return _load(p, str(path), channel)
    except RecordingError:
        raise
    except _NotReadable as exc:
        raise RecordingError(f"{p.name} is not an audio file callcoach can read, or it is "
                             f"damaged ({_one_line(str(exc))})") from None
    except MemoryError:
        raise RecordingError(f"{p.name} is too long to load into memory") from None
    except Exception as exc:  # noqa: BLE001 - a decoder surprise must not become a traceback
        raise RecordingError(f"cannot read {p.name}: {_one_line(str(exc)) or type(exc).__name__}"
                             ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _load(p: Path, given: str, agent_channel: str) -> Recording:
    dec = _decode(p)
    if len(dec.data) == 0 or dec.data.shape[1] == 0:
        if dec.error:
            raise RecordingError(f"{p.name} is damaged: nothing could be decoded "
                                 f"({_one_line(dec.error)})")
        raise RecordingError(f"{p.name} holds no audio samples")
    notes: list[str] = []
    truncated = _truncation_note(dec)
    if truncated:
        notes.append(truncated)
    data = dec.data
    # One cheap pass finds any NaN/inf; they go before the sides are compared or filtered.
    if data.dtype.kind == "f" and not np.isfinite(data.sum(dtype=np.float64)):
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    agent, customer = _pick_parties(data, agent_channel, notes)
    tracks = _resample([agent] if customer is None else [agent, customer], dec.rate)
    return Recording(path=given, agent=tracks[0],
                     customer=tracks[1] if customer is not None else None,
                     source_sample_rate=dec.rate, source_channels=data.shape[1],
                     agent_channel=agent_channel, notes=tuple(notes))
