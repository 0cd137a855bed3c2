"""``regbus rules record | ls`` through the real broker: bad input names the field; a change is
recorded once as the bureau and read back."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from regbus.cli import app
from streams.settings import Settings

pytestmark = pytest.mark.broker
runner = CliRunner()


def cli(settings: Settings, *args: str) -> Any:
    env = {
        "REGBUS_BOOTSTRAP": settings.bootstrap,
        "REGBUS_TOPIC_PREFIX": settings.topic_prefix,
        "REGBUS_STATE_DIR": str(settings.state_dir),
        "COLUMNS": "250",
    }
    return runner.invoke(app, list(args), env=env)


GOOD = ["rules", "record", "--platform", "kuaisong", "--rule", "insured-delivery",
        "--title", "同城即时配送保价规则", "--effective", "2026-10-03",
        "--category", "DELIVERY_GOODS_DAMAGE", "--new-text", "下单时弹窗说明保价",
        "--advice-ref", "东升镇所建议", "--unit", "hd-ds"]  # fmt: skip


def test_bad_input_names_the_field(tmp_path: Path) -> None:
    settings = Settings(topic_prefix=f"t{uuid.uuid4().hex[:10]}", state_dir=tmp_path)
    r = cli(settings, *[("2026-13-01" if a == "2026-10-03" else a) for a in GOOD])
    assert r.exit_code != 0 and "--effective" in r.output
    r = cli(settings, *[("NOT_A_CATEGORY" if a == "DELIVERY_GOODS_DAMAGE" else a) for a in GOOD])
    assert r.exit_code == 1 and "categories" in r.output
    no_text = [a for a in GOOD if a not in ("--new-text", "下单时弹窗说明保价")]
    r = cli(settings, *no_text)
    assert r.exit_code == 1 and "new_text" in r.output
    r = cli(settings, *[("Bad.Id" if a == "kuaisong" else a) for a in GOOD])
    assert r.exit_code != 0 and "--platform" in r.output


def test_record_once_and_list(bootstrap: str, tmp_path: Path) -> None:
    settings = Settings(bootstrap=bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                        state_dir=tmp_path)  # fmt: skip
    first = cli(settings, *GOOD)
    assert first.exit_code == 0, first.output
    assert "recorded" in first.output
    again = cli(settings, *GOOD)
    assert again.exit_code == 0 and "already recorded" in again.output
    listed = cli(settings, "rules", "ls", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert (row["platform_id"], row["rule_id"], row["recorded_by"]) == (
        "kuaisong", "insured-delivery", "hd-ds",
    )  # fmt: skip
    assert row["effective_from"].startswith("2026-10-02T16:00")  # 00:00 Beijing
