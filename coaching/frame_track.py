"""One speaker's frames, kept as columns rather than as Frame objects.

A call has 62.5 frames a second per party and all of them are kept until the scorecard.
As objects they cost ~170 bytes each (1.3 MB a minute for a two-party call, ~80 MB for
an hour); as columns 42 bytes (~19 MB for an hour). The live engine appends to one track
per party for the whole call, so this is what keeps its memory small over a long call.
Frames are made when read, so rules and tests still see plain `Frame`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import numpy as np

from coaching.timeline import Frame

__all__ = ["FrameTrack"]

# Frame's fields in its own order (Frames are made positionally from the columns), each
# with the type its column keeps.
_DTYPES = {"t": np.float64, "dbfs": np.float64, "pitch_hz": np.float64,
           "speech_prob": np.float64, "voice": np.bool_, "in_turn": np.bool_,
           "tilt_db": np.float64}
_FIELDS = tuple(_DTYPES)
_FLOATS = tuple(f for f, d in _DTYPES.items() if d is not np.bool_)
_CHUNK = 4096  # frames made per step when iterating (bounded transient memory)


class FrameTrack(Sequence[Frame]):
    """An append-only sequence of Frames stored as one numpy column per field.

    Safe for one appending thread and readers on others (the live window reads new
    frames while the live worker appends): a reader that took `len()` first finds those
    frames whole, because a frame is written before the length counts it and a grown
    column set replaces the old one only once it holds everything.
    """

    __slots__ = ("_cols", "_n")

    def __init__(self, frames: Iterable[Frame] = (), capacity: int = 1024) -> None:
        self._cols = self._empty(max(16, capacity))
        self._n = 0
        self.extend(frames)

    @staticmethod
    def _empty(capacity: int) -> tuple[np.ndarray, ...]:
        return tuple(np.empty(capacity, dtype) for dtype in _DTYPES.values())

    def _grow(self, need: int) -> tuple[np.ndarray, ...]:
        old = self._cols
        fresh = self._empty(max(need, 2 * len(old[0])))
        for src, dst in zip(old, fresh, strict=True):
            dst[:self._n] = src[:self._n]
        self._cols = fresh
        return fresh

    def append(self, frame: Frame) -> None:
        n = self._n
        cols = self._cols if n < len(self._cols[0]) else self._grow(n + 1)
        cols[0][n], cols[1][n], cols[2][n] = frame.t, frame.dbfs, frame.pitch_hz
        cols[3][n], cols[4][n], cols[5][n] = frame.speech_prob, frame.voice, frame.in_turn
        cols[6][n] = frame.tilt_db
        self._n = n + 1

    def extend(self, frames: Iterable[Frame]) -> None:
        """Many frames at once (a whole analysed channel): one slice per column."""
        rows = [(f.t, f.dbfs, f.pitch_hz, f.speech_prob, f.voice, f.in_turn, f.tilt_db)
                for f in frames]
        if not rows:
            return
        n, need = self._n, self._n + len(rows)
        cols = self._cols if need <= len(self._cols[0]) else self._grow(need)
        for col, values in zip(cols, zip(*rows, strict=True), strict=True):
            col[n:need] = values
        self._n = need

    def __len__(self) -> int:
        return self._n

    def _frames(self, start: int, stop: int) -> Iterator[Frame]:
        cols = self._cols
        for lo in range(start, stop, _CHUNK):
            hi = min(stop, lo + _CHUNK)
            yield from map(Frame, *(c[lo:hi].tolist() for c in cols))

    @overload
    def __getitem__(self, i: int) -> Frame: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[Frame, ...]: ...

    def __getitem__(self, i):
        n = self._n
        if isinstance(i, slice):
            start, stop, step = i.indices(n)
            if step == 1:
                return tuple(self._frames(start, max(start, stop)))
            return tuple(self[j] for j in range(start, stop, step))
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("frame index out of range")
        c = self._cols
        return Frame(float(c[0][i]), float(c[1][i]), float(c[2][i]), float(c[3][i]),
                     bool(c[4][i]), bool(c[5][i]), float(c[6][i]))

    def __iter__(self) -> Iterator[Frame]:
        return self._frames(0, self._n)

    def column(self, name: str) -> np.ndarray:
        """One field for every frame so far, as a read-only array (no Frames made)."""
        view = self._cols[_FIELDS.index(name)][:self._n]
        view.flags.writeable = False
        return view

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrameTrack):
            return len(self) == len(other) and all(
                np.array_equal(self.column(f), other.column(f), equal_nan=f in _FLOATS)
                for f in _FIELDS)
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(
                a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable while a call goes on

    def __repr__(self) -> str:
        return f"FrameTrack({self._n} frames)"

    @property
    def nbytes(self) -> int:
        """Memory held by the columns (capacity included)."""
        return sum(c.nbytes for c in self._cols)
