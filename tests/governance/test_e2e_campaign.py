"""A spot-check campaign through the real broker: bureau ingress → governance → worker → API.

The bureau plans a campaign over a live-streaming platform's rooms, publishes the sample the
seed gives, checks every room (one with findings citing codes), and closes it with its
figures. Along the way it sends three records the system must not take: a room check citing
an unknown code (ingress dead-letters it, naming ``finding_codes``), a second check of a room
(the core refuses it: the campaign lists it under ``refused``), and a platform's attempt to
plan a campaign (FORBIDDEN_TYPE). The API then shows the campaign closed with its figures.
"""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agents.api_auth import Role, TokenStore, bearer_header
from audit.governance import read_campaigns
from schemas.instants import to_ms
from schemas.models import DeadLetterRecord, Event, RoomCheckResult
from streams.codec import EventCodec
from streams.registry import add_platform
from tests.kafka_helpers import TopicReader, produce, wait_until

from . import builders as b

PLATFORM = "live1"
CODEC = EventCodec()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _here(event: Event, campaign: str, at: datetime) -> Event:
    return event.model_copy(
        update={"platform_id": PLATFORM, "case_id": campaign, "occurred_at": at,
                "event_id": str(uuid.uuid4())}
    )  # fmt: skip


async def test_campaign_end_to_end(settings, catalogue, worker_factory) -> None:  # type: ignore[no-untyped-def]
    await add_platform(settings, PLATFORM)
    token = TokenStore(settings.state_dir).create("tests", Role.REGULATOR)
    port = _free_port()
    worker = worker_factory("--web-port", str(port))
    campaign = f"SC-{uuid.uuid4().hex[:8]}"
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    rooms = b.the_draw()
    F = RoomCheckResult.FINDINGS
    bureau: list[Event] = [
        b.planned(),
        b.sampled(),
        b.checked(rooms[0], F, ("NL-03", "NL-07")),
        b.checked(rooms[1], F, ("NL-99",)),  # unknown code: dead letter at ingress
        b.checked(rooms[1]),
        b.checked(rooms[1]),  # second check of the room: refused by the core
        b.checked(rooms[2]),
        b.checked(rooms[3], RoomCheckResult.NOT_CHECKED, inspectors=[], note="stream ended"),
        b.closed(checked=3, clean=2, with_findings=1, not_checked=1, clean_share=0.6667),
    ]
    events = [_here(e, campaign, t0 + timedelta(minutes=i)) for i, e in enumerate(bureau)]
    await produce(
        settings.bootstrap, catalogue.bureau_ingress,
        [CODEC.encode(e, "/bureau/hd-ad") for e in events],
    )  # fmt: skip
    spoof = _here(b.planned(), f"{campaign}-p", t0)
    await produce(
        settings.bootstrap,
        catalogue.ingress(PLATFORM),
        [CODEC.encode(spoof, f"/platforms/{PLATFORM}")],
    )

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=10, headers=bearer_header(token)
    ) as client:
        body: dict[str, Any] = {}

        async def closed() -> bool:
            nonlocal body
            try:
                resp = await client.get(f"/campaigns/{campaign}")
            except httpx.TransportError:
                return False
            body = resp.json() if resp.status_code == 200 else {}
            return body.get("status") == "CLOSED"

        await wait_until(closed, 120, lambda: f"campaign not closed ({body}):\n{worker.log_tail()}")
        assert body["figures"] == {"sampled": 4, "checked": 3, "clean": 2, "with_findings": 1,
                                   "not_checked": 1, "clean_share": 0.6667}  # fmt: skip
        assert [r["live_room_ref"] for r in body["sample"]] == [r.live_room_ref for r in rooms]
        assert body["sample"][0]["inspectors"] == rooms[0].inspectors
        assert body["departments"] == ["SAMR", "POLICE", "CULTURE_TOURISM", "HR_SOCIAL", "CAC"]
        assert body["rooms"][0]["finding_codes"] == ["NL-03", "NL-07"]
        (refused,) = body["refused"]
        assert refused["type"] == "SpotCheckRoomChecked" and "already recorded" in refused["reason"]
        listing = (await client.get("/campaigns")).json()
        assert [c["campaign_id"] for c in listing["campaigns"]] == [campaign]
        missing = await client.get("/campaigns/nope")
        assert missing.status_code == 404 and "nope" in missing.json()["error"]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as nobody:
            assert (await nobody.get("/campaigns")).status_code == 401

    async with TopicReader(settings.bootstrap, catalogue.deadletter) as reader:
        await reader.read_until(lambda recs: len(recs) >= 2, 30, "two dead letters expected")
        letters = [CODEC.decode(r.value, r.headers) for r in reader.records]
    details = sorted((d.reason.value, d.detail) for d in letters if isinstance(d, DeadLetterRecord))
    assert details[0][0] == "FORBIDDEN_TYPE"
    assert details[1][0] == "INVALID_VALUE"
    assert details[1][1].startswith("finding_codes: 未知的负面清单编码 'NL-99'")
    # the audit folds the same log to the same campaign (and the same refusal)
    audited = (await read_campaigns(settings, catalogue, to_ms(datetime.now(UTC)))).as_json()
    (c,) = audited["campaigns"]
    assert c["figures"] == body["figures"] and c["sample"] == body["sample"]
    assert c["rooms"] == body["rooms"] and c["sample_matches_seed"] is True
    assert [r["reason"] for r in audited["refused"]] == [refused["reason"]]
    assert worker.alive(), worker.log_tail()
