"""``regbus roster load | set | ls`` against the broker, and the file checks without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents.roster_file import RosterFileError, read_roster_file
from regbus.cli import app
from streams.settings import Settings

runner = CliRunner()

CSV = "\n".join(
    [
        "platform_id,office,department,leader,effective_from,"
        "office_contacts,department_contacts,leader_contacts",
        "acme,HD-ZGC,CONSUMER_PROTECTION,WANG-JU,2026-01-01,"
        "zgc.duty@hd.example.cn,zhang.wei;li.na@hd.example.cn,wang.ju@hd.example.cn",
        "shopco,HD-XSQ,E_COMMERCE,LI-JU,2026-01-01,,chen.jie,li.ju@hd.example.cn",
        "bureau,HD-JG,INFORMATION_TECHNOLOGY,WANG-JU,2026-01-01,,it.duty,",
        "",
    ]
)


def cli(settings: Settings, *args: str) -> Any:
    env = {
        "REGBUS_BOOTSTRAP": settings.bootstrap,
        "REGBUS_TOPIC_PREFIX": settings.topic_prefix,
        "REGBUS_STATE_DIR": str(settings.state_dir),
        "COLUMNS": "250",
    }
    return runner.invoke(app, list(args), env=env)


def test_every_bad_field_is_named_by_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_text(
        "platform_id,office,department,leader,effective_from\n"
        "acme,HD-ZGC,CP,WANG,2026-01-01\n"
        "Bad Id,HD-ZGC,CP,WANG,2026-01-01\n"
        "shopco,,CP,WANG,tomorrow\n",
        encoding="utf-8",
    )
    with pytest.raises(RosterFileError) as caught:
        read_roster_file(bad)
    got = [(e.line, e.field) for e in caught.value.errors]
    assert got == [(3, "platform_id"), (4, "office"), (4, "effective_from")]
    assert str(caught.value.errors[0]).startswith(f"{bad}:3:platform_id: ")
    yml = tmp_path / "roster.yaml"
    yml.write_text(
        "roster:\n"
        "  - platform_id: acme\n"
        "    office: HD-ZGC\n"
        "    department: CP\n"
        "    leader: WANG\n"
        "    effective_from: 2026-01-01\n"
        "    department_contacts: [zhang.wei]\n"
        "  - platform_id: shopco\n"
        "    office: HD-XSQ\n"
        "    department: CP\n"
        "    leader: LI\n"
        "    effective_from: 2026-13-01\n"
        "    colour: blue\n",
        encoding="utf-8",
    )
    with pytest.raises(RosterFileError) as caught:
        read_roster_file(yml)
    assert [(e.line, e.field) for e in caught.value.errors] == [
        (13, "colour"),
        (12, "effective_from"),
    ]


def test_same_content_same_ids_so_a_reload_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(CSV, encoding="utf-8")
    first, again = read_roster_file(path), read_roster_file(path)
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert first[0].department_contacts == ["zhang.wei", "li.na@hd.example.cn"]
    assert first[0].effective_from.isoformat() == "2025-12-31T16:00:00+00:00"  # 00:00 +08:00


@pytest.mark.broker
def test_load_set_and_ls_through_the_topic(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(CSV, encoding="utf-8")
    loaded = cli(settings, "roster", "load", str(path))
    assert loaded.exit_code == 0, loaded.output
    assert "3 rows, 3 published, 0 already" in loaded.output
    reloaded = cli(settings, "roster", "load", str(path))
    assert "3 rows, 0 published, 3 already" in reloaded.output, reloaded.output
    moved = cli(settings, "roster", "set", "acme", "--office", "HD-HDJ", "--department",
                "CONSUMER_PROTECTION", "--leader", "LI-JU", "--from", "2026-03-01",
                "--department-contact", "zhang.wei")  # fmt: skip
    assert moved.exit_code == 0 and "assigned: acme → HD-HDJ" in moved.output, moved.output
    before = json.loads(cli(settings, "roster", "ls", "--json", "--at", "2026-02-28").output)
    after = json.loads(cli(settings, "roster", "ls", "--json", "--at", "2026-03-01").output)
    by = {r["platform_id"]: r for r in before["roster"]}
    assert by["acme"]["office"] == "HD-ZGC" and set(by) == {"acme", "shopco", "bureau"}
    assert {r["platform_id"]: r["office"] for r in after["roster"]}["acme"] == "HD-HDJ"
    assert after["at"] == "2026-03-01T00:00:00+08:00"
    table = cli(settings, "roster", "ls", "--at", "2026-03-01")
    assert "HD-HDJ" in table.output and "3 platform(s)" in table.output
    broken = tmp_path / "bad.csv"
    broken.write_text("platform_id,office\nacme,HD\n", encoding="utf-8")
    refused = cli(settings, "roster", "load", str(broken))
    assert refused.exit_code == 1 and "bad.csv:2:department: missing" in refused.output
