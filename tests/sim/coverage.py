"""What a default run must contain: every SLA rule, lifecycle violation and dead-letter reason."""

from __future__ import annotations

from collections.abc import Iterable

import yaml

from agents.core.policy import DEFAULT_POLICY_PATH
from agents.scorecard import DEFAULT_SIGNALS_PATH
from devtools.simulator.malformed import NOT_SIMULATED
from devtools.simulator.model import ExpectedAlert
from schemas.models import ALERT_TYPES, DeadLetterReason, ViolationCode

EXCLUDED_SIGNALS = {
    "CALENDAR_YEAR_UNKNOWN": "the window's holiday data is known (chinese_calendar covers 2026); "
    "a run reaching an unknown year is refused by SimConfig",
}
"""Nothing else is excluded: UNKNOWN_CASE, for one, is produced (a payment for a refund that
was never requested)."""


def policy_rule_ids() -> set[str]:
    data = yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    return {rule["id"] for version in data["versions"] for rule in version["rules"]}


def signal_rule_ids() -> set[str]:
    """The regulator's risk signals (signals.yaml) and the repeated-breach interview."""
    data = yaml.safe_load(DEFAULT_SIGNALS_PATH.read_text(encoding="utf-8"))
    return {data["surge"]["rule_id"], data["settlement"]["rule_id"], "INTERVIEW_RECOMMENDED",
            data["refund_rejections"]["rule_id"]}  # fmt: skip


def missing_coverage(alerts: Iterable[ExpectedAlert], dead_letters: Iterable[str]) -> list[str]:
    """What a set of alerts and dead-letter reasons lacks (empty = full coverage)."""
    alerts = list(alerts)
    breached = {a.rule_id for a in alerts if a.kind == "SlaBreached"}
    escalated = {a.rule_id for a in alerts if a.kind == "EscalationRaised"}
    violations = {a.rule_id for a in alerts if a.kind == "LifecycleViolationDetected"}
    kinds = {a.kind for a in alerts}
    missing = [f"SlaBreached {r}" for r in sorted(policy_rule_ids() - breached)]
    missing += [] if escalated else ["an escalation (EscalationRaised)"]
    missing += [f"violation {c.value}" for c in ViolationCode if c.value not in violations]
    missing += [f"alert type {t.__name__}" for t in ALERT_TYPES if t.__name__ not in kinds]
    rules = {a.rule_id for a in alerts}
    missing += [f"signal {r}" for r in sorted(signal_rule_ids() - rules)]
    seen = set(dead_letters)
    missing += [
        f"dead letter {r.value}"
        for r in DeadLetterReason
        if r.value not in seen and r not in NOT_SIMULATED
    ]
    return missing
