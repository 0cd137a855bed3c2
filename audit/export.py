"""Export one canonical partition to a JSON-lines file that can be verified offline.

Line 1 is a header; then one line per record with its exact bytes (base64) and the chain
hash after it; then every checkpoint of the partition from the audit topic::

    {"format": "regbus.audit.export/1", "topic": …, "partition": …, "first_offset": 0,
     "end_offset": …, "genesis": "<hex>", "anchor": null, "exported_at": "…"}
    {"offset": 0, "timestamp": 1764…, "key": "<b64>|null", "value": "<b64>|null",
     "headers": [["ce_id", "<b64>"], …], "chain": "<hex h(0)>"}
    …
    {"checkpoint": {… AuditCheckpoint as JSON …}}
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition

from streams.ledger.chain import Chain, genesis
from streams.ledger.checkpoints import read_checkpoints
from streams.ledger.logread import LogReader
from streams.settings import Settings
from streams.topics import Catalogue

EXPORT_FORMAT = "regbus.audit.export/1"


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text, validate=True)


def encode_record(
    offset: int, timestamp: int, key: bytes | None, value: bytes | None,
    headers: Any, chain_hex: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "offset": offset,
        "timestamp": timestamp,
        "key": _b64(key),
        "value": _b64(value),
        "headers": [[k, _b64(v)] for k, v in headers],
        "chain": chain_hex,
    }


def decode_record(
    line: dict[str, Any],
) -> tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes | None]]]:
    headers = [(str(k), _unb64(v)) for k, v in line.get("headers", [])]
    return (
        int(line["offset"]),
        int(line["timestamp"]),
        _unb64(line.get("key")),
        _unb64(line.get("value")),
        headers,
    )


async def export_partition(
    settings: Settings,
    topic: str,
    partition: int,
    path: Path,
    catalogue: Catalogue | None = None,
) -> int:
    """Write the partition (log start to current end) and its checkpoints; returns records."""
    catalogue = catalogue or Catalogue.from_settings(settings)
    stored, _bad = await read_checkpoints(settings, catalogue)
    mine = [s.checkpoint for s in stored if (s.checkpoint.topic, s.checkpoint.partition) == (
        topic, partition)]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    tp = TopicPartition(topic, partition)
    async with LogReader(settings) as reader:
        bounds = await reader.bounds([topic])
        if tp not in bounds:
            raise ValueError(f"{topic}[{partition}] does not exist")
        start, end = bounds[tp]
        anchor = None
        chain = Chain.start(topic, partition)
        if start > 0:
            found = [c for c in mine if c.to_offset == start - 1]
            if not found:
                raise ValueError(
                    f"{topic}[{partition}] starts at {start}; no checkpoint anchors it"
                )
            chain = Chain.resume(topic, partition, found[0].chain_hash, start - 1)
            anchor = {"offset": start - 1, "chain_hash": found[0].chain_hash}
        header = {
            "format": EXPORT_FORMAT,
            "topic": topic,
            "partition": partition,
            "first_offset": start,
            "end_offset": end,
            "genesis": genesis(topic, partition).hex(),
            "anchor": anchor,
            "exported_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        with path.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(header) + "\n")
            async for _tp, batch in reader.read({tp: (start, end)}):
                for r in batch:
                    head = chain.add(r.offset, r.timestamp, r.key, r.value, r.headers).hex()
                    line = encode_record(r.offset, r.timestamp, r.key, r.value, r.headers, head)
                    fh.write(json.dumps(line) + "\n")
                    count += 1
            for cp in mine:
                fh.write(json.dumps({"checkpoint": cp.model_dump(mode="json")}) + "\n")
    return count
