"""The ingress processor as a pure function: no broker, a dict for the dedup table."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.ingress import DEDUP_TABLE, IngressProcessor, PlatformDirectory, PlatformStatus
from schemas.families import CaseFamily
from schemas.models import DeadLetterReason, DeadLetterRecord, SuspendReason
from schemas.send_rules import SEND_RULES, Sender, refusal, rules_table
from streams.records import BatchResult, InRecord, OutRecord
from streams.topics import Catalogue

from .factories import (
    CODEC,
    NOW,
    acknowledged,
    filed,
    forwarded,
    future,
    record,
    refund_flow,
    resolved,
)

CAT = Catalogue("t")
ACME = CAT.ingress("acme")
PLATFORMS = {"acme": PlatformStatus.ACTIVE, "gone": PlatformStatus.REVOKED}


class Table(dict[bytes, bytes]):
    def apply(self, result: BatchResult) -> None:
        for w in result.writes:
            if w.value is None:
                self.pop(w.key, None)
            else:
                self[w.key] = w.value


class Harness:
    def __init__(self, platforms: dict[str, PlatformStatus] | None = None) -> None:
        self.proc = IngressProcessor(
            CAT, PlatformDirectory(PLATFORMS if platforms is None else platforms),
            clock=lambda: NOW, future_tolerance=timedelta(minutes=10),
        )  # fmt: skip
        self.table = Table()
        self.offsets: dict[tuple[str, int], int] = {}

    def rec(self, topic: str, key: bytes | None, value: bytes | None, headers: list, p: int = 0):  # type: ignore[no-untyped-def]
        offset = self.offsets.get((topic, p), 0)
        self.offsets[(topic, p)] = offset + 1
        return InRecord(topic, p, offset, key, value, list(headers), 1_700_000_000_000)

    def run(self, batch: list[InRecord]) -> BatchResult:
        result = self.proc.process(batch, {DEDUP_TABLE: self.table})
        self.table.apply(result)
        return result

    def feed(self, topic: str, *records: tuple) -> BatchResult:  # type: ignore[type-arg]
        return self.run([self.rec(topic, *r) for r in records])


def reasons(result: BatchResult) -> list[DeadLetterReason]:
    out = []
    for o in result.out:
        if o.topic == CAT.deadletter:
            dl = CODEC.decode(o.value, o.headers)
            assert isinstance(dl, DeadLetterRecord)
            out.append(dl.reason)
    return out


_NOTICE = ("ce_type", b"regbus.DeadLetterNotice.v1")


def routed(result: BatchResult) -> list[str]:
    return [o.topic for o in result.out if o.topic != CAT.deadletter and _NOTICE not in o.headers]


def notices(result: BatchResult) -> list[OutRecord]:
    return [o for o in result.out if _NOTICE in o.headers]


def test_platform_events_route_to_their_case_topic_with_the_original_bytes() -> None:
    h = Harness()
    events = [filed("c-1", "acme"), acknowledged("c-1", "acme"), *refund_flow("r-1", "acme")]
    records = [record(e) for e in events]
    result = h.feed(ACME, *records)
    assert (
        routed(result)
        == [CAT.cases(CaseFamily.COMPLAINTS)] * 2 + [CAT.cases(CaseFamily.REFUNDS)] * 3
    )
    assert [(o.key, o.value, o.headers) for o in result.out] == records
    assert h.proc.metrics.routed == 5


def test_each_refusal_has_its_reason() -> None:
    h = Harness()
    ok = acknowledged("c-1", "acme")
    k, v, hd = record(ok)
    cases = {
        "spoofed source": (record(acknowledged("c", "other"), "/platforms/other"),
                           DeadLetterReason.SPOOFED_SOURCE),
        "bureau source on a platform topic": (record(acknowledged("c", "acme"), "/bureau/hd"),
                                              DeadLetterReason.SPOOFED_SOURCE),
        "someone else's platform_id": (record(acknowledged("c", "other"), "/platforms/acme"),
                                       DeadLetterReason.SPOOFED_SOURCE),
        "forbidden type": (record(forwarded("c", "acme")), DeadLetterReason.FORBIDDEN_TYPE),
        "hotline channel": (record(filed("c", "acme", channel="HOTLINE_12345")),
                            DeadLetterReason.FORBIDDEN_TYPE),
        "out of scope": (record(resolved("c", "acme", outcome="OUT_OF_SCOPE")),
                         DeadLetterReason.FORBIDDEN_TYPE),
        "future": (record(acknowledged("c", "acme", occurred_at=NOW + timedelta(minutes=11))),
                   DeadLetterReason.FUTURE_TIMESTAMP),
        "key is not the case": ((b"other", v, hd), DeadLetterReason.INVALID_VALUE),
        "ce_id differs": ((k, v, [("ce_id", b"x") if n == "ce_id" else (n, x) for n, x in hd]),
                          DeadLetterReason.INVALID_VALUE),
        "ce_time ten years ahead": (
            (k, v, [("ce_time", b"2036-03-03T08:00:00.000Z") if n == "ce_time" else (n, x)
                    for n, x in hd]),
            DeadLetterReason.INVALID_VALUE),
        "ce_time not a time": (
            (k, v, [("ce_time", b"yesterday") if n == "ce_time" else (n, x) for n, x in hd]),
            DeadLetterReason.INVALID_VALUE),
        "two ce_source": ((k, v, [*hd, ("ce_source", b"/platforms/acme")]),
                          DeadLetterReason.SPOOFED_SOURCE),
        "no headers": ((k, v, []), DeadLetterReason.MISSING_HEADER),
        "garbage": ((k, b"\x01garbage", hd), DeadLetterReason.BAD_MAGIC),
        "unknown schema": ((k, b"\x00\x00\x01\x00\x00" + v[5:], hd),
                           DeadLetterReason.UNKNOWN_SCHEMA_ID),
        "truncated": ((k, v[:8], hd), DeadLetterReason.TRUNCATED),
        "tombstone": ((k, None, hd), DeadLetterReason.INVALID_VALUE),
    }  # fmt: skip
    for name, (rec, reason) in cases.items():
        result = h.feed(ACME, rec)
        assert reasons(result) == [reason], name
    # within the tolerance is fine
    near = record(acknowledged("c", "acme", occurred_at=NOW + timedelta(minutes=9)))
    assert routed(h.feed(ACME, near)) == [CAT.cases(CaseFamily.COMPLAINTS)]


def test_unknown_and_revoked_platforms_and_foreign_topics() -> None:
    h = Harness()
    assert reasons(h.feed(CAT.ingress("gone"), record(acknowledged("c", "gone")))) == [
        DeadLetterReason.UNKNOWN_PLATFORM
    ]
    assert reasons(h.feed(CAT.ingress("nobody"), record(acknowledged("c", "nobody")))) == [
        DeadLetterReason.UNKNOWN_PLATFORM
    ]
    assert reasons(h.feed("t.ingress.Bad.Name", record(acknowledged("c", "acme")))) == [
        DeadLetterReason.WRONG_TOPIC
    ]


def test_bureau_sends_to_the_platform_inbox_and_may_not_be_spoofed() -> None:
    h = Harness()
    fwd = forwarded("c-1", "acme")
    result = h.feed(CAT.bureau_ingress, record(fwd, "/bureau/hd-01"))
    assert routed(result) == [CAT.cases(CaseFamily.COMPLAINTS), CAT.inbox("acme")]
    assert h.proc.metrics.inbox_copies == 1
    # a platform's own refund request is not echoed to its inbox; the bureau's is
    req = refund_flow("r-1", "acme")[0]
    assert routed(h.feed(ACME, record(req))) == [CAT.cases(CaseFamily.REFUNDS)]
    req2 = refund_flow("r-2", "acme")[0]
    assert routed(h.feed(CAT.bureau_ingress, record(req2, "/bureau/hd-01"))) == [
        CAT.cases(CaseFamily.REFUNDS), CAT.inbox("acme"),
    ]  # fmt: skip
    bad = h.feed(CAT.bureau_ingress, record(forwarded("c", "acme"), "/platforms/acme"))
    assert reasons(bad) == [DeadLetterReason.SPOOFED_SOURCE]
    unknown = h.feed(CAT.bureau_ingress, record(forwarded("c", "nobody"), "/bureau/hd-01"))
    assert reasons(unknown) == [DeadLetterReason.UNKNOWN_PLATFORM]


def test_duplicates_are_dropped_within_and_across_batches() -> None:
    h = Harness()
    ev = acknowledged("c-1", "acme")
    first = h.feed(ACME, record(ev), record(ev))
    assert len(routed(first)) == 1
    again = h.feed(ACME, record(ev))
    assert routed(again) == [] and reasons(again) == []
    m = h.proc.metrics
    assert (m.routed, m.duplicates, m.accounted) == (1, 2, 3)
    # one dedup key per new event, one processed-offset mark per partition, per batch
    assert len(first.writes) == 2 and len(again.writes) == 1


def test_dedup_keys_expire_after_the_retention_and_only_then() -> None:
    now = [NOW]
    h = Harness()
    h.proc = IngressProcessor(
        CAT, PlatformDirectory(PLATFORMS), clock=lambda: now[0],
        dedup_retention=timedelta(days=30),
    )  # fmt: skip
    old, young = acknowledged("c-1", "acme"), acknowledged("c-2", "acme")
    assert len(routed(h.feed(ACME, record(old)))) == 1  # first batch: sweeps start an hour on
    now[0] = NOW + timedelta(days=20)
    assert len(routed(h.feed(ACME, record(young)))) == 1

    def dedup_keys() -> list[bytes]:
        return sorted(k for k in h.table if k.startswith(b"d\x00"))

    assert len(dedup_keys()) == 2
    now[0] = NOW + timedelta(days=29, hours=23)  # both within 30 days: a sweep deletes nothing
    assert routed(h.feed(ACME, record(old), record(young))) == []
    assert len(dedup_keys()) == 2 and h.proc.metrics.dedup_expired == 0
    now[0] = NOW + timedelta(days=31)  # the first is older than 30 days: a tombstone
    result = h.feed(ACME, record(young))
    tombstones = [w for w in result.writes if w.value is None]
    assert [(w.table, w.partition) for w in tombstones] == [(DEDUP_TABLE, 0)]
    assert len(dedup_keys()) == 1 and h.proc.metrics.dedup_expired == 1
    assert routed(result) == []  # the young key is still there
    # a resend of the expired one is routed again (the case agent knows the event id)
    assert len(routed(h.feed(ACME, record(old)))) == 1


def test_a_replayed_batch_is_skipped_so_poison_is_dead_lettered_once() -> None:
    h = Harness()
    batch = [h.rec(ACME, b"c", b"\xff", []), h.rec(ACME, *record(acknowledged("c", "acme")))]
    assert len(h.run(batch).out) == 3  # dead letter, its notice to acme's inbox, the routed one
    replay = h.run(batch)  # after a rebalance, before the offsets were committed
    assert replay.out == []
    assert h.proc.metrics.redelivered == 2 and h.proc.metrics.accounted == 2


def test_a_directory_follows_registry_records() -> None:
    d = PlatformDirectory()
    assert d.apply(b"acme", b'{"platform_id": "acme", "revoked": false}')
    assert d.status("acme") is PlatformStatus.ACTIVE
    assert d.apply(b"acme", b'{"platform_id": "acme", "revoked": true}')
    assert d.status("acme") is PlatformStatus.REVOKED
    assert not d.apply(b"acme", b'{"revoked": true}')
    assert d.apply(b"acme", None) and d.status("acme") is PlatformStatus.UNKNOWN
    assert d.apply(b"x1", b"not json") and d.status("x1") is PlatformStatus.REVOKED


def test_rules() -> None:
    assert refusal(filed("c", "p", channel="HOTLINE_12345"), Sender.BUREAU) is None
    assert refusal(forwarded("c", "p"), Sender.PLATFORM) == (
        "type", "platforms may not send ComplaintForwarded",
    )  # fmt: skip
    from .factories import eid

    suspended = SEND_RULES["ComplaintSuspended"]
    assert suspended.platform and suspended.limit_field == "reason"
    from schemas.models import ComplaintSuspended

    ev = ComplaintSuspended(
        event_id=eid(), case_id="c", platform_id="p", occurred_at=NOW, reason=SuspendReason.OTHER
    )
    assert refusal(ev, Sender.PLATFORM) is not None
    assert refusal(ev, Sender.BUREAU) is None


def test_docs_carry_the_rules_table() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "ingestion.md"
    assert rules_table() in doc.read_text(encoding="utf-8")


# property: no input stops the processor, every record is accounted for ------------------
_HEADER_KEYS = st.sampled_from(["ce_id", "ce_source", "ce_type", "ce_specversion", "x", ""])
_VALID = [record(e) for e in (acknowledged("c-1", "acme"), filed("c-2", "acme"))]


@st.composite
def _records(draw: st.DrawFn) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    key, value, headers = draw(st.sampled_from(_VALID))
    mode = draw(st.integers(0, 3))
    if mode == 0:
        value = draw(st.one_of(st.none(), st.binary(max_size=64)))
        headers = draw(st.lists(st.tuples(_HEADER_KEYS, st.binary(max_size=16)), max_size=6))
    elif mode == 1:
        raw = bytearray(value[: draw(st.integers(0, len(value)))])
        for i in draw(st.lists(st.integers(0, 200), max_size=3)):
            if raw:
                raw[i % len(raw)] = draw(st.integers(0, 255))
        value = bytes(raw)
    elif mode == 2:
        headers = draw(st.permutations(headers))[: draw(st.integers(0, len(headers)))]
    if draw(st.booleans()):
        key = draw(st.one_of(st.none(), st.binary(max_size=8)))
    return key, value, headers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records(), min_size=1, max_size=40))
def test_arbitrary_records_never_raise_and_are_all_accounted(records: list) -> None:  # type: ignore[type-arg]
    h = Harness()
    result = h.feed(ACME, *records)
    m = h.proc.metrics
    assert m.accounted == len(records) and m.dead_letter_failures == 0
    assert len(routed(result)) == m.routed
    assert len(reasons(result)) == sum(m.dead_lettered.values())
    assert len(notices(result)) == m.inbox_notices == sum(m.dead_lettered.values())


def test_thousands_of_random_byte_strings() -> None:
    rng = random.Random(7)
    h = Harness()
    total = 0
    for _ in range(4):
        batch = [(rng.randbytes(4), rng.randbytes(rng.randrange(0, 48)),
                  [(rng.choice(["ce_id", "ce_type", "ce_source", "z"]), rng.randbytes(6))])
                 for _ in range(500)]  # fmt: skip
        # every third value gets a valid frame so decoding goes past the magic byte
        batch = [(k, (b"\x00\x00\x00\x00\x03" + v) if i % 3 == 0 else v, hd)
                 for i, (k, v, hd) in enumerate(batch)]  # fmt: skip
        h.feed(ACME, *batch)
        total += len(batch)
    assert h.proc.metrics.accounted == total == sum(h.proc.metrics.dead_lettered.values())


def test_a_refused_record_is_noticed_in_its_platforms_inbox_without_its_bytes() -> None:
    from schemas.models import DeadLetterNotice

    h = Harness()
    early = filed("c-f", "acme", occurred_at=future(60))
    key, value, headers = record(early)
    result = h.feed(ACME, (key, value, headers))
    [dead] = [CODEC.decode(o.value, o.headers) for o in result.out if o.topic == CAT.deadletter]
    [out] = notices(result)
    assert out.topic == CAT.inbox("acme")
    notice = CODEC.decode(out.value, out.headers)
    assert isinstance(notice, DeadLetterNotice)
    assert (notice.reason, notice.platform_id) == (DeadLetterReason.FUTURE_TIMESTAMP, "acme")
    assert (notice.original_topic, notice.original_offset) == (ACME, 0)
    assert notice.dead_letter_id == dead.event_id and notice.ce_id == early.event_id
    assert notice.ce_type == "regbus.ComplaintFiled.v1"
    assert value not in out.value and early.consumer_ref.encode() not in out.value
    # the bureau's own refused records and unregistered platforms get no notice
    bureau = h.feed(CAT.bureau_ingress, (b"c", b"\xff", []))
    gone = h.feed(CAT.ingress("gone"), (b"c", b"\xff", []))
    assert notices(bureau) == notices(gone) == [] and reasons(bureau) and reasons(gone)
