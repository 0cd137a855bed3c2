"""The simulated month's spot-check campaign (双随机一公开 云抽查), and its prediction.

On the month's spot-check day (:func:`devtools.simulator.generator.spot_check_days`) the joint
departments plan one campaign over the first live-streaming platform's rooms: at 09:00 the
plan (departments, rule: 8 of 60 rooms and 2 of 10 inspectors per room, a seed from the run's
seed), at 09:30 the sample the seed gives (:mod:`agents.core.sampling`), from 10:00 each room
checked (clean, findings citing negative-list codes in force that day, or one room recorded
NOT_CHECKED), at 18:00 the close with its figures. Every choice comes from a generator seeded
by the run's seed and the campaign id, so the campaign does not change the rest of the run.

:meth:`SimCampaign.predicted` is what ``GET /campaigns/{id}`` must show; :func:`check` polls
the worker until it does (the demo's check), and returns the differences.
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from agents.core.campaign import clean_share
from agents.core.negative_list import NegativeList
from agents.core.sampling import SAMPLER_ID, draw, population_digest
from devtools.simulator.config import SimConfig
from devtools.simulator.model import Send, Sender
from devtools.simulator.platforms import LINES, Profile, SimPlatform
from devtools.simulator.workcal import SHANGHAI
from schemas.models import (
    Event,
    RoomCheckResult,
    SampledRoom,
    SpotCheckCampaignClosed,
    SpotCheckCampaignPlanned,
    SpotCheckRoomChecked,
    SpotCheckRoomsSampled,
)

DEPARTMENTS = ("SAMR", "POLICE", "CULTURE_TOURISM", "HR_SOCIAL", "CAC")
"""市场监管, 公安, 文旅, 人社, 网信 — the article's joint departments."""
UNIT = "spot-check-joint"
ROOMS, SAMPLE, PER_ROOM = 60, 8, 2
FINDINGS_SHARE = 0.3


@dataclass
class SimCampaign:
    campaign_id: str
    platform_id: str
    day: date
    seed: str
    population: tuple[str, ...]
    pool: tuple[str, ...]
    sends: list[Send] = field(default_factory=list)
    results: dict[str, tuple[RoomCheckResult, tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict
    )
    """room → (result, codes, inspectors), as the checks report them."""

    def predicted(self) -> dict[str, Any]:
        """The campaign as the API must show it (the keys :func:`check` compares)."""
        sample = draw(self.seed, self.population, SAMPLE, self.pool, PER_ROOM)
        done = [r for r, _c, _i in self.results.values() if r is not RoomCheckResult.NOT_CHECKED]
        clean = sum(1 for r in done if r is RoomCheckResult.CLEAN)
        return {
            "campaign_id": self.campaign_id,
            "platform_id": self.platform_id,
            "status": "CLOSED",
            "month": f"{self.day:%Y-%m}",
            "departments": list(DEPARTMENTS),
            "sample": [
                {"live_room_ref": a.live_room_ref, "inspectors": list(a.inspectors)} for a in sample
            ],
            "results": {
                room: {"result": r.value, "finding_codes": list(codes)}
                for room, (r, codes, _i) in sorted(self.results.items())
            },
            "figures": {
                "sampled": len(sample),
                "checked": len(done),
                "clean": clean,
                "with_findings": len(done) - clean,
                "not_checked": len(self.results) - len(done),
                "clean_share": clean_share(clean, len(done)),
            },
            "refused": [],
        }


def plan_campaign(cfg: SimConfig, day: date | None) -> SimCampaign | None:
    """The month's campaign on ``day`` over the first live-streaming platform, if any."""
    target = _target(cfg.roster)
    if day is None or target is None:
        return None
    campaign_id = f"SC-{day:%Y%m}-{target.platform_id}"
    rng = random.Random(f"{cfg.seed}/{campaign_id}")
    c = SimCampaign(
        campaign_id=campaign_id,
        platform_id=target.platform_id,
        day=day,
        seed=f"HD-SC-{day:%Y%m}-{cfg.seed}",
        population=tuple(f"lr-{target.platform_id}-{i:04d}" for i in range(ROOMS)),
        pool=tuple(f"insp-{d.lower().replace('_', '-')}-{k}" for d in DEPARTMENTS for k in (1, 2)),
    )
    nl = NegativeList.load()
    version = nl.version_on(day)
    codes = [] if version is None else [
        code for code in version.codes if nl.items[code].effective <= day
    ]  # fmt: skip
    at = datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI)

    def send(when: datetime, cls: type[Event], **fields: Any) -> None:
        event = cls(
            event_id=f"{campaign_id}-{len(c.sends) + 1:03d}", case_id=campaign_id,
            platform_id=target.platform_id, occurred_at=when, **fields,
        )  # fmt: skip
        c.sends.append(Send(when, Sender.BUREAU, "bureau", campaign_id, event, unit=UNIT))

    send(
        at, SpotCheckCampaignPlanned, month=f"{day:%Y-%m}", departments=list(DEPARTMENTS),
        lead_unit="HD-AMR advertising department", rooms_to_sample=SAMPLE,
        inspectors_per_room=PER_ROOM, inspector_pool=list(c.pool), population_size=ROOMS,
        population_sha256=population_digest(c.population), eligible_rooms=list(c.population),
        seed=c.seed, sampler=SAMPLER_ID,
    )  # fmt: skip
    sample = draw(c.seed, c.population, SAMPLE, c.pool, PER_ROOM)
    rooms = [
        SampledRoom(live_room_ref=a.live_room_ref, inspectors=list(a.inspectors)) for a in sample
    ]
    send(at + timedelta(minutes=30), SpotCheckRoomsSampled, rooms=rooms, seed=c.seed,
         sampler=SAMPLER_ID)  # fmt: skip
    not_checked = rng.randrange(len(sample))
    for i, a in enumerate(sample):
        when = at + timedelta(hours=1, minutes=40 * i + rng.randrange(30))
        found: tuple[str, ...]
        inspectors: tuple[str, ...]
        if i == not_checked:
            result, found, inspectors = RoomCheckResult.NOT_CHECKED, (), ()
        elif codes and (i == 0 or rng.random() < FINDINGS_SHARE):
            result = RoomCheckResult.FINDINGS
            found = tuple(sorted(rng.sample(codes, rng.choice((1, 1, 2)))))
            inspectors = a.inspectors
        else:
            result, found, inspectors = RoomCheckResult.CLEAN, (), a.inspectors
        c.results[a.live_room_ref] = (result, found, inspectors)
        send(
            when, SpotCheckRoomChecked, live_room_ref=a.live_room_ref,
            inspectors=list(inspectors), result=result, finding_codes=list(found),
            note="直播已结束 / the stream had ended" if i == not_checked else None,
        )  # fmt: skip
    figures = c.predicted()["figures"]
    send(at + timedelta(hours=9), SpotCheckCampaignClosed, **figures)
    return c


def _target(roster: tuple[SimPlatform, ...]) -> SimPlatform | None:
    for p in roster:
        if LINES[p.line].spot_checks and p.profile is not Profile.MALFORMED:
            return p
    return None


def shown(api: dict[str, Any]) -> dict[str, Any]:
    """The API's campaign reduced to the predicted keys."""
    return {
        "campaign_id": api.get("campaign_id"),
        "platform_id": api.get("platform_id"),
        "status": api.get("status"),
        "month": api.get("month"),
        "departments": api.get("departments"),
        "sample": api.get("sample"),
        "results": {
            r["live_room_ref"]: {"result": r["result"], "finding_codes": r["finding_codes"]}
            for r in sorted(api.get("rooms", []), key=lambda r: r["live_room_ref"])
        },
        "figures": api.get("figures"),
        "refused": api.get("refused"),
    }


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    return [
        f"campaign {expected['campaign_id']} {key}: expected {expected[key]!r}, "
        f"system {actual.get(key)!r}"
        for key in expected
        if expected[key] != actual.get(key)
    ]


def _get(url: str, token: str | None) -> dict[str, Any] | None:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    return body if isinstance(body, dict) else None


async def check(
    base_url: str, campaign: SimCampaign | None, timeout: float, token: str | None = None,
    poll: float = 0.5,
) -> tuple[dict[str, Any] | None, list[str]]:  # fmt: skip
    """Poll ``GET /campaigns/{id}`` until it equals the prediction or ``timeout`` passes."""
    if campaign is None:
        return None, []
    expected = campaign.predicted()
    url = f"{base_url.rstrip('/')}/campaigns/{campaign.campaign_id}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            got = await asyncio.to_thread(_get, url, token)
            actual = shown(got) if got is not None else {}
            diff = differences(expected, actual)
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            actual, diff = {}, [f"cannot read campaign {campaign.campaign_id}: {exc}"]
        if not diff or loop.time() >= deadline:
            return actual, diff
        await asyncio.sleep(poll)
