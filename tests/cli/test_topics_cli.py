"""``regbus topics tail`` and ``regbus topics lag``: a decoded look at a topic, and lag."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from typer.testing import CliRunner

from regbus.cli import app
from streams.codec import EventCodec
from streams.settings import Settings
from streams.ticks import tick_records
from streams.topics import Catalogue
from tests.ingest.factories import NOW
from tests.kafka_helpers import produce

pytestmark = pytest.mark.broker
runner = CliRunner()


def _cli(settings: Settings, *args: str) -> Any:
    env = {"REGBUS_BOOTSTRAP": settings.bootstrap, "REGBUS_TOPIC_PREFIX": settings.topic_prefix,
           "REGBUS_STATE_DIR": str(settings.state_dir)}  # fmt: skip
    return runner.invoke(app, list(args), env=env)


async def test_tail_decodes_and_lag_counts(settings: Settings, catalogue: Catalogue) -> None:
    codec = EventCodec()
    records = tick_records(catalogue, NOW, codec)
    topic = records[0][0]
    for _t, partition, key, value, headers in (r for r in records if r[0] == topic):
        await produce(settings.bootstrap, topic, [(key, value, headers)], partition=partition)
    result = await asyncio.to_thread(
        _cli, settings, "topics", "tail", topic, "--from", "earliest", "--json"
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    mine = [r for r in records if r[0] == topic]
    assert len(lines) == len(mine)
    assert {item["type"] for item in lines} == {"ClockTicked"}
    assert all(item["timestamp"].endswith("+08:00") for item in lines)
    group = f"{settings.topic_prefix}.lag-test"
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=group,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        tp = TopicPartition(topic, lines[0]["partition"])
        consumer.assign([tp])
        await consumer.commit({tp: 0})
    finally:
        await consumer.stop()
    lag = await asyncio.to_thread(_cli, settings, "topics", "lag", "--json")
    assert lag.exit_code == 0, lag.output
    rows = [r for r in json.loads(lag.stdout)["groups"] if r["group"] == group]
    assert rows and rows[0]["committed"] == 0 and rows[0]["lag"] == rows[0]["end"] >= 1
    missing = await asyncio.to_thread(_cli, settings, "topics", "tail", f"{topic}-nope")
    assert missing.exit_code == 1 and "no topic" in missing.output
