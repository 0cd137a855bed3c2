"""The AsyncAPI document: derived from the catalogue, and valid for the official validator."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import avro.schema
import pytest
import yaml
from typer.testing import CliRunner

from regbus.cli.schemas import app
from schemas.repository import histories
from schemas.store import parse
from streams.asyncapi import AVRO_SCHEMA_FORMAT, asyncapi_document
from streams.topics import Catalogue

from .conftest import AsyncApiCli

CATALOGUE = Catalogue("regbus", platforms=("meituan", "xianyu"))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    doc: dict[str, Any] = asyncapi_document(CATALOGUE, replicas=1)
    return doc


def _channel_for(doc: dict[str, Any], topic: str) -> dict[str, Any]:
    channels: list[dict[str, Any]] = [c for c in doc["channels"].values() if c["address"] == topic]
    assert len(channels) == 1, topic
    return channels[0]


def test_every_topic_is_a_channel_with_its_kafka_binding(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    for spec in CATALOGUE:
        kafka = _channel_for(document, spec.name)["bindings"]["kafka"]
        assert kafka["topic"] == spec.name
        assert kafka["partitions"] == spec.partitions
        assert kafka["replicas"] == 1
        assert kafka["topicConfiguration"]["cleanup.policy"] == [spec.cleanup_policy]
        assert kafka["topicConfiguration"]["retention.ms"] == spec.retention_ms


def test_platform_topics_also_appear_as_templates(document: dict[str, Any]) -> None:
    template = _channel_for(document, "regbus.ingress.{platformId}")
    assert "platformId" in template["parameters"]


def test_messages_carry_the_newest_avro_schema(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    for name, versions in histories().items():
        if name not in messages:
            continue
        payload = messages[name]["payload"]
        assert payload["schemaFormat"] == AVRO_SCHEMA_FORMAT
        assert payload["schema"] == versions[-1].schema
        assert messages[name]["bindings"]["kafka"]["schemaIdPayloadEncoding"] == "confluent"
    for spec in CATALOGUE:
        channel = _channel_for(document, spec.name)
        assert set(channel["messages"]) == set(spec.value_schemas)
        for ref in channel["messages"].values():
            assert ref["$ref"].removeprefix("#/components/messages/") in messages


def test_avro_payloads_parse(document: dict[str, Any]) -> None:
    # `asyncapi validate` (4.1.1) does not look inside Avro payloads (a misspelt Avro type
    # passes), so the payloads are parsed here with both Avro implementations.
    for name, message in document["components"]["messages"].items():
        payload = message["payload"]
        if payload.get("schemaFormat") != AVRO_SCHEMA_FORMAT:
            continue
        parse(payload["schema"])
        avro.schema.parse(json.dumps(payload["schema"]))
        assert payload["schema"]["name"] == name


def test_every_operation_references_its_channel(document: dict[str, Any]) -> None:
    for op in document["operations"].values():
        cid = op["channel"]["$ref"].removeprefix("#/channels/")
        assert cid in document["channels"]
        for ref in op["messages"]:
            assert ref["$ref"].startswith(f"#/channels/{cid}/messages/")


def test_official_validator_accepts_the_document(
    asyncapi_cli: AsyncApiCli, document: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(document))
    result = asyncapi_cli.validate(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout + result.stderr


def _broken(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    no_partitions = copy.deepcopy(document)
    next(iter(no_partitions["channels"].values()))["bindings"]["kafka"]["partitions"] = 0
    bad_ref = copy.deepcopy(document)
    next(iter(bad_ref["operations"].values()))["channel"] = {"$ref": "#/channels/nowhere"}
    bad_message = copy.deepcopy(document)
    bad_message["components"]["messages"]["ComplaintFiled"]["contentType"] = 5
    return [
        ("partitions 0", no_partitions),
        ("dangling ref", bad_ref),
        ("bad message", bad_message),
    ]


def test_official_validator_rejects_broken_documents(
    asyncapi_cli: AsyncApiCli, document: dict[str, Any], tmp_path: Path
) -> None:
    for label, broken in _broken(document):
        path = tmp_path / f"{label.replace(' ', '-')}.json"
        path.write_text(json.dumps(broken))
        result = asyncapi_cli.validate(path)
        assert result.returncode != 0, f"{label}: validator accepted a broken document"


def test_cli_writes_yaml_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "asyncapi.yaml"
    result = runner.invoke(app, ["asyncapi", "--out", str(out), "--platform", "meituan"])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(out.read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert any(c["address"].endswith(".ingress.meituan") for c in doc["channels"].values())
    result = runner.invoke(app, ["asyncapi"])
    assert result.exit_code == 0 and json.loads(result.output)["asyncapi"] == "3.0.0"
