"""Spot-check campaigns (双随机一公开 云抽查): topic ``governance``, keyed by campaign id.

A campaign's ``case_id`` is its campaign id and its ``platform_id`` the platform whose live
rooms make up the eligible population (one campaign per platform and month; the joint
departments may run several in a month). The bureau sends all four events.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from schemas.models._base import Double, Event, NonEmptyStr, NonNegativeLong


class RoomCheckResult(StrEnum):
    CLEAN = "CLEAN"
    FINDINGS = "FINDINGS"
    NOT_CHECKED = "NOT_CHECKED"
    """Recorded as not checked (room closed, stream ended); counted apart, never as clean."""


class SampledRoom(BaseModel):
    """One randomly selected live room and the inspectors randomly assigned to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    live_room_ref: NonEmptyStr
    inspectors: list[str]


class SpotCheckCampaignPlanned(Event):
    """A joint double-random spot-check campaign was planned, with its sampling rule and seed."""

    month: NonEmptyStr
    """The campaign month, ``YYYY-MM`` (Beijing time)."""
    departments: list[str]
    """Participating departments, e.g. SAMR, POLICE, CULTURE_TOURISM, HR_SOCIAL, CAC."""
    lead_unit: NonEmptyStr
    rooms_to_sample: NonNegativeLong
    """N: how many live rooms are drawn from the eligible population."""
    inspectors_per_room: NonNegativeLong
    """M: how many inspectors are drawn from the pool for each sampled room."""
    inspector_pool: list[str]
    population_size: NonNegativeLong
    population_sha256: bytes
    """SHA-256 of the sorted eligible room refs joined by newlines (UTF-8)."""
    eligible_rooms: list[str]
    """The eligible population itself when small enough to carry (then the sample is
    recomputed and checked); empty when only its size and digest are carried."""
    seed: NonEmptyStr
    sampler: NonEmptyStr
    """The sampling algorithm's id (``regbus.sample/1``: agents/core/sampling.py)."""


class SpotCheckRoomsSampled(Event):
    """The live rooms and their inspectors were drawn from the campaign's seed."""

    rooms: list[SampledRoom]
    seed: NonEmptyStr
    sampler: NonEmptyStr


class SpotCheckRoomChecked(Event):
    """One sampled live room was checked (clean or with findings), or recorded as not checked."""

    live_room_ref: NonEmptyStr
    inspectors: list[str]
    result: RoomCheckResult
    finding_codes: list[str]
    """Negative-list codes found (agents/policy/negative_list.yaml); empty when clean."""
    note: str | None = None


class SpotCheckCampaignClosed(Event):
    """The campaign was closed with its figures (they must equal the rooms recorded)."""

    sampled: NonNegativeLong
    checked: NonNegativeLong
    clean: NonNegativeLong
    with_findings: NonNegativeLong
    not_checked: NonNegativeLong
    clean_share: Double
    """clean / checked (0.0 when nothing was checked)."""
