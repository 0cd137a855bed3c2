"""The one time rule (schemas/instants.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.instants import (
    InstantError,
    beijing_iso,
    from_ms,
    parse_instant,
    to_ms,
    utc_iso,
)

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_no_zone_is_beijing_time_and_ages_count_back() -> None:
    assert parse_instant("2026-10-08") == datetime(2026, 10, 7, 16, tzinfo=UTC)
    assert parse_instant("2026-10-08 09:00") == datetime(2026, 10, 8, 1, tzinfo=UTC)
    assert parse_instant("2026-10-08T01:00Z") == datetime(2026, 10, 8, 1, tzinfo=UTC)
    assert parse_instant("2026-10-08T09:00+08:00") == datetime(2026, 10, 8, 1, tzinfo=UTC)
    assert parse_instant("1h", NOW) == NOW - timedelta(hours=1)
    assert parse_instant("7d", NOW) == NOW - timedelta(days=7)
    assert parse_instant("now", NOW) == NOW
    with pytest.raises(InstantError, match="no zone means Beijing time"):
        parse_instant("yesterday")


def test_output_forms() -> None:
    assert beijing_iso(NOW) == "2026-12-02T16:00:00.000+08:00"
    assert utc_iso(NOW) == "2026-12-02T08:00:00.000Z"
    assert beijing_iso(None) is None and utc_iso(None) is None


@given(st.integers(min_value=-(2**41), max_value=2**43))
def test_milliseconds_round_trip_exactly(ms: int) -> None:
    assert to_ms(from_ms(ms)) == ms
