"""Hypothesis strategies derived from the pydantic models (no hand-written per-event lists).

Every field's strategy follows its annotation and constraints, so a new event or field is
covered by the property tests as soon as it exists.
"""

from __future__ import annotations

import types
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

# Offsets a platform might send; the models normalise them all to UTC.
_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
)
# A day of margin at both ends so any offset stays inside datetime's range.
DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES
)


def _constraints(items: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if isinstance(item, FieldInfo):
            out.update(_constraints(list(item.metadata)))
        elif isinstance(item, annotated_types.Ge):
            out["min_value"] = item.ge
        elif isinstance(item, annotated_types.Le):
            out["max_value"] = item.le
        elif isinstance(item, annotated_types.MinLen):
            out["min_size"] = item.min_length
    return out


def for_type(tp: Any, meta: list[Any]) -> st.SearchStrategy[Any]:
    if get_origin(tp) is Annotated:
        inner, *extra = get_args(tp)
        return for_type(inner, [*meta, *extra])
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        (inner,) = args
        return st.none() | for_type(inner, meta)
    limits = _constraints(meta)
    if tp is str:
        return st.text(min_size=limits.get("min_size", 0), max_size=40)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(limits.get("min_value"), limits.get("max_value"))
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is bytes:
        return st.binary(max_size=64)
    if tp is datetime:
        return DATETIMES
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        return st.lists(for_type(item, []), max_size=4)
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        return st.sampled_from(list(tp))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model_strategy(tp)
    raise TypeError(f"no strategy for {tp!r}")


def _build(model: type[BaseModel], values: dict[str, Any]) -> BaseModel | None:
    try:
        return model.model_validate(values)
    except ValidationError:  # e.g. a random consumer_ref that looks like a phone number
        return None


@cache
def model_strategy(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    fields = {
        name: for_type(info.annotation, list(info.metadata))
        for name, info in model.model_fields.items()
    }
    return (
        st.fixed_dictionaries(fields)
        .map(lambda values: _build(model, values))
        .filter(lambda built: built is not None)
    )
