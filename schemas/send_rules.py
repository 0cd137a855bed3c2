"""Who may send what on ingress: one table, used by the ingress agent and the platform SDK.

Platforms write ``<prefix>.ingress.<id>`` with ``ce_source`` ``/platforms/<id>``; bureau units
write ``<prefix>.ingress.bureau`` with ``ce_source`` ``/bureau/<unit>``. docs/ingestion.md
embeds :func:`rules_table` (a test keeps the copy equal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from schemas.families import (
    CAMPAIGN_EVENTS,
    CASE_EVENTS,
    ENFORCEMENT_EVENTS,
    GOVERNANCE,
    RULE_EVENTS,
    CaseFamily,
)
from schemas.models import (
    Channel,
    ComplaintFiled,
    ComplaintResolved,
    ComplaintSuspended,
    Event,
    Outcome,
    SuspendReason,
)

FUTURE_TOLERANCE = timedelta(minutes=10)
"""How far ahead of the bureau's clock an ``occurred_at`` may be before ingress dead-letters it
(FUTURE_TIMESTAMP); the publish CLI refuses such lines before sending. Ingress may be
configured otherwise (``REGBUS_INGRESS_FUTURE_MINUTES``)."""


class Sender(StrEnum):
    PLATFORM = "platform"  # ce_source /platforms/<id> on <prefix>.ingress.<id>
    BUREAU = "bureau"  # ce_source /bureau/<unit> on <prefix>.ingress.bureau


def _platform_files_in_app(event: Event) -> str | None:
    assert isinstance(event, ComplaintFiled)
    if event.channel is not Channel.PLATFORM_APP:
        return f"platforms file complaints through channel PLATFORM_APP only, not {event.channel}"
    return None


def _platform_suspend_reason(event: Event) -> str | None:
    # A suspension stops the platform's own SLA clock, so it must name a reason the rules
    # recognise; an open-ended OTHER pause is the bureau's call.
    assert isinstance(event, ComplaintSuspended)
    if event.reason is SuspendReason.OTHER:
        return "platforms suspend for TESTING, APPRAISAL or ODR_NEGOTIATION only, not OTHER"
    return None


def _platform_outcome(event: Event) -> str | None:
    # Deciding that a complaint is outside the bureau's remit is the bureau's decision.
    assert isinstance(event, ComplaintResolved)
    if event.outcome is Outcome.OUT_OF_SCOPE:
        return "only the bureau resolves a complaint as OUT_OF_SCOPE"
    return None


@dataclass(frozen=True)
class SendRule:
    """Who may send one event type, and where it goes besides its canonical case topic."""

    family: CaseFamily | str | None
    """The case family whose canonical topic it goes to; :data:`GOVERNANCE`: the ``governance``
    topic keyed by the event's case id (a campaign); None: ``governance`` keyed by platform id."""
    platform: bool
    """Platforms may send it (on their own ingress topic, about their own cases)."""
    bureau: bool = True
    platform_limit: Callable[[Event], str | None] | None = None
    """Extra condition on a platform's event: returns why it is refused, or None."""
    limit_doc: str = ""
    limit_field: str = "type"
    """The field a platform_limit refusal is about (for the SDK's and CLI's messages)."""
    inbox: bool = True
    """When the bureau sends it, a copy goes to the named platform's inbox: every decision
    the bureau takes on a platform's case reaches the platform."""


_C, _R, _X = CaseFamily.COMPLAINTS, CaseFamily.REFUNDS, CaseFamily.RECTIFICATIONS
SEND_RULES: dict[str, SendRule] = {
    # A hotline intake reaches the platform as the ComplaintForwarded that follows it.
    "ComplaintFiled": SendRule(
        _C, True, inbox=False, platform_limit=_platform_files_in_app,
        limit_doc="platforms: channel PLATFORM_APP only", limit_field="channel",
    ),
    "ComplaintForwarded": SendRule(_C, False),
    "ComplaintAcknowledged": SendRule(_C, True),
    "ComplaintSuspended": SendRule(
        _C, True, platform_limit=_platform_suspend_reason,
        limit_doc="platforms: reason TESTING, APPRAISAL or ODR_NEGOTIATION", limit_field="reason",
    ),
    "ComplaintResumed": SendRule(_C, True),
    "ComplaintEscalated": SendRule(_C, False),
    "ComplaintResolved": SendRule(
        _C, True, platform_limit=_platform_outcome,
        limit_doc="platforms: not OUT_OF_SCOPE", limit_field="outcome",
    ),
    "ComplaintFeedbackRecorded": SendRule(_C, False, limit_doc="the return visit (回访)"),
    "ComplaintReopened": SendRule(_C, False),
    "RefundRequested": SendRule(
        _R, True, limit_doc="bureau: relays a consumer's request for review",
    ),
    "RefundReviewed": SendRule(_R, True),
    "RefundPaid": SendRule(_R, True),
    "InspectionFindingRecorded": SendRule(_X, False),
    "RectificationOrdered": SendRule(_X, False),
    "RectificationSubmitted": SendRule(_X, True),
    "RectificationVerified": SendRule(_X, False),
    "RectificationRejected": SendRule(_X, False),
}  # fmt: skip
# Governance (issue 18): spot-check campaigns, bureau-sent, to <prefix>.governance.
SEND_RULES.update({name: SendRule(GOVERNANCE, False, inbox=False) for name in CAMPAIGN_EVENTS})
assert {e for events in CASE_EVENTS.values() for e in events} <= set(SEND_RULES)
assert all(SEND_RULES[e].family is fam for fam, events in CASE_EVENTS.items() for e in events)
# Governance (issue 18): the bureau's own acts on a platform, routed to ``governance``.
SEND_RULES.update(
    {name: SendRule(None, False, limit_doc="governance, keyed by platform id")
     for name in ENFORCEMENT_EVENTS}
)  # fmt: skip

INBOX_CASE_EVENTS: tuple[str, ...] = tuple(n for n, r in SEND_RULES.items() if r.inbox)
"""The case events a platform's inbox carries (when the bureau sent them)."""
PLATFORM_EVENT_TYPES: tuple[str, ...] = tuple(n for n, r in SEND_RULES.items() if r.platform)


def refusal(event: Event, sender: Sender) -> tuple[str, str] | None:
    """(field, why) ``sender`` may not send ``event``, or None. Shared with the platform SDK."""
    rule = SEND_RULES.get(event.EVENT_NAME)
    if rule is None:
        return "type", f"{event.EVENT_NAME} is not accepted on ingress"
    if sender is Sender.BUREAU:
        return None if rule.bureau else ("type", f"the bureau does not send {event.EVENT_NAME}")
    if not rule.platform:
        return "type", f"platforms may not send {event.EVENT_NAME}"
    if rule.platform_limit is not None:
        why = rule.platform_limit(event)
        if why is not None:
            return rule.limit_field, why
    return None


def rules_table() -> str:
    """The who-may-send-what table as Markdown (docs/ingestion.md embeds it; a test checks)."""
    rows = [
        "| event | case topic | platform | bureau | to platform inbox | note |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in SEND_RULES.items():
        topic = f"cases.{r.family.value}" if isinstance(r.family, CaseFamily) else "governance"
        rows.append(
            f"| {name} | {topic} | {'yes' if r.platform else '—'} | "
            f"{'yes' if r.bureau else '—'} | {'yes (bureau-sent)' if r.inbox else '—'} | "
            f"{r.limit_doc} |"
        )
    return "\n".join(rows)


RULE_SENDERS: dict[str, tuple[Sender, ...]] = {name: (Sender.BUREAU,) for name in RULE_EVENTS}
"""Who may send the platform-rule events (topic ``governance``): the bureau only. A platform
announces its rule in its own app; the bureau records the change (and the advice it answers)
with ``regbus rules record`` (streams/rule_log.py), straight to the governance topic, never
through ingress."""
