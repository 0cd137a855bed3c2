"""A calendar year loaded with ``regbus calendar add`` reaches running workers and later ones.

The worker starts without 2027 data, so a hotline complaint filed on 2026-12-28 gets its
7-working-day deadline by the weekend-only rule (provisional). The CLI publishes a 2027 file;
the provisional deadline is restated within one tick, and a worker started afterwards knows
the year and computes the same deadline.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from agents.core import engine
from regbus.cli import app
from schemas.families import CaseFamily
from schemas.models import (
    Category,
    Channel,
    ComplaintFiled,
    Priority,
    SlaClockStarted,
)
from streams.codec import EventCodec
from streams.settings import Settings
from streams.ticks import publish_ticks
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader, produce, wait_until

SH = ZoneInfo("Asia/Shanghai")
WAIT = 60.0
YEAR_FILE = """\
year: 2027
source: test data (not the State Council notice)
holidays:
  - 2027-01-01
  - 2027-01-02
  - 2027-01-03
workdays: []
"""


def _local(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=SH).astimezone(UTC)


def _filed(case_id: str, at: datetime) -> ComplaintFiled:
    return ComplaintFiled(
        event_id=f"{case_id}-filed", case_id=case_id, platform_id="acme", occurred_at=at,
        channel=Channel.HOTLINE_12345, category=Category.DELIVERY_GOODS_DAMAGE,
        priority=Priority.NORMAL, claimed_amount_fen=100, insured=False, office="HD-ZGC",
        consumer_ref="anon-1", intake_at=at,
    )  # fmt: skip


def _cpl_starts(records: list[Any]) -> list[SlaClockStarted]:
    codec = EventCodec()
    events = [codec.decode(r.value) for r in records]
    return [e for e in events if isinstance(e, SlaClockStarted) and e.sla_id == "CPL_HANDLE_NOTIFY"]


async def test_a_year_added_by_the_cli_restates_deadlines_in_running_and_later_workers(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any, tmp_path: Path
) -> None:
    first = await ingress_worker(full=True)
    filed_at = _local(2026, 12, 28, 10)  # Monday; 7 working days run into 2027
    weekend_only_due = _local(2027, 1, 7)  # 12-29, 30, 31, 01-01, 04, 05, 06 → 24:00 on 01-06
    final_due = _local(2027, 1, 8)  # with 01-01 a holiday: … 01-04, 05, 06, 07
    codec = EventCodec()
    key, value, headers = codec.encode(_filed("c-2027", filed_at), "/bureau/hd-01")
    await produce(
        settings.bootstrap, catalogue.cases(CaseFamily.COMPLAINTS), [(key, value, headers)]
    )

    async with TopicReader(settings.bootstrap, catalogue.sla) as sla:
        await sla.read_until(lambda rs: len(_cpl_starts(rs)) >= 1, WAIT, "no CPL clock started")
        (started,) = _cpl_starts(sla.records)
        assert started.due_at == weekend_only_due  # provisional: 2027 unknown

        path = tmp_path / "2027.yaml"
        path.write_text(YEAR_FILE, encoding="utf-8")
        env = {"REGBUS_BOOTSTRAP": settings.bootstrap, "REGBUS_TOPIC_PREFIX": settings.topic_prefix}
        result = await asyncio.to_thread(
            CliRunner().invoke, app, ["calendar", "add", str(path), "--by", "tester"], env=env
        )
        assert result.exit_code == 0, result.output
        assert "published 2027" in result.output

        await publish_ticks(settings.bootstrap, catalogue, filed_at + timedelta(hours=1))
        await sla.read_until(
            lambda rs: len(_cpl_starts(rs)) >= 2, WAIT, "the provisional deadline was not restated"
        )
        restated = _cpl_starts(sla.records)[-1]
        assert restated.clock_id == started.clock_id and restated.started_at == started.started_at
        assert restated.due_at == final_due

    procs = first.parts.case_processors  # every family's agent got the broadcast, in its turn
    await wait_until(
        lambda: all(p.ctx.calendar.knows_year(2027) for p in procs.values()),
        WAIT,
        lambda: f"not every case agent applied 2027: {[p.counters for p in procs.values()]}",
    )
    # a worker started later reads the calendar topic and agrees
    later = await ingress_worker(full=True)
    ctx = later.parts.case_processors[CaseFamily.COMPLAINTS].ctx
    assert ctx.calendar.knows_year(2027)
    out = engine.handle(None, _filed("c-later", filed_at), ctx).outputs
    (due,) = [
        e.due_at for e in out if isinstance(e, SlaClockStarted) and e.sla_id == "CPL_HANDLE_NOTIFY"
    ]
    assert due == final_due
