"""The console's own facts: the alert workflow, regulator accounts and the access log.

Topics ``alert-actions`` (key alert id), ``accounts`` (key user name) and ``access-log``
(key the account). ``case_id`` is the case the fact is about, or empty; ``platform_id`` the
platform, or "bureau" for an account.
"""

from __future__ import annotations

from enum import StrEnum

from schemas.models._base import Event, NonEmptyStr, NonNegativeLong


class Role(StrEnum):
    """Who a regulator account is: 所 office staff, 科室, 局领导, auditor, admin."""

    OFFICE = "OFFICE"
    DEPARTMENT = "DEPARTMENT"
    LEADERSHIP = "LEADERSHIP"
    AUDITOR = "AUDITOR"
    ADMIN = "ADMIN"


class AlertActionEvent(Event):
    """Fields shared by every alert action; not itself an event type on the wire."""

    alert_id: NonEmptyStr
    actor: NonEmptyStr
    """The account that acted."""


class AlertAcknowledged(AlertActionEvent):
    """A regulator acknowledged (确认) an alert."""


class AlertAssigned(AlertActionEvent):
    """A regulator handed an alert on (指派) to a person."""

    assignee: NonEmptyStr


class AlertNoted(AlertActionEvent):
    """A regulator added a note (备注) to an alert."""

    note: NonEmptyStr


class AlertClosed(AlertActionEvent):
    """A regulator closed (关闭) an alert."""

    reason: str


class AccountCreated(Event):
    """A regulator account was created; ``office`` scopes office staff to the 包片 roster."""

    username: NonEmptyStr
    display_name: str
    role: Role
    office: str | None = None
    password_hash: NonEmptyStr
    """An argon2id hash (PHC string); never the password."""
    actor: NonEmptyStr


class AccountRoleChanged(Event):
    """An account's role (and office) changed."""

    username: NonEmptyStr
    role: Role
    office: str | None = None
    actor: NonEmptyStr


class AccountPasswordSet(Event):
    """An account's password was set: the argon2id hash only."""

    username: NonEmptyStr
    password_hash: NonEmptyStr
    actor: NonEmptyStr


class CaseViewed(Event):
    """Someone opened a case (PIPL: who saw whose complaint)."""

    actor: NonEmptyStr
    role: Role
    view: str
    """Which page or twin: ``case.html`` or ``case.json``."""


class ListExported(Event):
    """Someone exported a list; ``query`` is the filter as given, ``rows`` how many left."""

    actor: NonEmptyStr
    role: Role
    list_name: NonEmptyStr
    export_format: NonEmptyStr
    query: str
    rows: NonNegativeLong
