"""Privacy records (topic ``<prefix>.privacy``): erasures and views of personal data (PIPL)."""

from __future__ import annotations

from schemas.models._base import Event


class SubjectErased(Event):
    """A data subject's key was destroyed (crypto-shredding): their sealed data is unreadable.

    ``case_id`` is empty (an erasure is about a person, not one case); the record key is the
    ``consumer_ref``.
    """

    consumer_ref: str
    erased_by: str
    """Who ordered the erasure (an operator or unit name)."""
    reason: str | None = None


class PersonalDataViewed(Event):
    """Someone was shown a case that holds personal data: who viewed whose complaint."""

    viewer: str
    """The authenticated principal (token name or console user)."""
    role: str
    consumer_ref: str | None = None
    via: str
    """Where the view happened: ``worker-api`` or ``console``."""
