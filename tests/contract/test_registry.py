"""Schema registry mode (SCHEMA_REGISTRY_URL): register, resolve by id, upcast; via the mock."""

from __future__ import annotations

import json
import uuid
from io import BytesIO

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from fastavro import schemaless_writer

from schemas import store as store_module
from schemas.mapping import to_avro
from schemas.models import DeadLetterReason
from schemas.repository import histories
from schemas.store import RegistrySchemaStore, default_store, parse
from streams.codec import DecodeError, EventCodec

from .examples import complaint_filed


@pytest.fixture
def client() -> SchemaRegistryClient:
    return SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})


def test_every_version_is_registered_under_its_event_name(client: SchemaRegistryClient) -> None:
    RegistrySchemaStore(client)
    for name, versions in histories().items():
        assert sorted(client.get_versions(name)) == list(range(1, len(versions) + 1))
        for sv in versions:
            registered = client.get_version(name, sv.version)
            assert json.loads(str(registered.schema.schema_str)) == sv.schema


def test_codec_round_trip_uses_registry_ids(client: SchemaRegistryClient) -> None:
    codec = EventCodec(RegistrySchemaStore(client))
    event = complaint_filed()
    value = codec.encode_value(event)
    v2_id = client.get_latest_version("ComplaintFiled").schema_id
    assert v2_id is not None
    assert value[:5] == b"\x00" + v2_id.to_bytes(4, "big")
    assert codec.decode(value) == event
    # A second process over the same registry gets the same ids (registering is idempotent).
    assert EventCodec(RegistrySchemaStore(client)).decode(value) == event


def test_unknown_id_is_a_decode_error(client: SchemaRegistryClient) -> None:
    codec = EventCodec(RegistrySchemaStore(client))
    with pytest.raises(DecodeError) as info:
        codec.decode(b"\x00\x00\x01\x00\x00\x00")
    assert info.value.reason is DeadLetterReason.UNKNOWN_SCHEMA_ID


def test_a_newer_producers_schema_is_fetched_and_read_into_ours(
    client: SchemaRegistryClient,
) -> None:
    codec = EventCodec(RegistrySchemaStore(client))
    v3 = json.loads(json.dumps(histories()["ComplaintFiled"][-1].schema))
    v3["fields"].append({"name": "channel_detail", "type": ["null", "string"], "default": None})
    v3_id = client.register_schema("ComplaintFiled", Schema(json.dumps(v3), "AVRO"))
    event = complaint_filed()
    record = {**to_avro(event), "channel_detail": "wechat mini-program"}
    out = BytesIO(b"\x00" + v3_id.to_bytes(4, "big"))
    out.seek(5)
    schemaless_writer(out, parse(v3), record)
    assert codec.decode(out.getvalue()) == event  # the unknown field is dropped on read


def test_default_store_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", f"mock://{uuid.uuid4().hex}")
    assert isinstance(default_store(), RegistrySchemaStore)
    monkeypatch.delenv("SCHEMA_REGISTRY_URL")
    assert isinstance(default_store(), store_module.LocalSchemaStore)
