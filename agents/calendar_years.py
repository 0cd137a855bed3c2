"""Calendar years published as events (``regbus calendar add``), read by every worker.

The source of truth is the ``calendar`` topic (one partition, history kept). A worker reads it
to its end when it starts, so a worker started later knows every published year; the same
event is also broadcast to every case-topic partition, where the case agents apply it in log
order and restate the provisional deadlines at once (:mod:`agents.cases`), and where a replay
sees it exactly as the live agent did.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from agents.core.calendar import YearData, parse_year_data
from schemas.models import CalendarYearPublished
from streams.codec import DecodeError, EventCodec
from streams.topics import Catalogue

log = logging.getLogger(__name__)


def year_data(event: CalendarYearPublished) -> YearData:
    """The year an event publishes, validated like a year file (CalendarDataError if not)."""
    raw = {
        "year": event.year,
        "source": event.source,
        "holidays": list(event.holidays),
        "workdays": list(event.workdays),
    }
    return parse_year_data(raw, f"CalendarYearPublished {event.event_id}", event.year)


async def read_published_years(
    bootstrap: str, catalogue: Catalogue, client_options: dict[str, Any] | None = None
) -> list[YearData]:
    """Every year on the calendar topic, the latest publication per year winning."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        **(client_options or {}),
    )  # fmt: skip
    await consumer.start()
    try:
        if catalogue.calendar not in await consumer.topics():
            return []
        tp = TopicPartition(catalogue.calendar, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        codec = EventCodec()
        years: dict[int, YearData] = {}
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for rec in batch.get(tp, []):
                try:
                    event = codec.decode(rec.value or b"", list(rec.headers or ()))
                except DecodeError as exc:
                    log.error("calendar topic offset %s unreadable: %s", rec.offset, exc.detail)
                    continue
                if isinstance(event, CalendarYearPublished):
                    data = year_data(event)
                    years[data.year] = data
        return [years[y] for y in sorted(years)]
    finally:
        await consumer.stop()


def read_published_years_now(
    bootstrap: str, catalogue: Catalogue, client_options: dict[str, Any] | None = None
) -> list[YearData]:
    """:func:`read_published_years` from synchronous code (a worker being built, possibly
    inside a running event loop): runs in a thread with its own loop."""
    found: list[YearData] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            found.extend(asyncio.run(read_published_years(bootstrap, catalogue, client_options)))
        except BaseException as exc:  # reported below, in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="calendar-years", daemon=True)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return found
