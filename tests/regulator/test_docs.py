"""docs/regulator.md cannot rot: commands parse, URLs exist, numbers are the policy's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from agents.scorecard import SignalsPolicy
from agents.web import OPENAPI
from regbus.cli.alerts import app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "regulator.md").read_text(encoding="utf-8")
COMMANDS = [
    shlex.split(line.split("#")[0]) for line in re.findall(r"^regbus alerts .+$", DOC, re.M)
]
URLS = re.findall(r"localhost:6066(/[^?'\s]*)", DOC)


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(c[2:4]) for c in COMMANDS])
def test_documented_commands_parse(argv: list[str]) -> None:
    group = typer.main.get_command(app)
    name, *args = argv[2:]
    command = group.commands[name]  # type: ignore[attr-defined]
    command.make_context(name, list(args))  # raises on an unknown option or a bad value


def test_documented_urls_are_in_the_openapi_document() -> None:
    templates = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$") for p in OPENAPI["paths"]]
    assert URLS
    for url in URLS:
        assert any(t.match(url) for t in templates), url


def test_documented_thresholds_are_the_policy() -> None:
    policy = SignalsPolicy.load()
    surge, settlement = policy.surge, policy.settlement
    assert f"≥ {surge.factor:g} × the mean of the {surge.baseline_weeks} weeks" in DOC
    assert f"and ≥ {surge.min_count};" in DOC
    assert f"< {settlement.target * 100:g} %, with ≥ {settlement.min_resolved} resolved" in DOC
    assert f"for {policy.keep_days}\n   days" in DOC or f"for {policy.keep_days} days" in DOC
