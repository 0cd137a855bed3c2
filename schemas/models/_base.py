"""The base event and the constrained field types every event is built from.

The field types mirror what the Avro wire can carry, so a model that validates always
encodes, and a decoded record compares equal to the model that produced it:

* times are aware, normalised to UTC and truncated to milliseconds (Avro ``timestamp-millis``);
* integers are strict (no ``"12"`` or ``True`` sneaking in) and fit a signed 64-bit ``long``;
* floats are finite (NaN would make an event unequal to itself and is not valid JSON).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

MIN_LONG = -(2**63)
MAX_LONG = 2**63 - 1


def _to_utc_millis(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        # Platform input with no zone is ambiguous (Beijing or UTC?), so it is refused rather
        # than guessed; a wrong guess would shift every SLA deadline by eight hours.
        raise ValueError("naive datetime: give an explicit timezone, e.g. 2025-03-01T08:00:00Z")
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:  # e.g. datetime.min with a positive offset
        raise ValueError(f"datetime out of range in UTC: {value!r}") from exc
    return utc.replace(microsecond=utc.microsecond - utc.microsecond % 1000, fold=0)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc_millis)]
"""An aware datetime, normalised to UTC at millisecond precision (the wire precision)."""

Long = Annotated[int, Strict(), Field(ge=MIN_LONG, le=MAX_LONG)]
NonNegativeLong = Annotated[int, Strict(), Field(ge=0, le=MAX_LONG)]
Fen = NonNegativeLong
"""Money in integer fen (1/100 yuan); never negative."""
Double = Annotated[float, Field(allow_inf_nan=False)]
StrictBool = Annotated[bool, Strict()]
NonEmptyStr = Annotated[str, Field(min_length=1)]


class Event(BaseModel):
    """A fact that happened: the common fields every event carries, in wire order.

    Subclasses are the concrete event types; each gets ``EVENT_NAME`` (its class name, also
    the Avro record name and the schema-registry subject) and ``CE_TYPE`` (the CloudEvents
    type ``regbus.<EventName>.v1``, which stays ``.v1`` while the schema evolves compatibly).
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
    )

    EVENT_NAME: ClassVar[str] = "Event"
    CE_TYPE: ClassVar[str] = "regbus.Event.v1"

    event_id: NonEmptyStr
    case_id: str
    platform_id: str
    occurred_at: UtcDatetime

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.EVENT_NAME = cls.__name__
        cls.CE_TYPE = f"regbus.{cls.__name__}.v1"
