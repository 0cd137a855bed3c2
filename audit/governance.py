"""The governance topic as of the audited instant: spot-check campaigns folded by the core.

Every campaign event with ``occurred_at`` ≤ T is folded, per campaign in log order, by
:func:`agents.core.campaign.fold` — the same function the worker's agent applies one event at
a time — so the report's campaigns (plan, the sample of both rooms and inspectors, each room's
result and codes, the figures) are the live ones, and the events the core refuses are listed
with their reason. The report also says whether each campaign's sample is the one its seed
gives (when the plan carried the population) — the 双随机 check an auditor repeats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from agents.core.campaign import CampaignState, fold, view
from agents.core.errors import PolicyError
from agents.core.negative_list import NegativeList
from agents.core.sampling import draw
from schemas.families import CAMPAIGN_EVENTS
from schemas.models import Event
from streams.codec import DecodeError, EventCodec
from streams.settings import Settings
from streams.topics import Catalogue

__all__ = ["CampaignFold", "read_campaigns"]

_TYPES = frozenset(CAMPAIGN_EVENTS)


@dataclass
class CampaignFold:
    until_ms: int
    events: list[Event] = field(default_factory=list)
    after_until: int = 0
    undecodable: int = 0
    read: bool = True
    """False when the governance topic does not exist (an older deployment)."""

    def keep(self, event: Event) -> None:
        if event.EVENT_NAME not in _TYPES:
            return
        if int(event.occurred_at.timestamp() * 1000) > self.until_ms:
            self.after_until += 1
            return
        self.events.append(event)

    def as_json(self) -> dict[str, Any]:
        states, refused = fold(self.events)
        campaigns = [
            {**view(s), "sample_matches_seed": _matches_seed(s)}
            for s in sorted(states.values(), key=lambda s: (s.month, s.campaign_id))
        ]
        return {
            "read": self.read,
            "events": len(self.events),
            "events_after_until": self.after_until,
            "undecodable": self.undecodable,
            "campaigns": campaigns,
            "refused": [
                {
                    "campaign_id": e.case_id,
                    "event_id": e.event_id,
                    "type": e.EVENT_NAME,
                    "occurred_at": e.occurred_at.isoformat(),
                    "reason": why,
                }
                for e, why in refused
            ],
        }


def _matches_seed(state: CampaignState) -> bool | None:
    """True/False: the sample is/is not what the seed draws; None: no population carried."""
    if not state.eligible_rooms or not state.sample:
        return None
    expected = tuple(
        (a.live_room_ref, a.inspectors)
        for a in draw(
            state.seed, state.eligible_rooms, state.rooms_to_sample, state.inspector_pool,
            state.inspectors_per_room,
        )
    )  # fmt: skip
    return expected == state.sample


def fold_records(until_ms: int, values: Iterable[tuple[bytes | None, Any]]) -> CampaignFold:
    """A :class:`CampaignFold` of raw (value, headers) pairs in log order (tests, replay)."""
    out = CampaignFold(until_ms)
    codec = EventCodec()
    for value, headers in values:
        try:
            out.keep(codec.decode(value or b"", headers))
        except DecodeError:
            out.undecodable += 1
    return out


async def read_campaigns(settings: Settings, catalogue: Catalogue, until_ms: int) -> CampaignFold:
    """Read the whole governance topic (every partition) and keep the campaign events ≤ T."""
    from streams.ledger.logread import LogReader

    pairs: list[tuple[int, int, bytes | None, Any]] = []
    async with LogReader(settings) as reader:
        ranges = await reader.bounds([catalogue.governance])
        if not ranges:
            missing = CampaignFold(until_ms)
            missing.read = False
            return missing
        async for tp, records in reader.read(ranges):
            pairs.extend((tp.partition, r.offset, r.value, list(r.headers)) for r in records)
    # a campaign's events share a key, hence a partition: offset order within it is log order
    pairs.sort(key=lambda p: (p[0], p[1]))
    return fold_records(until_ms, ((v, h) for _, _, v, h in pairs))


@cache
def _negative_list() -> NegativeList | None:
    try:
        return NegativeList.load()
    except PolicyError:
        return None


def _titled(code: str) -> str:
    """``NL-03 虚构交易量…`` (the code alone when the list does not know it)."""
    nl = _negative_list()
    item = nl.item(code) if nl is not None else None
    return code if item is None else f"{code} {item.title_zh}"


def campaigns_html(report: dict[str, Any]) -> str:
    """The report's campaign section (HTML; escaped; well-formed XML like the rest)."""
    from html import escape

    def t(text: object) -> str:
        return escape("" if text is None else str(text))

    block = report.get("campaigns")
    if not block or not block.get("read", True):
        return (
            '<section id="campaigns"><h2>双随机抽查 · Spot-check campaigns</h2>'
            '<p class="muted">The governance topic was not read.</p></section>'
        )
    parts = [f'<section id="campaigns"><h2>双随机抽查 · Spot-check campaigns '
             f"({len(block['campaigns'])})</h2>"]  # fmt: skip
    if not block["campaigns"]:
        parts.append('<p class="muted">None in the log up to the instant.</p>')
    for c in block["campaigns"]:
        f = c["figures"]
        rule = c["rule"]
        seed_ok = {True: "the sample is the one the seed draws", False: "NOT the sample the "
                   "seed draws", None: "population not carried: sample not recomputed"}[
                       c["sample_matches_seed"]]  # fmt: skip
        parts.append(
            f"<h3>{t(c['campaign_id'])} · {t(c['month'])} · {t(c['platform_id'])} · "
            f"{t(c['status'])}</h3>"
            f"<p>Departments: {t(', '.join(c['departments']))}. Rule: {t(rule['rooms_to_sample'])}"
            f" of {t(rule['population_size'])} rooms, {t(rule['inspectors_per_room'])} of "
            f"{t(len(rule['inspector_pool']))} inspectors per room; seed <code>{t(rule['seed'])}"
            f"</code> ({t(rule['sampler'])}): {t(seed_ok)}.</p>"
            f"<table><thead><tr><th>sampled</th><th>checked</th><th>clean</th>"
            f"<th>with findings</th><th>not checked</th><th>clean share</th></tr></thead><tbody>"
            f'<tr><td class="num">{t(f["sampled"])}</td><td class="num">{t(f["checked"])}</td>'
            f'<td class="num">{t(f["clean"])}</td><td class="num">{t(f["with_findings"])}</td>'
            f'<td class="num">{t(f["not_checked"])}</td>'
            f'<td class="num">{float(f["clean_share"]) * 100:.1f}%</td></tr></tbody></table>'
        )
        results = {r["live_room_ref"]: r for r in c["rooms"]}
        rows = []
        for s in c["sample"]:
            r = results.get(s["live_room_ref"])
            rows.append(
                f"<tr><td>{t(s['live_room_ref'])}</td><td>{t(', '.join(s['inspectors']))}</td>"
                f"<td>{t(r['result'] if r else '—')}</td>"
                f"<td>{t('; '.join(_titled(code) for code in r['finding_codes']) if r else '')}"
                "</td></tr>"
            )
        parts.append(
            "<table><thead><tr><th>live room</th><th>inspectors</th><th>result</th>"
            f"<th>negative-list codes</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    if block["refused"]:
        rows = [
            f"<tr><td>{t(r['campaign_id'])}</td><td>{t(r['type'])}</td>"
            f"<td>{t(r['occurred_at'])}</td><td>{t(r['reason'])}</td></tr>"
            for r in block["refused"]
        ]
        parts.append(
            "<h3>Campaign events the core refused</h3><table><thead><tr><th>campaign</th>"
            "<th>event</th><th>occurred at</th><th>reason</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    parts.append("</section>")
    return "".join(parts)
