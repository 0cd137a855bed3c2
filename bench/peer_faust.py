"""The naive Faust peer: one agent, one event at a time, two table writes, RocksDB store.

``python -m bench.peer_faust`` with REGBUS_BENCH_{BOOTSTRAP,TOPIC,GROUP,SCHEMAS,STATE_DIR} in
the environment runs a Faust worker (the spinner off, as regbus's worker) that decodes each
record with fastavro, writes the case's last event id and the platform's count; the benchmark
times it by its committed offsets, like the regbus worker.
"""

from __future__ import annotations

import io
import json
import logging
import os
from typing import Any

import faust
from fastavro import parse_schema, schemaless_reader


def build() -> Any:
    env = os.environ
    with open(env["REGBUS_BENCH_SCHEMAS"]) as fh:
        schemas = {int(k): parse_schema(v, named_schemas={}) for k, v in json.load(fh).items()}
    app = faust.App(
        env["REGBUS_BENCH_GROUP"], broker=f"kafka://{env['REGBUS_BENCH_BOOTSTRAP']}",
        store="rocksdb://", datadir=env["REGBUS_BENCH_STATE_DIR"], topic_partitions=12,
        topic_replication_factor=1, web_enabled=False, consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0, table_standby_replicas=0,
    )  # fmt: skip
    source = app.topic(env["REGBUS_BENCH_TOPIC"], key_serializer="raw", value_serializer="raw")
    cases = app.Table("cases", key_type=bytes, value_type=bytes, partitions=12)
    platforms = app.Table("platforms", default=int, key_type=str, value_type=int, partitions=12)

    @app.agent(source, concurrency=1)
    async def fold(stream: Any) -> None:
        async for value in stream:
            body = io.BytesIO(value)
            body.seek(5)
            record: Any = schemaless_reader(body, schemas[int.from_bytes(value[1:5], "big")], None)
            case = record.get("case_id")
            if case:
                cases[case.encode()] = str(record.get("event_id")).encode()
                platforms[record["platform_id"]] += 1

    return app


def main() -> None:
    from faust.worker import Worker

    app = build()
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    worker = Worker(app, loglevel="warning", quiet=True)
    worker.spinner = None  # as regbus's worker: the spinner puts the root logger at DEBUG
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
