"""Shared test helpers: where the real speech recordings live.

The recordings sit beside the project (`../shared/data` from its root, the same layout in
CI), so every test names them through this one constant instead of its own path arithmetic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The folder of real recordings (see its README.md for what each file holds)."""
    return SHARED_DATA
