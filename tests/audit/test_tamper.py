"""Tamper evidence through the real broker: signed checkpoints, verification, exported copies.

A tampered copy of a partition (one byte changed, one record removed, records reordered, or
a consistent rewrite with recomputed hashes) must fail verification at the right record;
the intact log and copy must pass; a checkpoint signed by another key or forged must fail.
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from audit.export import decode_record, export_partition
from audit.verify import verify_file, verify_log
from bench.bench_replay import produce_all, workload
from schemas.families import CaseFamily
from schemas.models import AuditCheckpoint
from streams.ledger.chain import Chain, link
from streams.ledger.checkpoints import checkpoint, publish_checkpoints, read_checkpoints
from streams.ledger.signing import generate, load_public_key, load_signing_key


@pytest.fixture
async def signed_log(settings, catalogue, tmp_path: Path):
    """~300 records in the canonical topics, checkpointed in blocks of 25 with a bureau key."""
    await produce_all(settings.bootstrap, workload(catalogue, 300, 0.5, timedelta(minutes=10)))
    key_path, pub_path = generate(tmp_path / "bureau.key")
    key = load_signing_key(key_path)
    made = await checkpoint(settings, catalogue, key, every=25)
    return key, load_public_key(pub_path), made


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _records(lines: list[dict]) -> list[dict]:
    return [line for line in lines if "offset" in line]


async def test_checkpoints_are_signed_incremental_and_the_intact_log_verifies(
    settings, catalogue, signed_log
) -> None:
    key, public, made = signed_log
    assert made and all(cp.key_id == key.key_id and cp.signature for cp in made)
    topic = catalogue.cases(CaseFamily.COMPLAINTS)
    blocks = sorted((cp.from_offset, cp.to_offset) for cp in made if cp.topic == topic and
                    cp.partition == 0)  # fmt: skip
    assert blocks[0][0] == 0 and all(b[0] == a[1] + 1 for a, b in itertools.pairwise(blocks))

    await produce_all(settings.bootstrap, workload(catalogue, 60, 0.5, timedelta(minutes=10),
                                                   seed=99))  # fmt: skip
    more = await checkpoint(settings, catalogue, key, every=25)
    for cp in more:  # only the new records are hashed, continuing the chain
        earlier = [c for c in made if (c.topic, c.partition) == (cp.topic, cp.partition)]
        if earlier:
            assert cp.from_offset == max(c.to_offset for c in earlier) + 1
    report = await verify_log(settings, catalogue, public, require_signatures=True)
    assert report.ok, [b.as_json() for b in report.breaks]
    assert report.signed_valid == report.checkpoints == len(made) + len(more)
    assert all(p.unverified_records == 0 and p.failure is None for p in report.partitions)


async def test_wrong_key_and_forged_checkpoint_fail(settings, catalogue, signed_log, tmp_path):
    _key, public, made = signed_log
    _other_key, other_pub = generate(tmp_path / "other.key")
    wrong = await verify_log(settings, catalogue, load_public_key(other_pub))
    assert not wrong.ok and len(wrong.signature_issues) == len(made)

    target = made[0]
    forged = AuditCheckpoint(**{
        **target.model_dump(), "event_id": "forged", "chain_hash": "00" * 32, "signature": None,
        "key_id": None,
    })  # fmt: skip
    await publish_checkpoints(settings, catalogue, [forged])
    unkeyed = await verify_log(settings, catalogue, None)  # no key: every checkpoint is used
    (failure,) = unkeyed.breaks
    assert (failure.topic, failure.partition) == (target.topic, target.partition)
    assert failure.kind == "checkpoint_mismatch" and failure.offset == target.to_offset
    assert (failure.expected, failure.range_from) == ("00" * 32, target.from_offset)
    keyed = await verify_log(settings, catalogue, public, require_signatures=True)
    assert not keyed.ok and not keyed.breaks and keyed.unsigned == 1  # forged one not used


async def test_tampered_copies_fail_at_the_right_record(
    settings, catalogue, signed_log, tmp_path: Path
) -> None:
    _key, public, _made = signed_log
    topic = catalogue.cases(CaseFamily.COMPLAINTS)
    path = tmp_path / "complaints-1.jsonl"
    n = await export_partition(settings, topic, 1, path, catalogue)
    assert n > 30
    intact = verify_file(path, public, require_signatures=True)
    assert intact.ok and intact.partitions[0].verified_through == n - 1

    lines = _lines(path)
    records = _records(lines)

    # one byte changed in the value of the record at offset 17
    changed = json.loads(json.dumps(lines))
    victim = _records(changed)[17]
    raw = bytearray(base64.b64decode(victim["value"]))
    raw[-1] ^= 0x01
    victim["value"] = base64.b64encode(bytes(raw)).decode()
    (b,) = verify_file(_write(tmp_path / "changed.jsonl", changed), public).breaks
    assert (b.kind, b.offset, b.expected) == ("modified", 17, records[17]["chain"])
    assert b.actual != b.expected

    # one record removed (offset 9)
    removed = [line for line in lines if line.get("offset") != 9]
    (b,) = verify_file(_write(tmp_path / "removed.jsonl", removed), public).breaks
    assert (b.kind, b.offset) == ("removed", 9)

    # two records swapped: offset 5 is not where it belongs
    swapped = list(lines)
    i = swapped.index(records[5])
    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    (b,) = verify_file(_write(tmp_path / "swapped.jsonl", swapped), public).breaks
    assert b.offset == 5

    # a record duplicated
    doubled = list(lines)
    doubled.insert(doubled.index(records[12]) + 1, records[12])
    (b,) = verify_file(_write(tmp_path / "doubled.jsonl", doubled), public).breaks
    assert (b.kind, b.offset) == ("reordered", 12)

    # the last record removed
    (b,) = verify_file(_write(tmp_path / "truncated.jsonl", [
        line for line in lines if line.get("offset") != n - 1]), public).breaks  # fmt: skip
    assert (b.kind, b.offset) == ("removed", n - 1)

    # a consistent rewrite: record 30 changed and every stored hash recomputed
    rewritten = json.loads(json.dumps(lines))
    recs = _records(rewritten)
    recs[30]["headers"] = [*recs[30]["headers"], ["x-edited", None]]
    chain = Chain.start(topic, 1)
    for rec in recs:
        chain.head = link(chain.head, *decode_record(rec))
        rec["chain"] = chain.head.hex()
    report = verify_file(_write(tmp_path / "rewritten.jsonl", rewritten), public)
    (b,) = report.breaks
    assert b.kind == "checkpoint_mismatch" and b.range_from is not None
    assert b.range_from <= 30 <= b.offset < b.range_from + 25  # pinned to one block


async def test_cli_verify_file_exits_nonzero_on_tampering(
    settings, catalogue, signed_log, tmp_path: Path
) -> None:
    _key, _public, _made = signed_log
    topic = catalogue.cases(CaseFamily.COMPLAINTS)
    path = tmp_path / "c0.jsonl"
    await export_partition(settings, topic, 0, path, catalogue)
    lines = _lines(path)
    _records(lines)[3]["key"] = base64.b64encode(b"someone-else").decode()
    bad = _write(tmp_path / "bad.jsonl", lines)
    stored, _ = await read_checkpoints(settings, catalogue)
    assert stored
    pub = tmp_path / "bureau.key.pub"
    ok = subprocess.run(
        [sys.executable, "-m", "regbus", "audit", "verify", "--file", str(path),
         "--public-key", str(pub), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = subprocess.run(
        [sys.executable, "-m", "regbus", "audit", "verify", "--file", str(bad),
         "--public-key", str(pub), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert broken.returncode == 1
    (result,) = json.loads(broken.stdout)
    assert result["partitions"][0]["break"]["offset"] == 3
    assert result["partitions"][0]["break"]["kind"] == "modified"
