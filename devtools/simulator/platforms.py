"""The simulated platforms: business lines from the article and behaviour profiles.

Volumes and categories follow the Haidian article (seed/000_*.txt): same-city instant delivery
with goods-damage tickets rising week over week and mostly uninsured items, food delivery,
live-streaming e-commerce under monthly cloud spot checks, and second-hand trading with
valuation disputes. Each platform has one behaviour profile that decides how fast and how
correctly it answers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from schemas.models import Category, Channel, RosterAssigned


class Profile(StrEnum):
    DILIGENT = "diligent"
    """Answers within hours, settles ~90 %, pays on time."""
    SLOW = "slow"
    """Signs late, resolves late, pays late: the SLA breaches and escalations."""
    PEAK_OVERLOADED = "peak-overloaded"
    """Diligent on ordinary working days, swamped on weekends and holidays (more tickets,
    2.5 times slower)."""
    NON_COMPLIANT = "non-compliant"
    """Breaks the lifecycle: pays before approval or above it, twice, after a rejection,
    reviews twice, answers out of order, names a policy version the bureau does not have."""
    MALFORMED = "malformed"
    """Sends garbage, spoofed and forbidden records next to its valid traffic, and resends."""


class Line(StrEnum):
    INSTANT_DELIVERY = "instant-delivery"
    FOOD_DELIVERY = "food-delivery"
    LIVESTREAM = "livestream"
    SECONDHAND = "secondhand"


@dataclass(frozen=True)
class LineTraits:
    complaints_per_day: float
    refunds_per_day: float
    categories: tuple[tuple[Category, float], ...]
    channels: tuple[tuple[Channel, float], ...]
    weekly_growth: dict[Category, float]
    """Week-over-week growth of a category's volume (delivery damage rises, per the article)."""
    spot_checks: bool = False
    insured_share: float = 0.3


_HOTLINE_HEAVY = (
    (Channel.HOTLINE_12345, 0.50),
    (Channel.HOTLINE_12315, 0.20),
    (Channel.PLATFORM_APP, 0.25),
    (Channel.BUREAU_REFERRAL, 0.05),
)
LINES: dict[Line, LineTraits] = {
    Line.INSTANT_DELIVERY: LineTraits(
        7.0,
        2.5,
        (
            (Category.DELIVERY_GOODS_DAMAGE, 0.6),
            (Category.REFUND_DISPUTE, 0.2),
            (Category.OTHER, 0.2),
        ),
        _HOTLINE_HEAVY,
        {Category.DELIVERY_GOODS_DAMAGE: 0.15},
        insured_share=0.25,  # 部分没保价的物品: most damaged items were not insured
    ),
    Line.FOOD_DELIVERY: LineTraits(
        6.0,
        4.0,
        (
            (Category.FOOD_SAFETY, 0.35),
            (Category.DELIVERY_GOODS_DAMAGE, 0.25),
            (Category.REFUND_DISPUTE, 0.3),
            (Category.OTHER, 0.1),
        ),
        _HOTLINE_HEAVY,
        {Category.DELIVERY_GOODS_DAMAGE: 0.05},
    ),
    Line.LIVESTREAM: LineTraits(
        5.0,
        3.0,
        (
            (Category.LIVESTREAM_SALES, 0.5),
            (Category.FALSE_ADVERTISING, 0.3),
            (Category.REFUND_DISPUTE, 0.2),
        ),
        (
            (Channel.HOTLINE_12345, 0.35),
            (Channel.HOTLINE_12315, 0.30),
            (Channel.PLATFORM_APP, 0.30),
            (Channel.BUREAU_REFERRAL, 0.05),
        ),
        {},
        spot_checks=True,
    ),
    Line.SECONDHAND: LineTraits(
        4.0,
        2.0,
        (
            (Category.SECONDHAND_VALUATION, 0.6),
            (Category.REFUND_DISPUTE, 0.25),
            (Category.FALSE_ADVERTISING, 0.15),
        ),
        (
            (Channel.HOTLINE_12345, 0.40),
            (Channel.HOTLINE_12315, 0.30),
            (Channel.PLATFORM_APP, 0.25),
            (Channel.BUREAU_REFERRAL, 0.05),
        ),
        {},
    ),
}


@dataclass(frozen=True)
class SimPlatform:
    platform_id: str
    name: str
    line: Line
    profile: Profile


# The first five cover every profile, so a default run exercises every alert rule, lifecycle
# violation and dead-letter reason; more platforms repeat the roster with a numeric suffix.
ROSTER: tuple[tuple[str, str, Line, Profile], ...] = (
    (
        "kuaisong",
        "快送同城 (same-city instant delivery)",
        Line.INSTANT_DELIVERY,
        Profile.PEAK_OVERLOADED,
    ),
    ("chihuo", "吃货外卖 (food delivery)", Line.FOOD_DELIVERY, Profile.DILIGENT),
    ("zhibo-mall", "直播优选 (live-streaming e-commerce)", Line.LIVESTREAM, Profile.SLOW),
    ("erhuo", "二货集市 (second-hand trading)", Line.SECONDHAND, Profile.NON_COMPLIANT),
    ("fenxiang-live", "分享直播 (live-streaming e-commerce)", Line.LIVESTREAM, Profile.MALFORMED),
)
UNREGISTERED_PLATFORM = "heiwu-shop"
"""A platform the hotline receives complaints about but that never registered."""
STRAY_INGRESS = "ingress.Relay.Unregistered"
"""An ingress-pattern topic no platform owns (uppercase and a dot are not a platform id)."""


def roster(count: int) -> tuple[SimPlatform, ...]:
    out: list[SimPlatform] = []
    for i in range(count):
        pid, name, line, profile = ROSTER[i % len(ROSTER)]
        round_ = i // len(ROSTER)
        if round_:
            pid, name = f"{pid}-{round_ + 1}", f"{name} #{round_ + 1}"
        out.append(SimPlatform(pid, name, line, profile))
    return tuple(out)


# ---- the 包片 roster of the simulated district ------------------------------------------------
# Offices take the platforms in turn; the business department and the leader follow the line
# of business. "bureau" is the bureau-wide entry (category signals, calendar gaps). The
# simulator predicts every alert's owner from this table, not from the worker's routing.
COVERING_OFFICES = ("HD-ZGC", "HD-DS", "HD-HDJ", "HD-XSQ", "HD-QH")
LINE_OWNERS: dict[Line, tuple[str, str]] = {
    Line.INSTANT_DELIVERY: ("LOGISTICS_SERVICES", "WANG-JU"),
    Line.FOOD_DELIVERY: ("FOOD_SAFETY", "LI-JU"),
    Line.LIVESTREAM: ("E_COMMERCE", "ZHAO-JU"),
    Line.SECONDHAND: ("CONSUMER_PROTECTION", "LI-JU"),
}
BUREAU_WIDE = "bureau"
BUREAU_WIDE_OWNER = ("HD-JG", "INFORMATION_TECHNOLOGY", "WANG-JU")


def owners(platforms: tuple[SimPlatform, ...]) -> dict[str, tuple[str, str, str]]:
    """platform id (and ``bureau``) → (office, department, leader)."""
    out = {BUREAU_WIDE: BUREAU_WIDE_OWNER}
    for i, p in enumerate(platforms):
        department, leader = LINE_OWNERS[p.line]
        out[p.platform_id] = (COVERING_OFFICES[i % len(COVERING_OFFICES)], department, leader)
    return out


def contacts(platform_id: str) -> tuple[list[str], list[str], list[str]]:
    """Office, department and leader contacts: a chat account each, and e-mail for leaders."""
    return (
        [f"{platform_id}.duty"],
        [f"{platform_id}.dept"],
        [f"{platform_id}.leader@hd.example.cn"],
    )


def coverage(platforms: tuple[SimPlatform, ...], effective_from: datetime) -> list[RosterAssigned]:
    """The roster published at the start of a run (ids from platform + day: a re-run's are
    the same facts)."""
    out = []
    for platform_id, (office, department, leader) in owners(platforms).items():
        office_c, dept_c, leader_c = contacts(platform_id)
        out.append(
            RosterAssigned(
                event_id=str(uuid.uuid5(_ROSTER_NS, f"{platform_id}|{effective_from.isoformat()}")),
                case_id="",
                platform_id=platform_id,
                occurred_at=effective_from,
                office=office,
                department=department,
                leader=leader,
                office_contacts=office_c,
                department_contacts=dept_c,
                leader_contacts=leader_c,
                effective_from=effective_from,
                assigned_by="simulator",
            )
        )
    return out


_ROSTER_NS = uuid.UUID("5b0f3c2e-7d1a-5e4b-9c8d-2f6a1b3c4d5e")
