"""The domain errors the core raises from its guard functions.

The hierarchy is small on purpose: the edge (Faust agent, CLI) translates each class into a
dead-letter reason or a message, and no third-party exception leaks out of the core raw.
Lifecycle errors never escape :func:`agents.core.engine.handle`: it turns them into a recorded
violation and a ``LifecycleViolationDetected`` alert.
"""

from __future__ import annotations

from schemas.models import ViolationCode


class DomainError(Exception):
    """Base of every error the pure core raises on purpose."""


class PolicyError(DomainError):
    """The SLA policy file is missing, malformed or inconsistent."""


class CalendarDataError(DomainError):
    """A calendar year file is malformed or contradicts itself."""


class DeadlineIndexError(DomainError):
    """Serialized deadline-index data cannot be read back."""


class CaseMismatchError(DomainError):
    """An event was routed to the state of a different case (a plumbing bug, not a fact)."""


class LifecycleError(DomainError):
    """An event that the case's lifecycle does not allow; recorded, never dropped."""

    code: ViolationCode = ViolationCode.ILLEGAL_TRANSITION

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class IllegalTransitionError(LifecycleError):
    code = ViolationCode.ILLEGAL_TRANSITION
