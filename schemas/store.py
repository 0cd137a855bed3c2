"""Where schema ids come from: the committed lock file, or a Confluent-compatible registry.

A store answers three questions for the codec, each from a cache after the first call:
which id and parsed schema a writer uses for an event (always its newest version), which
parsed schema a reader reads into (also the newest), and what an id on the wire means.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from fastavro import parse_schema

from schemas.lock import Lock, read_lock
from schemas.repository import Histories, SchemaVersion, histories

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

REGISTRY_URL_ENV = "SCHEMA_REGISTRY_URL"
_MAX_ABSENT = 10_000

ParsedSchema = Any  # fastavro's parsed schema (a dict it owns)


def parse(schema: Mapping[str, Any]) -> ParsedSchema:
    # A fresh named-type table per schema: v1 and v2 of one event both define the same
    # record and enum names, which must not collide.
    return parse_schema(dict(schema), named_schemas={})


@dataclass(frozen=True)
class WriterSchema:
    schema_id: int
    event_name: str
    parsed: ParsedSchema


@dataclass(frozen=True)
class ResolvedId:
    """What a schema id on the wire means for this reader."""

    schema_id: int
    event_name: str
    writer: ParsedSchema
    reader: ParsedSchema | None
    """The newest schema to read into, or None when the writer already is the newest."""


class SchemaStore(Protocol):
    def writer(self, event_name: str) -> WriterSchema: ...

    def resolve(self, schema_id: int) -> ResolvedId | None: ...

    def event_names(self) -> tuple[str, ...]: ...


class _BaseStore:
    """Shared caching: newest parsed schema per event and resolved ids."""

    def __init__(self, hist: Histories) -> None:
        self._hist = hist
        self._newest: dict[str, ParsedSchema] = {
            name: parse(versions[-1].schema) for name, versions in hist.items()
        }
        self._writers: dict[str, WriterSchema] = {}
        self._ids: dict[int, ResolvedId] = {}

    def event_names(self) -> tuple[str, ...]:
        return tuple(self._hist)

    def _resolved(self, schema_id: int, sv: SchemaVersion) -> ResolvedId:
        is_newest = sv.version == len(self._hist[sv.subject])
        writer = self._newest[sv.subject] if is_newest else parse(sv.schema)
        reader = None if is_newest else self._newest[sv.subject]
        return ResolvedId(schema_id, sv.subject, writer, reader)


class LocalSchemaStore(_BaseStore):
    """Ids from the committed lock file; no network."""

    def __init__(self, hist: Histories | None = None, lock: Lock | None = None) -> None:
        super().__init__(hist if hist is not None else histories())
        lock = lock if lock is not None else read_lock()
        for name, versions in self._hist.items():
            for sv in versions:
                entry = lock.get((name, sv.version))
                if entry is None or entry.fingerprint != sv.fingerprint:
                    raise LookupError(
                        f"{name} v{sv.version} is not pinned in the lock file "
                        "(run `regbus schemas lock`)"
                    )
                self._ids[entry.id] = self._resolved(entry.id, sv)
                if sv.version == len(versions):
                    self._writers[name] = WriterSchema(entry.id, name, self._newest[name])

    def writer(self, event_name: str) -> WriterSchema:
        return self._writers[event_name]

    def resolve(self, schema_id: int) -> ResolvedId | None:
        return self._ids.get(schema_id)


class RegistrySchemaStore(_BaseStore):
    """Ids from a Confluent-compatible schema registry (subject = event name).

    Every committed version is registered oldest first (registering an existing schema is a
    no-op that returns its id). Ids the registry knows but this process has not seen (written
    by a newer producer) are fetched once and cached.
    """

    def __init__(self, client: SchemaRegistryClient, hist: Histories | None = None) -> None:
        from confluent_kafka.schema_registry import Schema

        super().__init__(hist if hist is not None else histories())
        self._client = client
        self._absent: set[int] = set()
        for name, versions in self._hist.items():
            for sv in versions:
                schema_id = client.register_schema(name, Schema(sv.text, "AVRO"))
                self._ids[schema_id] = self._resolved(schema_id, sv)
                if sv.version == len(versions):
                    self._writers[name] = WriterSchema(schema_id, name, self._newest[name])

    @classmethod
    def from_url(cls, url: str) -> RegistrySchemaStore:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        client = SchemaRegistryClient.new_client({"url": url})
        if not url.startswith("mock://"):  # the mock has no config endpoint
            for name in histories():
                client.set_compatibility(subject_name=name, level="BACKWARD_TRANSITIVE")
        return cls(client)

    def writer(self, event_name: str) -> WriterSchema:
        return self._writers[event_name]

    def resolve(self, schema_id: int) -> ResolvedId | None:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        found = self._ids.get(schema_id)
        if found is not None or schema_id in self._absent:
            return found
        try:
            schema = json.loads(self._client.get_schema(schema_id).schema_str or "")
            name = str(schema["name"]).rsplit(".", 1)[-1]
            writer = parse(schema)
        except SchemaRegistryError as exc:
            # Remember definite "no such id" answers (bounded), so garbage input cannot turn
            # into one registry request per record; transient failures are retried next time.
            if exc.http_status_code == 404 and len(self._absent) < _MAX_ABSENT:
                self._absent.add(schema_id)
            return None
        except Exception:  # unreachable, or not an Avro record: unknown to this reader
            return None
        if name not in self._newest:
            return None
        self._ids[schema_id] = ResolvedId(schema_id, name, writer, self._newest[name])
        return self._ids[schema_id]


@cache
def _local_store() -> LocalSchemaStore:
    return LocalSchemaStore()


class RegistryUnavailableError(RuntimeError):
    """The schema registry ``SCHEMA_REGISTRY_URL`` names cannot be used; the message says why."""


@cache
def _registry_store(url: str) -> RegistrySchemaStore:
    try:
        return RegistrySchemaStore.from_url(url)
    except Exception as exc:  # unreachable, refused, not a registry: one line, not a traceback
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RegistryUnavailableError(
            f"the schema registry at {url} ({REGISTRY_URL_ENV}) cannot be used: {reason[:200]}"
        ) from exc


def default_store() -> SchemaStore:
    """The registry named by ``SCHEMA_REGISTRY_URL`` if set, else the committed lock file."""
    url = os.environ.get(REGISTRY_URL_ENV)
    if url:
        return _registry_store(url)
    return _local_store()
