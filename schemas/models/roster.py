"""The 包片 roster (three-level coverage): which local office (所), business department (科室)
and bureau leader (局领导) cover a platform, from which day (topic ``roster``)."""

from __future__ import annotations

from schemas.models._base import Event, NonEmptyStr, UtcDatetime


class RosterAssigned(Event):
    """From ``effective_from`` (00:00 Beijing time of the first day) the platform is covered
    by these people and units, until a later assignment of the same platform takes effect.
    ``case_id`` is empty; the key is the platform id."""

    office: NonEmptyStr
    """The local office (市场监管所) code, e.g. HD-ZGC."""
    department: NonEmptyStr
    """The business department (业务科室) code."""
    leader: NonEmptyStr
    """The bureau leader (局领导) responsible for the platform."""
    office_contacts: list[str]
    """Who in the office is notified (account names or e-mail addresses)."""
    department_contacts: list[str]
    leader_contacts: list[str]
    effective_from: UtcDatetime
    assigned_by: NonEmptyStr
    """The account or unit that made the assignment."""
