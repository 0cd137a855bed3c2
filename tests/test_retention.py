"""The retention schedule: 3-year floor on transaction records, shorter for raw input, applied
to existing topics by ``regbus topics apply``."""

from __future__ import annotations

import asyncio
import dataclasses

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from typer.testing import CliRunner

from regbus.cli import app
from schemas.families import CaseFamily
from streams.admin import ensure_topics
from streams.settings import Settings
from streams.topics import DAY_MS, UNLIMITED, Catalogue, Family

THREE_YEARS_MS = 3 * 365 * DAY_MS


def test_schedule_keeps_transaction_records_three_years_and_raw_input_less() -> None:
    cat = Catalogue("t", platforms=("meituan",))
    by_family: dict[Family, set[int]] = {}
    for spec in cat:
        by_family.setdefault(spec.family, set()).add(spec.retention_ms)
        assert spec.config()["retention.ms"] == str(spec.retention_ms)
    for fam in (Family.CASES, Family.ALERTS, Family.SLA, Family.AUDIT):
        assert all(ms == UNLIMITED or ms >= THREE_YEARS_MS for ms in by_family[fam]), fam
    for fam in (Family.INGRESS, Family.BUREAU_INGRESS, Family.DEADLETTER, Family.INBOX):
        assert all(0 < ms < THREE_YEARS_MS for ms in by_family[fam]), fam


async def _retention(bootstrap: str, names: list[str]) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        out: dict[str, str] = {}
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        for resp in await admin.describe_configs(resources):
            for _code, _msg, _type, name, entries in resp.resources:
                out[name] = {e[0]: e[1] for e in entries}["retention.ms"]
        return out
    finally:
        await admin.close()


def test_topics_apply_sets_the_schedule_on_existing_topics(settings: Settings) -> None:
    cat = Catalogue(settings.topic_prefix)
    forever = [dataclasses.replace(s, retention_ms=UNLIMITED) for s in cat.specs()]
    asyncio.run(ensure_topics(settings.bootstrap, forever))  # as the old catalogue created them
    names = [cat.deadletter, cat.bureau_ingress, cat.cases(CaseFamily.COMPLAINTS)]
    assert set(asyncio.run(_retention(settings.bootstrap, names)).values()) == {"-1"}
    env = {"REGBUS_BOOTSTRAP": settings.bootstrap, "REGBUS_TOPIC_PREFIX": settings.topic_prefix}
    runner = CliRunner()
    dry = runner.invoke(app, ["topics", "apply", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would change" in dry.output
    assert set(asyncio.run(_retention(settings.bootstrap, names)).values()) == {"-1"}
    done = runner.invoke(app, ["topics", "apply"], env=env)
    assert done.exit_code == 0, done.output
    got = asyncio.run(_retention(settings.bootstrap, names))
    assert got == {
        cat.deadletter: str(180 * DAY_MS),
        cat.bureau_ingress: str(30 * DAY_MS),
        names[2]: str(4 * 365 * DAY_MS),
    }
    again = runner.invoke(app, ["topics", "apply"], env=env)
    assert again.exit_code == 0 and "changed 0 value(s)" in again.output, again.output
