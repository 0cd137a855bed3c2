"""The one mapping between the pydantic models and the Avro records.

Avro side: a plain dict per record; ``timestamp-millis`` fields are aware UTC datetimes
(fastavro's logical types turn them into epoch millis and back), enums are their symbol
strings, ``bytes`` are bytes, optional fields are None. The models already hold values in
exactly that shape (``StrEnum`` members *are* strings, datetimes are UTC at millisecond
precision), so the mapping is mostly the identity; it exists so the shape is decided once.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

from schemas.models import EVENT_TYPES, Event

AvroRecord = dict[str, Any]


def _has_nested_model(model: type[Event]) -> bool:
    for info in model.model_fields.values():
        if any(isinstance(a, type) and issubclass(a, BaseModel) for a in _walk(info.annotation)):
            return True
    return False


def _walk(tp: Any) -> list[Any]:
    out = [tp]
    for arg in get_args(tp):
        out.extend(_walk(arg))
    return out


# Flat models hand fastavro their own field dict (no copy: fastavro only reads it); models
# with nested records (DeadLetterRecord's headers) are dumped to plain dicts first.
_NESTED: frozenset[type[Event]] = frozenset(m for m in EVENT_TYPES.values() if _has_nested_model(m))


def to_avro(event: Event) -> AvroRecord:
    """The Avro record for ``event`` (read-only: may share the model's own storage)."""
    if type(event) in _NESTED:
        return event.model_dump()
    return event.__dict__


def from_avro(event_name: str, record: AvroRecord) -> Event:
    """Validate a decoded record into its model (raises KeyError / pydantic ValidationError)."""
    return EVENT_TYPES[event_name].model_validate(record)
