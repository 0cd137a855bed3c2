"""Calendar years as data: the State Council's holiday notice for one year (topic ``calendar``,
and broadcast to every case-topic partition so the case agents apply it in log order)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from schemas.models._base import Event, NonEmptyStr


class CalendarYearPublished(Event):
    """An operator loaded a year's statutory holidays and make-up working days (调休).

    ``case_id`` is ``calendar:<year>``; the latest publication of a year replaces earlier ones.
    Deadlines computed with the weekend-only fallback for that year are restated at once."""

    year: Annotated[int, Strict(), Field(ge=2000, le=2100)]
    holidays: list[str]
    """Every rest day of the holiday periods, YYYY-MM-DD."""
    workdays: list[str]
    """Weekend days made working days (调休), YYYY-MM-DD."""
    source: NonEmptyStr
    """The notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知 (国办发明电〔2026〕N号)."""
    published_by: NonEmptyStr
    """The operator account that ran ``regbus calendar add``."""
