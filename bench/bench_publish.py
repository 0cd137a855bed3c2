"""SDK batch publish against raw aiokafka produce, in the same run.

The SDK path includes everything a platform pays for: pydantic validation of every item,
Avro encoding with the Confluent header, CloudEvents headers, the session dedup set, and
acks=all + idempotence. Events are built as models beforehand (the platform's own cost).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import mkdtemp

from bench.baseline import make_topic, raw_produce_batches
from bench.bench_peers import ratio
from clients.publisher import PlatformPublisher
from schemas.models import ComplaintAcknowledged
from streams.registry import add_platform
from streams.settings import Settings

PLATFORM = "bench-sdk"
BATCH = 5000


async def run(bootstrap: str, baseline, n: int):  # type: ignore[no-untyped-def]
    from bench.rows import Row

    prefix = f"pub{uuid.uuid4().hex[:8]}"
    settings = Settings(bootstrap=bootstrap, topic_prefix=prefix, state_dir=Path(mkdtemp()))
    await add_platform(settings, PLATFORM)
    at = datetime.now(UTC) - timedelta(hours=1)
    events = [
        ComplaintAcknowledged(
            event_id=f"ack-{i}",
            case_id=f"C-{i % 5000}",
            platform_id=PLATFORM,
            occurred_at=at,
            handler_ref="agent-7",
        )
        for i in range(n)
    ]
    async with PlatformPublisher(PLATFORM, bootstrap, prefix=prefix) as pub:
        start = time.perf_counter()
        sent = 0
        for i in range(0, n, BATCH):
            report = await pub.publish_batch(events[i : i + BATCH])
            assert report.ok, report
            sent += len(report.sent)
        took = time.perf_counter() - start
    rate = sent / took
    raw = baseline.produce.per_second
    batches = await raw_produce_batches(bootstrap, await make_topic(bootstrap), n)
    return [
        Row(batches.name, f"{batches.per_second:,.0f} ev/s",
            ratio(batches.per_second, raw), "", "the ceiling of the SDK's send path"),
        Row("SDK publish_batch (validate + encode + send)", f"{rate:,.0f} ev/s",
            ratio(rate, raw), "≥ 0.8", f"batches of {BATCH}, acks=all, idempotent; "
            f"{rate / batches.per_second:.3g}× the raw batch API"),
    ]  # fmt: skip
