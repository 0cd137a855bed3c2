"""Campaign events for the tests: a plan over a small population, its sample, checks, close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agents.core.sampling import SAMPLER_ID, draw, population_digest
from schemas.models import (
    RoomCheckResult,
    SampledRoom,
    SpotCheckCampaignClosed,
    SpotCheckCampaignPlanned,
    SpotCheckRoomChecked,
    SpotCheckRoomsSampled,
)

T0 = datetime(2026, 9, 22, 2, 0, tzinfo=UTC)
CAMPAIGN = "SC-2026-09-p1"
PLATFORM = "p1"
POPULATION = tuple(f"lr-{i:04d}" for i in range(40))
POOL = ("insp-a", "insp-b", "insp-c", "insp-d", "insp-e")
SEED = "HD-SC-2026-09"
_n = 0


def _eid() -> str:
    global _n
    _n += 1
    return f"ev-{_n}"


def _env(minutes: int, campaign: str = CAMPAIGN) -> dict[str, Any]:
    return {
        "event_id": _eid(),
        "case_id": campaign,
        "platform_id": PLATFORM,
        "occurred_at": T0 + timedelta(minutes=minutes),
    }


def planned(**over: Any) -> SpotCheckCampaignPlanned:
    fields: dict[str, Any] = {
        **_env(0),
        "month": "2026-09",
        "departments": ["SAMR", "POLICE", "CULTURE_TOURISM", "HR_SOCIAL", "CAC"],
        "lead_unit": "HD-AMR advertising department",
        "rooms_to_sample": 4,
        "inspectors_per_room": 2,
        "inspector_pool": list(POOL),
        "population_size": len(POPULATION),
        "population_sha256": population_digest(POPULATION),
        "eligible_rooms": list(POPULATION),
        "seed": SEED,
        "sampler": SAMPLER_ID,
    }
    fields.update(over)
    return SpotCheckCampaignPlanned(**fields)


def the_draw(n: int = 4, m: int = 2) -> list[SampledRoom]:
    return [
        SampledRoom(live_room_ref=a.live_room_ref, inspectors=list(a.inspectors))
        for a in draw(SEED, POPULATION, n, POOL, m)
    ]


def sampled(rooms: list[SampledRoom] | None = None, **over: Any) -> SpotCheckRoomsSampled:
    fields: dict[str, Any] = {
        **_env(10),
        "rooms": the_draw() if rooms is None else rooms,
        "seed": SEED,
        "sampler": SAMPLER_ID,
    }
    fields.update(over)
    return SpotCheckRoomsSampled(**fields)


def checked(
    room: SampledRoom,
    result: RoomCheckResult = RoomCheckResult.CLEAN,
    codes: tuple[str, ...] = (),
    **over: Any,
) -> SpotCheckRoomChecked:
    fields: dict[str, Any] = {
        **_env(60),
        "live_room_ref": room.live_room_ref,
        "inspectors": list(room.inspectors),
        "result": result,
        "finding_codes": list(codes),
    }
    fields.update(over)
    return SpotCheckRoomChecked(**fields)


def closed(**over: Any) -> SpotCheckCampaignClosed:
    fields: dict[str, Any] = {
        **_env(600), "sampled": 4, "checked": 4, "clean": 3, "with_findings": 1,
        "not_checked": 0, "clean_share": 0.75,
    }  # fmt: skip
    fields.update(over)
    return SpotCheckCampaignClosed(**fields)
