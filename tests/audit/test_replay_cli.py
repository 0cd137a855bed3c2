"""``regbus replay`` end to end on a log holding ComplaintFiled v1 and v2 records (no worker).

The v1 record is written the way an old producer wrote it — the v1 schema, its id from the
lock file, fastavro directly — and must replay through the evolution path (read with the v2
reader: ``policy_rule_version`` becomes null), exactly like a v2 record.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import uuid
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from fastavro import parse_schema, schemaless_writer

from schemas.models import Category, Channel, ComplaintFiled, Priority
from streams.cloudevents_headers import build_headers
from streams.codec import EventCodec
from streams.settings import PROJECT_ROOT
from tests.cases.scenario import START, Step
from tests.kafka_helpers import produce

from .helpers import partition_of, publish_steps

V1 = PROJECT_ROOT / "schemas" / "avro" / "ComplaintFiled" / "v1.avsc"


def _v1_id() -> int:
    lock = json.loads((PROJECT_ROOT / "schemas" / "schema-ids.lock.json").read_text())
    (entry,) = [e for e in lock["schemas"] if e["subject"] == "ComplaintFiled" and
                e["version"] == 1]  # fmt: skip
    return int(entry["id"])


def _filed(case: str, **extra: object) -> ComplaintFiled:
    return ComplaintFiled(
        event_id=str(uuid.uuid4()), case_id=case, platform_id="shop-v", occurred_at=START,
        channel=Channel.HOTLINE_12345, category=Category.FOOD_SAFETY, priority=Priority.URGENT,
        claimed_amount_fen=2_500, insured=False, office="HD-ZGC", consumer_ref="c-9",
        intake_at=START - timedelta(minutes=30), **extra,
    )  # fmt: skip


def _v1_value(event: ComplaintFiled) -> bytes:
    schema = parse_schema(json.loads(V1.read_text()), named_schemas={})
    record = event.model_dump()
    record.pop("policy_rule_version")
    out = BytesIO()
    out.write(b"\x00" + struct.pack(">I", _v1_id()))
    schemaless_writer(out, schema, record)
    return out.getvalue()


async def test_replay_cli_reads_v1_and_v2_records_and_writes_the_report(
    settings, catalogue, tmp_path: Path
) -> None:
    codec = EventCodec()
    assert _v1_id() != codec.store.writer("ComplaintFiled").schema_id  # really the old version
    old, new = _filed("CP-V1"), _filed("CP-V2", policy_rule_version="SAMR-20")
    topic = catalogue.cases(_family())
    await produce(settings.bootstrap, topic, [
        (b"CP-V1", _v1_value(old), build_headers(old, "/platforms/shop-v")),
    ], partition=partition_of("CP-V1", catalogue))  # fmt: skip
    await publish_steps(settings.bootstrap, catalogue, [
        Step(START, new), Step(START + timedelta(hours=1), None),
        Step(START + timedelta(hours=3), None),
    ], codec)  # fmt: skip
    out = tmp_path / "audit"
    env = dict(os.environ, REGBUS_BOOTSTRAP=settings.bootstrap,
               REGBUS_TOPIC_PREFIX=catalogue.prefix)  # fmt: skip
    until = (START + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    run = subprocess.run(
        [sys.executable, "-m", "regbus", "replay", "--until", until, "--out", str(out),
         "--no-progress"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr  # nothing in the alerts topic: missing
    assert "missing 5" in run.stdout  # 4 case alerts and shop-v's ROSTER_MISSING

    states = {
        line["case_id"]: line["state"]
        for line in map(json.loads, (out / "states.jsonl").read_text().splitlines())
    }
    assert set(states) == {"CP-V1", "CP-V2"}
    # a v1 record names no version: its date (after 2026-04-15) puts it on Order 121
    expected_versions = {"CP-V1": "SAMR-121", "CP-V2": "SAMR-20"}
    for case in ("CP-V1", "CP-V2"):
        assert states[case]["policy_version"] == expected_versions[case]
        assert states[case]["channel"] == "HOTLINE_12345"
    report = json.loads((out / "report.json").read_text())
    assert report["as_of"]["until"] == until.replace("Z", ".000Z")
    cases = {c["case_id"]: c for c in report["cases"]}
    assert [e["type"] for e in cases["CP-V1"]["timeline"]] == ["ComplaintFiled"]
    # Both urgent, so 2 h to acknowledge from intake (30 min before filing): the 50 % and 75 %
    # warnings fall due at +0.5 h and +1 h and the +1 h tick raises both; the breach (+1.5 h)
    # would be seen by the +3 h tick, which is after T and not replayed.
    alerts = sorted(
        (a["type"], a["case_id"], a["observed_at"]) for a in report["reconciliation"]["missing"]
    )
    seen = (START + timedelta(hours=1)).isoformat(timespec="milliseconds")[:-6] + "Z"
    warnings = [("SlaWarningRaised", c, seen) for c in ("CP-V1", "CP-V1", "CP-V2", "CP-V2")]
    # shop-v has no 包片 roster entry: its own ROSTER_MISSING signal, at the first tick
    assert alerts == [("RiskSignalRaised", "shop-v", seen), *warnings]
    assert report["replay"]["ticks_after_until"] > 0
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")


def _family():
    from schemas.families import CaseFamily

    return CaseFamily.COMPLAINTS
