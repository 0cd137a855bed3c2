"""Derive the Avro record a model implies, so the models and the ``.avsc`` files cannot drift.

The ``.avsc`` files are the wire contract and are edited by hand (with review); this module is
the rulebook that says what Avro shape each Python field type must have. The drift test
compares it against the newest schema of every event, and ``regbus schemas scaffold`` prints
it as the starting point for a new event.
"""

from __future__ import annotations

import types
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from schemas.models import Category, DeadLetterReason, SuspendReason

NAMESPACE = "cn.regbus.events"

# Enums with a catch-all symbol name it as the Avro enum default: a reader that does not know
# a symbol a newer writer sent reads the catch-all instead of failing. Enums without a
# natural catch-all stay strict (an unknown verdict must not silently become another one).
ENUM_DEFAULTS: dict[type[StrEnum], str] = {Category: "OTHER", SuspendReason: "OTHER"}
# From DeadLetterRecord v3 / DeadLetterNotice v2: a reason a reader does not know yet reads as
# INVALID_VALUE; the letter's detail (and its original bytes) still say what happened.
ENUM_DEFAULTS[DeadLetterReason] = "INVALID_VALUE"

AvroType = Any  # a JSON-shaped Avro type: str, list or dict


def _strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _optional_inner(tp: Any) -> Any | None:
    """``T`` when ``tp`` is ``T | None``, else None."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0]
    return None


class _Namer:
    """Emits a named type (enum, record) in full once, then by its full name."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def first(self, name: str) -> bool:
        full = f"{NAMESPACE}.{name}"
        if full in self.seen:
            return False
        self.seen.add(full)
        return True


def _avro_type(tp: Any, namer: _Namer) -> AvroType:
    tp = _strip_annotated(tp)
    if tp is str:
        return "string"
    if tp is bool:
        return "boolean"
    if tp is int:
        return "long"
    if tp is float:
        return "double"
    if tp is bytes:
        return "bytes"
    if tp is datetime:
        return {"type": "long", "logicalType": "timestamp-millis"}
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        return {"type": "array", "items": _avro_type(item, namer)}
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        if not namer.first(tp.__name__):
            return f"{NAMESPACE}.{tp.__name__}"
        enum: dict[str, Any] = {
            "type": "enum",
            "name": tp.__name__,
            "symbols": [m.value for m in tp],
        }
        if tp in ENUM_DEFAULTS:
            enum["default"] = ENUM_DEFAULTS[tp]
        return enum
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if not namer.first(tp.__name__):
            return f"{NAMESPACE}.{tp.__name__}"
        return _record(tp, namer, with_namespace=False)
    raise TypeError(f"no Avro mapping for {tp!r}")


def _json_default(model: type[BaseModel], name: str, value: Any) -> Any:
    # Avro defaults are JSON; only scalars (and enum symbols) have an obvious spelling.
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{model.__name__}.{name}: default {value!r} has no Avro JSON form")


def _record(model: type[BaseModel], namer: _Namer, *, with_namespace: bool) -> dict[str, Any]:
    fields: list[dict[str, Any]] = []
    for name, info in model.model_fields.items():
        inner = _optional_inner(info.annotation)
        field: dict[str, Any] = {"name": name}
        if inner is not None:
            field["type"] = ["null", _avro_type(inner, namer)]
            if info.default is not None:
                raise TypeError(f"{model.__name__}.{name}: optional fields default to None")
            field["default"] = None
        else:
            field["type"] = _avro_type(info.annotation, namer)
            if not info.is_required():
                field["default"] = _json_default(model, name, info.default)
        if info.description:
            field["doc"] = info.description
        fields.append(field)
    record: dict[str, Any] = {"type": "record", "name": model.__name__}
    if with_namespace:
        record["namespace"] = NAMESPACE
    doc = (model.__doc__ or "").strip().split("\n\n")[0]
    if doc:
        record["doc"] = " ".join(doc.split())
    record["fields"] = fields
    return record


def avro_schema_for(model: type[BaseModel]) -> dict[str, Any]:
    """The Avro record schema (JSON-shaped) that ``model`` implies, docs included."""
    return _record(model, _Namer(), with_namespace=True)


def without_docs(schema: Any) -> Any:
    """``schema`` with every ``doc`` removed (docs may be edited freely; shape may not)."""
    if isinstance(schema, dict):
        return {k: without_docs(v) for k, v in schema.items() if k != "doc"}
    if isinstance(schema, list):
        return [without_docs(v) for v in schema]
    return schema
