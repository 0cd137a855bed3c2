"""``regbus publish`` as a script or a person relies on it: --check, --json, refusals before
sending (a future time, a misspelt type, a wrong kind of value), and honest exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.registry import add_platform
from streams.settings import Settings
from streams.topics import Catalogue

from .factories import eid
from .test_cli import acli, write

pytestmark = pytest.mark.broker


def _ack(case_id: str, at: datetime, **extra: object) -> str:
    return json.dumps({"type": "ComplaintAcknowledged", "event_id": eid(), "case_id": case_id,
                       "occurred_at": at.isoformat(), **extra})  # fmt: skip


async def test_check_validates_and_sends_nothing_and_json_says_so(
    settings: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    await add_platform(settings, "acme")
    now = datetime.now(UTC)
    path = write(tmp_path, _ack("c-1", now), _ack("c-2", now))
    result = await acli(settings, "publish", "-p", "acme", "--check", "--json", str(path))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["valid"] == 2 and body["sent"] == 0 and body["check_only"] is True
    sent = await acli(settings, "publish", "-p", "acme", "--json", str(path))
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["sent"] == 2


async def test_refusals_before_sending(
    settings: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    await add_platform(settings, "acme")
    now = datetime.now(UTC)
    # 09:00 Beijing typed with a Z instead of +08:00: eight hours in the future.
    typed_z = (now + timedelta(hours=8)).replace(microsecond=0)
    path = write(
        tmp_path,
        _ack("c-1", typed_z),
        json.dumps(
            {
                "type": "ComplaintAcknowleged",
                "event_id": eid(),
                "case_id": "c-2",
                "occurred_at": now.isoformat(),
            }
        ),
        _ack("c-3", now, handler_ref=17),
    )
    result = await acli(settings, "publish", "-p", "acme", str(path))
    assert result.exit_code == 2
    out = result.output
    assert f"{path}:1: occurred_at:" in out and "ahead of now" in out and "+08:00" in out
    assert f"{path}:2: type: unknown event type 'ComplaintAcknowleged'" in out
    assert "did you mean 'ComplaintAcknowledged'?" in out
    assert f"{path}:3: handler_ref:" in out and "got int 17" in out
    assert "nothing was sent" in out


async def test_skip_invalid_with_every_line_bad_exits_non_zero(
    settings: Settings, catalogue: Catalogue, tmp_path: Path
) -> None:
    await add_platform(settings, "acme")
    path = write(tmp_path, json.dumps({"type": "Nope"}), "not json")
    result = await acli(settings, "publish", "-p", "acme", "--skip-invalid", str(path))
    assert result.exit_code == 2, result.output
    assert "no valid event to send" in result.output
