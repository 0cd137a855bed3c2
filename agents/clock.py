"""The wall clock: the only place on the bureau side that reads real time.

The leader publishes a tick into every case partition every ``interval`` seconds; the case
agents then ask the pure core what is due at the tick's time. With ``clock="external"`` the
worker publishes nothing and time comes from whoever writes ticks (simulator, tests).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streams.codec import EventCodec
from streams.ticks import governance_tick_records, tick_records
from streams.topics import Catalogue


def attach_wall_clock(app: Any, catalogue: Catalogue, interval: float) -> None:
    codec = EventCodec()

    @app.timer(interval, on_leader=True, name="regbus.wall_clock")
    async def wall_clock() -> None:
        now = datetime.now(UTC)
        records = tick_records(catalogue, now, codec)
        records += governance_tick_records(catalogue, now, codec)
        for topic, partition, key, value, headers in records:
            app.topic(topic, key_serializer="raw", value_serializer="raw").send_soon(
                key=key, value=value, partition=partition, headers=headers
            )
