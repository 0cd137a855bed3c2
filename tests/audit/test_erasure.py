"""Crypto-shredding end to end: erase a consumer and the log still replays and verifies.

A complaint carries the complainant's name, phone and address sealed under the consumer's
own key (ComplaintFiled v3). ``regbus privacy erase`` destroys the key: the case still
replays, its personal fields read "erased", ``regbus audit verify`` still passes (the hash
chain is over the ciphertext record bytes, which never change), the key is gone from the
key store and a SubjectErased is on the privacy topic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from audit.privacy import SEALED, read_privacy
from audit.verify import verify_log
from schemas.models import Category, Channel, ComplaintFiled, Priority, SubjectErased
from schemas.sealed import ERASED, Complainant, SealError, open_complainant
from streams.codec import EventCodec
from streams.ledger.checkpoints import checkpoint
from streams.settings import PROJECT_ROOT
from streams.subject_keys import SubjectKeyStore
from tests.cases.scenario import START, Step
from tests.kafka_helpers import TopicReader

from .helpers import publish_steps

pytestmark = pytest.mark.broker
WHO = Complainant(name="张三", phone="13812345678", address="北京市海淀区中关村大街27号")


def _filed(case: str, consumer_ref: str, sealed: bytes) -> ComplaintFiled:
    return ComplaintFiled(
        event_id=str(uuid.uuid4()), case_id=case, platform_id="shop-e", occurred_at=START,
        channel=Channel.HOTLINE_12345, category=Category.FOOD_SAFETY, priority=Priority.NORMAL,
        claimed_amount_fen=2_500, insured=False, office="HD-ZGC", consumer_ref=consumer_ref,
        intake_at=START, complainant_sealed=sealed,
    )  # fmt: skip


def _regbus(settings, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = dict(os.environ, REGBUS_BOOTSTRAP=settings.bootstrap,
               REGBUS_TOPIC_PREFIX=settings.topic_prefix,
               REGBUS_STATE_DIR=str(settings.state_dir))  # fmt: skip
    return subprocess.run([sys.executable, "-m", "regbus", *args], capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip


async def test_erasing_a_consumer_keeps_replay_and_verify(settings, catalogue, tmp_path: Path):
    keys = await SubjectKeyStore(settings, catalogue).load()
    erased_ref, kept_ref = "c-erase-me", "c-keep-me"
    gone = _filed("CP-ERASE", erased_ref, await keys.seal(erased_ref, "CP-ERASE", WHO))
    kept = _filed("CP-KEEP", kept_ref, await keys.seal(kept_ref, "CP-KEEP", WHO))
    codec = EventCodec()
    await publish_steps(settings.bootstrap, catalogue, [
        Step(START, gone), Step(START, kept), Step(START + timedelta(hours=1), None),
    ], codec)  # fmt: skip
    # the data is not in clear on the case topic, and opens with the subject's key
    async with TopicReader(settings.bootstrap, catalogue.cases(_complaints())) as r:
        raw = await r.read_until(lambda rs: len(rs) >= 2, 60, "the two complaints")
    blob = b"".join(m.value for m in raw)
    for clear in (WHO.phone, WHO.address, WHO.name):
        assert clear is not None and clear.encode() not in blob
    key = (await SubjectKeyStore(settings, catalogue).load()).get(erased_ref)
    assert key is not None
    assert open_complainant(key, erased_ref, "CP-ERASE", gone.complainant_sealed or b"") == WHO
    await checkpoint(settings, catalogue, None, full=True)
    assert (await verify_log(settings, catalogue)).ok

    run = _regbus(settings, "privacy", "erase", erased_ref, "--by", "tester", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["key_existed"] is True

    # the key is gone: the store no longer has it, and the old blob opens with no other key
    after = await SubjectKeyStore(settings, catalogue).load()
    assert after.get(erased_ref) is None and after.get(kept_ref) is not None
    with pytest.raises(SealError):
        open_complainant(after.get(kept_ref) or b"", erased_ref, "CP-ERASE",
                         gone.complainant_sealed or b"")  # fmt: skip
    # the erasure is itself an audited event
    async with TopicReader(settings.bootstrap, catalogue.privacy) as r:
        recs = await r.read_until(lambda rs: len(rs) >= 1, 60, "the SubjectErased")
    (erasure,) = [codec.decode(m.value) for m in recs]
    assert isinstance(erasure, SubjectErased) and erasure.consumer_ref == erased_ref
    assert erasure.erased_by == "tester"

    # the hash chain still verifies (nothing in the case topics changed), by API and CLI
    assert (await verify_log(settings, catalogue)).ok
    verify = _regbus(settings, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # the case still replays; its personal fields read "erased", the other's "sealed"
    privacy = await read_privacy(settings, catalogue)
    assert privacy.cases["CP-ERASE"]["fields"] == dict.fromkeys(("name", "phone", "address"),
                                                                 ERASED)  # fmt: skip
    assert set(privacy.cases["CP-KEEP"]["fields"].values()) == {SEALED}
    out = tmp_path / "audit"
    until = (START + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    rep = _regbus(settings, "replay", "--until", until, "--out", str(out), "--no-progress",
                  "--no-reconcile")  # fmt: skip
    assert rep.returncode == 0, rep.stdout + rep.stderr
    report = json.loads((out / "report.json").read_text())
    cases = {c["case_id"]: c for c in report["cases"]}
    assert cases["CP-ERASE"]["kind"] is not None  # replayed into a state
    assert cases["CP-ERASE"]["personal"] == {"name": ERASED, "phone": ERASED, "address": ERASED}
    assert report["privacy"]["erasures"][0]["consumer_ref"] == erased_ref
    schema = json.loads((PROJECT_ROOT / "docs" / "audit-report.schema.json").read_text())
    jsonschema.validate(report, schema)
    html = (out / "report.html").read_text()
    assert ERASED in html and WHO.phone not in html


def _complaints():  # type: ignore[no-untyped-def]
    from schemas.families import CaseFamily

    return CaseFamily.COMPLAINTS
