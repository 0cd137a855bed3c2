"""Fixtures of the regulator tests."""

from __future__ import annotations

import pytest

from agents.core.context import Context


@pytest.fixture(scope="session")
def ctx() -> Context:
    """The packaged policy with chinese-calendar data only (as the core tests use)."""
    return Context.load(calendar_dir=None)
