"""A spot-check campaign (双随机一公开 云抽查) as a pure state machine over immutable values.

    planned ─▶ sampled ─▶ checking (one room after another) ─▶ closed

:func:`handle` takes the state (None before the plan) and one event and returns a
:class:`Decision`: the new state, or the unchanged state and the reason the event is refused.
Refused: anything before the plan, a second plan, a second sample, a sample that is not the
one the seed gives (when the plan carries the population) or breaks the rule (room count,
inspectors per room, an inspector outside the pool), a check of a room not in the sample or
by inspectors not assigned to it, a second check of a room, a result that contradicts its
codes, a close before every sampled room is recorded (checked, or recorded NOT_CHECKED),
figures that differ from the rooms recorded, and anything after the close. A resent event
(same event id) changes nothing and is not refused. Negative-list codes are checked at
ingress against the list in force (:mod:`agents.core.negative_list`); ``known_codes`` lets a
caller check them here as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from agents.core.errors import DomainError
from agents.core.sampling import SAMPLER_ID, SamplingError, canonical, draw, population_digest
from schemas.models import (
    Event,
    RoomCheckResult,
    SpotCheckCampaignClosed,
    SpotCheckCampaignPlanned,
    SpotCheckRoomChecked,
    SpotCheckRoomsSampled,
)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class CampaignStatus(StrEnum):
    PLANNED = "PLANNED"
    SAMPLED = "SAMPLED"
    CHECKING = "CHECKING"
    CLOSED = "CLOSED"


class CampaignError(DomainError):
    """An event the campaign's lifecycle or sampling rule does not allow."""


@dataclass(frozen=True, slots=True)
class RoomRecord:
    live_room_ref: str
    inspectors: tuple[str, ...]
    result: RoomCheckResult
    finding_codes: tuple[str, ...]
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class Figures:
    sampled: int
    checked: int
    clean: int
    with_findings: int
    not_checked: int
    clean_share: float


@dataclass(frozen=True, slots=True)
class CampaignState:
    campaign_id: str
    platform_id: str
    status: CampaignStatus
    month: str
    departments: tuple[str, ...]
    lead_unit: str
    rooms_to_sample: int
    inspectors_per_room: int
    inspector_pool: tuple[str, ...]
    population_size: int
    population_sha256: bytes
    seed: str
    planned_at: datetime
    eligible_rooms: tuple[str, ...] = ()
    """The population when the plan carried it (then the sample is recomputed)."""
    sample: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(room, its inspectors), by room ref."""
    rooms: tuple[RoomRecord, ...] = ()
    """Recorded rooms, in the order recorded."""
    closed: Figures | None = None
    last_event_at: datetime | None = None
    applied: tuple[str, ...] = ()
    """Event ids applied (a resend is recognised by its id)."""

    def assigned(self) -> dict[str, tuple[str, ...]]:
        return dict(self.sample)

    def figures(self) -> Figures:
        """The figures of the rooms recorded so far."""
        checked = [r for r in self.rooms if r.result is not RoomCheckResult.NOT_CHECKED]
        clean = sum(1 for r in checked if r.result is RoomCheckResult.CLEAN)
        return Figures(
            sampled=len(self.sample),
            checked=len(checked),
            clean=clean,
            with_findings=len(checked) - clean,
            not_checked=len(self.rooms) - len(checked),
            clean_share=clean_share(clean, len(checked)),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    state: CampaignState | None
    refused: str | None = None
    duplicate: bool = False


def clean_share(clean: int, checked: int) -> float:
    """clean / checked, rounded to 4 places (0.0 when nothing was checked)."""
    return round(clean / checked, 4) if checked else 0.0


CAMPAIGN_EVENT_TYPES: tuple[type[Event], ...] = (
    SpotCheckCampaignPlanned,
    SpotCheckRoomsSampled,
    SpotCheckRoomChecked,
    SpotCheckCampaignClosed,
)


def handle(
    state: CampaignState | None,
    event: Event,
    *,
    known_codes: Callable[[str, datetime], str | None] | None = None,
) -> Decision:
    """Apply one campaign event; never raises a :class:`CampaignError` (it is the refusal)."""
    if state is not None and event.event_id in state.applied:
        return Decision(state, duplicate=True)
    try:
        new = _step(state, event, known_codes)
    except (CampaignError, SamplingError) as exc:
        return Decision(state, refused=str(exc))
    new = replace(new, last_event_at=event.occurred_at, applied=(*new.applied, event.event_id))
    return Decision(new)


def _step(
    state: CampaignState | None,
    event: Event,
    known_codes: Callable[[str, datetime], str | None] | None,
) -> CampaignState:
    if state is not None and state.campaign_id != event.case_id:
        raise CampaignError(f"event for {event.case_id!r} applied to {state.campaign_id!r}")
    if isinstance(event, SpotCheckCampaignPlanned):
        if state is not None:
            raise CampaignError(f"campaign {event.case_id} is already planned")
        return _planned(event)
    if state is None:
        raise CampaignError(f"{type(event).__name__}: campaign {event.case_id} is not planned")
    if state.platform_id != event.platform_id:
        raise CampaignError(
            f"platform_id {event.platform_id!r} is not the campaign's {state.platform_id!r}"
        )
    if state.status is CampaignStatus.CLOSED:
        raise CampaignError(f"{type(event).__name__}: campaign {state.campaign_id} is closed")
    if isinstance(event, SpotCheckRoomsSampled):
        return _sampled(state, event)
    if isinstance(event, SpotCheckRoomChecked):
        return _checked(state, event, known_codes)
    if isinstance(event, SpotCheckCampaignClosed):
        return _closed(state, event)
    raise CampaignError(f"{type(event).__name__} is not a campaign event")


def _planned(e: SpotCheckCampaignPlanned) -> CampaignState:
    if not e.case_id:
        raise CampaignError("case_id: the campaign id is empty")
    if not _MONTH.match(e.month):
        raise CampaignError(f"month: {e.month!r} is not YYYY-MM")
    if not e.departments:
        raise CampaignError("departments: a joint campaign names its departments")
    if len(set(e.departments)) != len(e.departments):
        raise CampaignError("departments: a department is listed twice")
    if e.sampler != SAMPLER_ID:
        raise CampaignError(f"sampler: {e.sampler!r} is unknown (this core knows {SAMPLER_ID})")
    pool = canonical(e.inspector_pool)
    if len(pool) != len(e.inspector_pool):
        raise CampaignError("inspector_pool: an inspector is listed twice")
    if e.inspectors_per_room < 1 or e.inspectors_per_room > len(pool):
        raise CampaignError(
            f"inspectors_per_room: {e.inspectors_per_room} is outside 1..{len(pool)} (the pool)"
        )
    if e.rooms_to_sample < 1 or e.rooms_to_sample > e.population_size:
        raise CampaignError(
            f"rooms_to_sample: {e.rooms_to_sample} is outside 1..{e.population_size}"
        )
    if len(e.population_sha256) != 32:
        raise CampaignError("population_sha256: not a SHA-256 digest (32 bytes)")
    if e.eligible_rooms:
        rooms = canonical(e.eligible_rooms)
        if len(rooms) != e.population_size:
            raise CampaignError(
                f"population_size: {e.population_size} but {len(rooms)} distinct eligible rooms"
            )
        if population_digest(rooms) != e.population_sha256:
            raise CampaignError("population_sha256: not the digest of eligible_rooms")
    return CampaignState(
        campaign_id=e.case_id,
        platform_id=e.platform_id,
        status=CampaignStatus.PLANNED,
        month=e.month,
        departments=tuple(e.departments),
        lead_unit=e.lead_unit,
        rooms_to_sample=e.rooms_to_sample,
        inspectors_per_room=e.inspectors_per_room,
        inspector_pool=pool,
        population_size=e.population_size,
        population_sha256=e.population_sha256,
        seed=e.seed,
        planned_at=e.occurred_at,
        eligible_rooms=canonical(e.eligible_rooms),
    )


def _sampled(state: CampaignState, e: SpotCheckRoomsSampled) -> CampaignState:
    if state.status is not CampaignStatus.PLANNED:
        raise CampaignError(f"campaign {state.campaign_id} is already sampled")
    if e.seed != state.seed:
        raise CampaignError(f"seed: {e.seed!r} is not the planned seed {state.seed!r}")
    if e.sampler != SAMPLER_ID:
        raise CampaignError(f"sampler: {e.sampler!r} is not {SAMPLER_ID}")
    refs = [r.live_room_ref for r in e.rooms]
    if len(set(refs)) != len(refs):
        raise CampaignError("rooms: a live room is sampled twice")
    if len(refs) != state.rooms_to_sample:
        raise CampaignError(f"rooms: {len(refs)} sampled, the rule says {state.rooms_to_sample}")
    pool = set(state.inspector_pool)
    for room in e.rooms:
        if len(set(room.inspectors)) != state.inspectors_per_room or len(room.inspectors) != (
            state.inspectors_per_room
        ):
            raise CampaignError(
                f"rooms: {room.live_room_ref} has {len(room.inspectors)} inspectors, the rule "
                f"says {state.inspectors_per_room} distinct"
            )
        outside = sorted(set(room.inspectors) - pool)
        if outside:
            raise CampaignError(f"rooms: inspectors {outside} are not in the pool")
    sample = tuple(sorted((r.live_room_ref, tuple(sorted(r.inspectors))) for r in e.rooms))
    if state.eligible_rooms:
        outside_rooms = sorted(set(refs) - set(state.eligible_rooms))
        if outside_rooms:
            raise CampaignError(f"rooms: {outside_rooms[:3]} are not in the eligible population")
        expected = tuple(
            (a.live_room_ref, a.inspectors)
            for a in draw(
                state.seed,
                state.eligible_rooms,
                state.rooms_to_sample,
                state.inspector_pool,
                state.inspectors_per_room,
            )
        )
        if sample != expected:
            raise CampaignError(
                f"rooms: not the sample {SAMPLER_ID} draws from seed {state.seed!r}"
            )
    return replace(state, status=CampaignStatus.SAMPLED, sample=sample)


def _checked(
    state: CampaignState,
    e: SpotCheckRoomChecked,
    known_codes: Callable[[str, datetime], str | None] | None,
) -> CampaignState:
    if state.status is CampaignStatus.PLANNED:
        raise CampaignError(f"campaign {state.campaign_id} has no sample yet")
    assigned = state.assigned()
    room = e.live_room_ref
    if room not in assigned:
        raise CampaignError(f"live_room_ref: {room} is not in the campaign's sample")
    if any(r.live_room_ref == room for r in state.rooms):
        raise CampaignError(f"live_room_ref: {room} is already recorded")
    if (
        e.result is not RoomCheckResult.NOT_CHECKED
        and tuple(sorted(e.inspectors)) != (assigned[room])
    ):
        raise CampaignError(
            f"inspectors: {sorted(e.inspectors)} are not the ones assigned to {room} "
            f"{list(assigned[room])}"
        )
    codes = tuple(e.finding_codes)
    if len(set(codes)) != len(codes):
        raise CampaignError("finding_codes: a code is cited twice")
    if e.result is RoomCheckResult.FINDINGS and not codes:
        raise CampaignError("finding_codes: FINDINGS cites at least one negative-list code")
    if e.result is not RoomCheckResult.FINDINGS and codes:
        raise CampaignError(f"finding_codes: a {e.result.value} room cites no codes")
    if known_codes is not None:
        for code in codes:
            why = known_codes(code, e.occurred_at)
            if why is not None:
                raise CampaignError(f"finding_codes: {why}")
    record = RoomRecord(room, tuple(sorted(e.inspectors)), e.result, codes, e.occurred_at)
    return replace(state, status=CampaignStatus.CHECKING, rooms=(*state.rooms, record))


def _closed(state: CampaignState, e: SpotCheckCampaignClosed) -> CampaignState:
    if state.status is CampaignStatus.PLANNED:
        raise CampaignError(f"campaign {state.campaign_id} cannot close before its sample")
    recorded = {r.live_room_ref for r in state.rooms}
    missing = [room for room, _ in state.sample if room not in recorded]
    if missing:
        raise CampaignError(
            f"{len(missing)} sampled rooms are neither checked nor recorded NOT_CHECKED "
            f"(e.g. {missing[0]})"
        )
    mine = state.figures()
    theirs = Figures(
        e.sampled, e.checked, e.clean, e.with_findings, e.not_checked, round(e.clean_share, 4)
    )
    if theirs != mine:
        diff = [
            f"{name} {getattr(theirs, name)} ≠ {getattr(mine, name)}"
            for name in Figures.__dataclass_fields__
            if getattr(theirs, name) != getattr(mine, name)
        ]
        raise CampaignError("figures differ from the rooms recorded: " + "; ".join(diff))
    return replace(state, status=CampaignStatus.CLOSED, closed=mine)


def fold(
    events: list[Event], *, known_codes: Callable[[str, datetime], str | None] | None = None
) -> tuple[dict[str, CampaignState], list[tuple[Event, str]]]:
    """Every campaign the events build, and each refused event with its reason."""
    states: dict[str, CampaignState] = {}
    refused: list[tuple[Event, str]] = []
    for ev in events:
        d = handle(states.get(ev.case_id), ev, known_codes=known_codes)
        if d.refused is not None:
            refused.append((ev, d.refused))
        elif d.state is not None:
            states[ev.case_id] = d.state
    return states, refused


def view(state: CampaignState, refusals: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The campaign as JSON (API, audit report): plan, sample, rooms and figures."""
    fig = state.closed or state.figures()
    return {
        "campaign_id": state.campaign_id,
        "platform_id": state.platform_id,
        "status": state.status.value,
        "month": state.month,
        "departments": list(state.departments),
        "lead_unit": state.lead_unit,
        "rule": {
            "rooms_to_sample": state.rooms_to_sample,
            "inspectors_per_room": state.inspectors_per_room,
            "inspector_pool": list(state.inspector_pool),
            "population_size": state.population_size,
            "population_sha256": state.population_sha256.hex(),
            "seed": state.seed,
            "sampler": SAMPLER_ID,
        },
        "planned_at": state.planned_at.isoformat(),
        "sample": [{"live_room_ref": r, "inspectors": list(i)} for r, i in state.sample],
        "rooms": [
            {
                "live_room_ref": r.live_room_ref,
                "inspectors": list(r.inspectors),
                "result": r.result.value,
                "finding_codes": list(r.finding_codes),
                "checked_at": r.checked_at.isoformat(),
            }
            for r in state.rooms
        ],
        "figures": {
            "sampled": fig.sampled,
            "checked": fig.checked,
            "clean": fig.clean,
            "with_findings": fig.with_findings,
            "not_checked": fig.not_checked,
            "clean_share": fig.clean_share,
        },
        "closed": state.closed is not None,
        "last_event_at": state.last_event_at.isoformat() if state.last_event_at else None,
    }


def to_dict(state: CampaignState) -> dict[str, Any]:
    """``state`` as plain JSON values (the worker's table); :func:`from_dict` reads it back."""
    return {
        "campaign_id": state.campaign_id,
        "platform_id": state.platform_id,
        "status": state.status.value,
        "month": state.month,
        "departments": list(state.departments),
        "lead_unit": state.lead_unit,
        "rooms_to_sample": state.rooms_to_sample,
        "inspectors_per_room": state.inspectors_per_room,
        "inspector_pool": list(state.inspector_pool),
        "population_size": state.population_size,
        "population_sha256": state.population_sha256.hex(),
        "seed": state.seed,
        "planned_at": state.planned_at.isoformat(),
        "eligible_rooms": list(state.eligible_rooms),
        "sample": [[room, list(ins)] for room, ins in state.sample],
        "rooms": [
            [r.live_room_ref, list(r.inspectors), r.result.value, list(r.finding_codes),
             r.checked_at.isoformat()]
            for r in state.rooms
        ],
        "closed": None if state.closed is None else [
            state.closed.sampled, state.closed.checked, state.closed.clean,
            state.closed.with_findings, state.closed.not_checked, state.closed.clean_share,
        ],
        "last_event_at": state.last_event_at.isoformat() if state.last_event_at else None,
        "applied": list(state.applied),
    }  # fmt: skip


def from_dict(raw: Mapping[str, Any]) -> CampaignState:
    closed = raw["closed"]
    last = raw["last_event_at"]
    return CampaignState(
        campaign_id=raw["campaign_id"],
        platform_id=raw["platform_id"],
        status=CampaignStatus(raw["status"]),
        month=raw["month"],
        departments=tuple(raw["departments"]),
        lead_unit=raw["lead_unit"],
        rooms_to_sample=int(raw["rooms_to_sample"]),
        inspectors_per_room=int(raw["inspectors_per_room"]),
        inspector_pool=tuple(raw["inspector_pool"]),
        population_size=int(raw["population_size"]),
        population_sha256=bytes.fromhex(raw["population_sha256"]),
        seed=raw["seed"],
        planned_at=datetime.fromisoformat(raw["planned_at"]),
        eligible_rooms=tuple(raw["eligible_rooms"]),
        sample=tuple((room, tuple(ins)) for room, ins in raw["sample"]),
        rooms=tuple(
            RoomRecord(room, tuple(ins), RoomCheckResult(res), tuple(codes),
                       datetime.fromisoformat(at))
            for room, ins, res, codes, at in raw["rooms"]
        ),
        closed=None if closed is None else Figures(*closed),
        last_event_at=None if last is None else datetime.fromisoformat(last),
        applied=tuple(raw["applied"]),
    )  # fmt: skip
