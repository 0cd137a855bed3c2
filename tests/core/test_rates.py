"""The one definition of the 三率 and 和解率 (agents/core/rates.py)."""

from __future__ import annotations

import pytest

from agents.core import complaint
from agents.core.errors import IllegalTransitionError
from agents.core.rates import (
    RATE_COUNTERS,
    RATE_NAMES,
    SETTLEMENT_TARGET,
    below_target,
    is_satisfied,
    is_settled,
    rates,
    ratio,
    resolved_at_visit,
)
from schemas.models import Channel, Outcome, Satisfaction


def test_ratio_is_none_without_a_denominator() -> None:
    assert ratio(0, 0) is None and ratio(3, 0) is None
    assert ratio(1, 4) == 0.25


def test_the_issues_settlement_example_is_80_percent() -> None:
    """16 settled, 2 not settled, 2 withdrawn: withdrawn complaints stay in the denominator."""
    counts = {"resolved": 20, "settled": 16}
    assert rates(counts)["settlement_rate"] == pytest.approx(0.8)
    assert below_target(rates(counts)["settlement_rate"]) is True
    assert below_target(None) is None and below_target(SETTLEMENT_TARGET) is False


def test_resolution_and_satisfaction_come_from_the_return_visit() -> None:
    """A complaint resolved with no return visit counts in neither rate."""
    counts = {
        "forwarded": 10, "responded_in_time": 7, "resolved": 8, "settled": 6,
        "feedback": 4, "satisfied": 3, "resolved_at_visit": 2,
    }  # fmt: skip
    assert rates(counts) == {
        "response_rate": 0.7,
        "resolution_rate": 0.5,
        "satisfaction_rate": 0.75,
        "settlement_rate": 0.75,
    }
    assert rates({"resolved": 5, "settled": 5})["resolution_rate"] is None
    assert tuple(RATE_COUNTERS) == RATE_NAMES


def test_the_return_visit_finds_a_settled_complaint_solved() -> None:
    assert resolved_at_visit(Outcome.SETTLED, Satisfaction.UNSATISFIED)
    assert resolved_at_visit("SETTLED", "SATISFIED")
    assert not resolved_at_visit(Outcome.SETTLED, None)  # no return visit yet
    assert not resolved_at_visit(Outcome.WITHDRAWN, Satisfaction.SATISFIED)
    assert is_satisfied("BASICALLY_SATISFIED") and not is_satisfied(Satisfaction.UNSATISFIED)
    assert is_settled("SETTLED") and not is_settled(None) and not is_settled("NOT_SETTLED")


def test_transition_is_the_state_machine_step_uses() -> None:
    """The regulator's fold and the case agent's step read one table of statuses."""
    for event_type, sources in complaint.ALLOWED_FROM.items():
        for status in complaint.ComplaintStatus:
            if status in sources:
                after = complaint.transition(status, Channel.HOTLINE_12345, event_type)
                assert after is (complaint.STATUS_AFTER[event_type] or status)
            else:
                with pytest.raises(IllegalTransitionError):
                    complaint.transition(status, Channel.HOTLINE_12345, event_type)
    ack = complaint.ComplaintAcknowledged
    filed = complaint.ComplaintStatus.FILED
    assert complaint.transition(filed, Channel.PLATFORM_APP, ack) is (
        complaint.ComplaintStatus.ACKNOWLEDGED)  # fmt: skip
