from __future__ import annotations

from pathlib import Path

import pytest

from agents.core.context import Context


@pytest.fixture(scope="session")
def ctx() -> Context:
    """The packaged policy with chinese-calendar data only (no operator year files), so the
    tests do not change when an operator adds a year."""
    return Context.load(calendar_dir=None)


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    path = tmp_path / "calendar"
    path.mkdir()
    return path
