"""``regbus publish``, ``regbus platform`` and ``regbus deadletter`` through typer's runner."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from regbus.cli import app
from schemas.families import CaseFamily
from schemas.models import DeadLetterReason
from streams.admin import ensure_topics
from streams.cloudevents_headers import header_dict
from streams.deadletter import read_deadletters
from streams.registry import add_platform
from streams.settings import Settings
from streams.topics import Catalogue
from tests.kafka_helpers import TopicReader, produce

from .factories import NOW, WAIT, acknowledged, eid, record
from .test_publisher import ingress_size

pytestmark = pytest.mark.broker
runner = CliRunner()


def cli(settings: Settings, *args: str, stdin: str | None = None) -> Any:
    env = {
        "REGBUS_BOOTSTRAP": settings.bootstrap,
        "REGBUS_TOPIC_PREFIX": settings.topic_prefix,
        "REGBUS_STATE_DIR": str(settings.state_dir),
        "COLUMNS": "250",  # rich tables unwrapped, so assertions can find whole words
    }
    return runner.invoke(app, list(args), env=env, input=stdin)


async def acli(settings: Settings, *args: str) -> Any:
    """The CLI from a thread: its asyncio.run must not meet the test's running loop."""
    return await asyncio.to_thread(cli, settings, *args)


def ack(case_id: str = "c-1", **extra: Any) -> str:
    obj = {"type": "ComplaintAcknowledged", "event_id": eid(), "case_id": case_id,
           "occurred_at": NOW.isoformat(), **extra}  # fmt: skip
    return json.dumps(obj)


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_publish_reports_every_bad_line_and_sends_nothing(
    settings: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    asyncio.run(add_platform(settings, "acme"))
    path = write(
        tmp_path,
        ack(),
        '{"type": "ComplaintAcknowledged", "case_id": "c-2"',
        ack(platform_id="other"),
        "",
        json.dumps({"type": "RefundPaid", "event_id": "e", "case_id": "r", "amount_fen": -1,
                    "channel": "x", "payment_ref": "p", "occurred_at": "2025-03-01T08:00:00"}),
        json.dumps({"type": "RectificationOrdered", "event_id": "e2", "case_id": "x"}),
        ack(),
    )  # fmt: skip
    result = cli(settings, "publish", "--platform", "acme", str(path))
    assert result.exit_code == 2, result.output
    out = result.output
    assert f"{path}:2: (item): not valid JSON" in out
    assert f"{path}:3: platform_id: must be 'acme'" in out
    assert f"{path}:5: amount_fen: Input should be greater than or equal to 0" in out
    assert f"{path}:5: occurred_at: Value error, naive datetime" in out
    assert f"{path}:6: type: platforms may not send RectificationOrdered" not in out  # fields
    assert f"{path}:6: deadline: Field required" in out
    assert f"{path}:1:" not in out and f"{path}:7:" not in out
    assert "4 invalid line(s): nothing was sent" in out
    assert asyncio.run(ingress_size(settings.bootstrap, catalogue.ingress("acme"))) == 0


def test_publish_skip_invalid_sends_the_good_lines_and_keeps_the_bad(
    settings: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    asyncio.run(add_platform(settings, "acme"))
    bad = ack(case_id="")
    forbidden = json.dumps({"type": "ComplaintForwarded", "event_id": "f", "case_id": "c",
                            "occurred_at": NOW.isoformat(), "forwarded_by": "HD"})  # fmt: skip
    first = ack("c-1")
    path = write(tmp_path, first, bad, ack("c-2"), forbidden, first)
    result = cli(settings, "publish", "-p", "acme", "--skip-invalid", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}:2: case_id: must not be empty" in result.output
    assert f"{path}:4: type: platforms may not send ComplaintForwarded" in result.output
    assert "sent 2, duplicate in this file 1, rejected 2" in result.output
    rejects = tmp_path / "events.rejects.ndjson"
    assert rejects.read_text(encoding="utf-8").splitlines() == [bad, forbidden]
    assert asyncio.run(ingress_size(settings.bootstrap, catalogue.ingress("acme"))) == 2


def test_publish_from_stdin_and_unregistered_platform(
    settings: Settings, catalogue: Catalogue
) -> None:
    asyncio.run(add_platform(settings, "acme"))
    result = cli(settings, "publish", "-p", "acme", "-", stdin=ack("c-1") + "\n" + ack("c-2"))
    assert result.exit_code == 0 and "sent 2, duplicate in this file 0, rejected 0" in result.output
    result = cli(settings, "publish", "-p", "nobody", "-", stdin=ack())
    assert result.exit_code == 1 and "regbus platform add nobody" in result.output


def test_platform_add_ls_revoke(settings: Settings, catalogue: Catalogue) -> None:
    assert cli(settings, "platform", "add", "acme", "--name", "Acme Delivery").exit_code == 0
    assert cli(settings, "platform", "add", "Bad Id").exit_code == 1
    listing = cli(settings, "platform", "ls")
    assert "acme" in listing.output and "Acme Delivery" in listing.output
    assert cli(settings, "platform", "revoke", "acme").exit_code == 0
    assert "acme" not in cli(settings, "platform", "ls").output
    assert "revoked" in cli(settings, "platform", "ls", "--all").output
    assert cli(settings, "platform", "revoke", "ghost").exit_code == 1


async def test_deadletter_ls_show_and_idempotent_redrive(
    settings: Settings, catalogue: Catalogue, ingress_worker: Any
) -> None:
    await add_platform(settings, "acme")
    # "late" has topics but is not registered yet, so its event is refused
    await ensure_topics(settings.bootstrap, catalogue.platform_specs("late"))
    late = acknowledged("c-9", "late")
    await produce(settings.bootstrap, catalogue.ingress("late"), [record(late)])
    await produce(settings.bootstrap, catalogue.ingress("acme"), [(b"c-1", b"\x07junk", [])])
    await ingress_worker()
    async with TopicReader(settings.bootstrap, catalogue.deadletter) as r:
        await r.read_until(lambda rs: len(rs) >= 2, WAIT, "two dead letters")

    listing = await acli(settings, "deadletter", "ls", "--reason", "UNKNOWN_PLATFORM")
    assert "UNKNOWN_PLATFORM" in listing.output and "BAD_MAGIC" not in listing.output
    entries = await read_deadletters(settings, reason=DeadLetterReason.UNKNOWN_PLATFORM)
    shown = await acli(settings, "deadletter", "show", str(entries[0].offset))
    assert "decodes as ComplaintAcknowledged" in shown.output and "/platforms/late" in shown.output

    assert (await acli(settings, "platform", "add", "late")).exit_code == 0
    dry = await acli(settings, "deadletter", "redrive", "--dry-run")
    assert "would redrive 2 record(s)" in dry.output
    first = await acli(settings, "deadletter", "redrive", "--reason", "UNKNOWN_PLATFORM")
    assert "redrove 1 record(s)" in first.output, first.output
    again = await acli(settings, "deadletter", "redrive", "--reason", "UNKNOWN_PLATFORM")
    assert "redrove 0 record(s)" in again.output and "skipped 1 already" in again.output
    # the rest: the junk goes round once more and comes back as a new dead letter
    rest = await acli(settings, "deadletter", "redrive")
    assert "redrove 1 record(s)" in rest.output and "skipped 1 already" in rest.output

    complaints = catalogue.cases(CaseFamily.COMPLAINTS)
    async with TopicReader(settings.bootstrap, complaints, catalogue.deadletter) as r:
        await r.read_until(
            lambda rs: sum(m.topic == catalogue.deadletter for m in rs) >= 3
            and any(m.topic == complaints for m in rs), WAIT, "late's event routed, junk back",
        )  # fmt: skip
        await r.settle(quiet=1.0, timeout=10)
    routed = [m for m in r.records if m.topic == complaints]
    assert [header_dict(m.headers)["ce_id"] for m in routed] == [late.event_id.encode()]
    assert sum(m.topic == catalogue.deadletter for m in r.records) == 3
    final = await acli(settings, "deadletter", "redrive", "--dry-run")
    assert "would redrive 1 record(s)" in final.output  # only the junk's new dead letter
