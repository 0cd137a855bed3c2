"""Verify the hash chains: of the live log against the signed checkpoints, or of an export.

Live log (:func:`verify_log`): every canonical partition's chain is recomputed from its
genesis and compared with each checkpoint at its ``to_offset``. The first checkpoint that
disagrees bounds the break: the change lies in ``range_from``..``offset`` (one checkpoint
block; ``regbus audit checkpoint --every`` sets the block size), everything before it is
proven intact. Checkpoints whose signature does not verify are reported and not used.

Export (:func:`verify_file`): the file carries every record and the chain hash the exporter
computed after it, so the first record whose recomputed hash differs is exact: a changed
record breaks at itself (``modified``), a removed one at its offset (``removed``), an
inserted or reordered one at its position (``reordered``). A copy rewritten consistently,
stored hashes included, is still caught by the signed checkpoints in the file
(``checkpoint_mismatch``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.export import EXPORT_FORMAT, decode_record
from schemas.models import AuditCheckpoint
from streams.ledger.chain import Chain, link
from streams.ledger.checkpoints import canonical_topics, read_checkpoints
from streams.ledger.logread import LogReader, Ranges
from streams.ledger.signing import key_id, verify_checkpoint
from streams.settings import Settings
from streams.topics import Catalogue


@dataclass(frozen=True)
class Break:
    """Where a chain stops matching: ``offset`` is the first record known to be wrong
    (exports) or the end of the first failing checkpoint block (live log)."""

    topic: str
    partition: int
    offset: int
    kind: str
    expected: str | None
    actual: str | None
    detail: str
    range_from: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "range_from": self.range_from,
            "kind": self.kind,
            "expected": self.expected,
            "actual": self.actual,
            "detail": self.detail,
        }


@dataclass
class PartitionVerdict:
    topic: str
    partition: int
    records: int = 0
    checkpoints_matched: int = 0
    verified_through: int | None = None
    """Last offset proven by a matching checkpoint."""
    unverified_records: int = 0
    """Records after the last matching checkpoint (not covered yet)."""
    failure: Break | None = None


@dataclass
class SignatureIssue:
    topic: str
    partition: int
    to_offset: int
    key_id: str | None
    reason: str


@dataclass
class VerifyReport:
    partitions: list[PartitionVerdict] = field(default_factory=list)
    checkpoints: int = 0
    signed_valid: int = 0
    unsigned: int = 0
    signature_issues: list[SignatureIssue] = field(default_factory=list)
    public_key_id: str | None = None
    require_signatures: bool = False
    undecodable_checkpoints: int = 0

    @property
    def breaks(self) -> list[Break]:
        return [p.failure for p in self.partitions if p.failure is not None]

    @property
    def ok(self) -> bool:
        if self.breaks or self.signature_issues:
            return False
        return not (self.require_signatures and self.unsigned)


def _trusted(
    checkpoints: Iterable[AuditCheckpoint],
    public: Ed25519PublicKey | None,
    report: VerifyReport,
) -> dict[tuple[str, int], list[AuditCheckpoint]]:
    """Checkpoints per partition that may be used: all when no key is given, else only
    validly signed ones (unsigned ones count as unsigned; wrongly signed ones as issues)."""
    per: dict[tuple[str, int], dict[int, AuditCheckpoint]] = defaultdict(dict)
    wanted = None if public is None else key_id(public)
    for cp in checkpoints:
        report.checkpoints += 1
        if not cp.signature:
            report.unsigned += 1
            if public is not None and report.require_signatures:
                continue
        elif public is not None:
            if verify_checkpoint(cp, public):
                report.signed_valid += 1
            else:
                reason = "signed by another key" if cp.key_id != wanted else "bad signature"
                report.signature_issues.append(
                    SignatureIssue(cp.topic, cp.partition, cp.to_offset, cp.key_id, reason)
                )
                continue
        per[(cp.topic, cp.partition)][cp.to_offset] = cp
    return {k: [v[o] for o in sorted(v)] for k, v in per.items()}


class _Checker:
    """Walks one partition's records and compares the chain with its checkpoints."""

    def __init__(self, chain: Chain, checkpoints: list[AuditCheckpoint], verdict: PartitionVerdict):
        self.chain = chain
        self.cps = checkpoints
        self.i = 0
        self.verdict = verdict
        self.last_good = chain.last_offset

    def record(self, offset: int, head_hex: str) -> bool:
        """After the chain took ``offset``; False once the partition has broken."""
        v = self.verdict
        v.records += 1
        while self.i < len(self.cps) and self.cps[self.i].to_offset < offset:
            cp = self.cps[self.i]  # the log has no record where the checkpoint ended
            v.failure = Break(
                v.topic, v.partition, cp.to_offset, "missing_record", cp.chain_hash, None,
                f"checkpoint ends at offset {cp.to_offset}, which is not in the log",
                self._from(),
            )  # fmt: skip
            return False
        if self.i < len(self.cps) and self.cps[self.i].to_offset == offset:
            cp = self.cps[self.i]
            if cp.chain_hash != head_hex:
                v.failure = Break(
                    v.topic, v.partition, offset, "checkpoint_mismatch", cp.chain_hash, head_hex,
                    f"the chain over offsets {self._from()}..{offset} differs from the "
                    "checkpoint: a record in that range was changed, removed or inserted",
                    self._from(),
                )  # fmt: skip
                return False
            v.checkpoints_matched += 1
            v.verified_through = offset
            self.last_good = offset
            self.i += 1
        return True

    def _from(self) -> int:
        return 0 if self.last_good is None else self.last_good + 1

    def end(self, next_offset: int) -> None:
        v = self.verdict
        if v.failure is None and self.i < len(self.cps):
            cp = self.cps[self.i]
            v.failure = Break(
                v.topic, v.partition, max(next_offset, self._from()), "missing_record",
                cp.chain_hash, None,
                f"the log ends before offset {cp.to_offset}, where a checkpoint ends "
                "(records were removed from the end)",
                self._from(),
            )  # fmt: skip
        through = -1 if v.verified_through is None else v.verified_through
        v.unverified_records = max(0, next_offset - 1 - through) if v.failure is None else 0


async def verify_log(
    settings: Settings,
    catalogue: Catalogue | None = None,
    public: Ed25519PublicKey | None = None,
    *,
    require_signatures: bool = False,
) -> VerifyReport:
    catalogue = catalogue or Catalogue.from_settings(settings)
    report = VerifyReport(
        public_key_id=None if public is None else key_id(public),
        require_signatures=require_signatures,
    )
    stored, bad = await read_checkpoints(settings, catalogue)
    report.undecodable_checkpoints = bad
    per = _trusted((s.checkpoint for s in stored), public, report)
    async with LogReader(settings) as reader:
        bounds = await reader.bounds(canonical_topics(catalogue))
        checkers: dict[TopicPartition, tuple[Chain, _Checker]] = {}
        ranges: Ranges = {}
        for tp, (start, end) in sorted(bounds.items()):
            verdict = PartitionVerdict(tp.topic, tp.partition)
            report.partitions.append(verdict)
            cps = per.get((tp.topic, tp.partition), [])
            chain = _anchor(tp.topic, tp.partition, start, cps, verdict)
            if chain is None:
                continue
            checkers[tp] = (
                chain,
                _Checker(chain, [c for c in cps if c.to_offset >= start], verdict),
            )
            ranges[tp] = (start, end)
        async for tp, batch in reader.read(ranges):
            chain, checker = checkers[tp]
            for r in batch:
                chain.add(r.offset, r.timestamp, r.key, r.value, r.headers)
                if not checker.record(r.offset, chain.head_hex):
                    reader.stop(tp)
                    break
        for tp, (chain, checker) in checkers.items():
            last = chain.last_offset
            checker.end(ranges[tp][0] if last is None else last + 1)
    return report


def _anchor(
    topic: str, p: int, start: int, cps: list[AuditCheckpoint], verdict: PartitionVerdict
) -> Chain | None:
    if start == 0:
        return Chain.start(topic, p)
    for cp in cps:
        if cp.to_offset == start - 1:
            return Chain.resume(topic, p, cp.chain_hash, cp.to_offset)
    verdict.failure = Break(
        topic, p, start, "unanchored", None, None,
        f"the log starts at offset {start} and no checkpoint ends at {start - 1}",
    )  # fmt: skip
    return None


# exported copies ---------------------------------------------------------------------
def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def verify_file(
    path: Path, public: Ed25519PublicKey | None = None, *, require_signatures: bool = False
) -> VerifyReport:
    """Verify an export written by ``regbus audit export`` (one partition per file)."""
    report = VerifyReport(
        public_key_id=None if public is None else key_id(public),
        require_signatures=require_signatures,
    )
    lines = _lines(path)
    header = next(lines, None)
    if header is None or header.get("format") != EXPORT_FORMAT:
        raise ValueError(f"{path} is not a {EXPORT_FORMAT} file")
    topic, p = str(header["topic"]), int(header["partition"])
    embedded = [
        AuditCheckpoint.model_validate(line["checkpoint"])
        for line in _lines(path)
        if "checkpoint" in line
    ]
    cps = _trusted(embedded, public, report).get((topic, p), [])
    verdict = PartitionVerdict(topic, p)
    report.partitions.append(verdict)
    anchor = header.get("anchor")
    if anchor:
        chain = Chain.resume(topic, p, str(anchor["chain_hash"]), int(anchor["offset"]))
    else:
        chain = Chain.start(topic, p)
    first = int(header.get("first_offset", 0))
    checker = _Checker(chain, [c for c in cps if c.to_offset >= first], verdict)
    previous = first - 1
    for line in lines:
        if "offset" not in line:
            continue
        offset, ts, key, value, headers = decode_record(line)
        computed = link(chain.head, offset, ts, key, value, headers).hex()
        stored = line.get("chain")
        failure = _record_break(topic, p, previous, offset, stored, computed)
        if failure is not None:
            verdict.failure = failure
            break
        chain.head, chain.last_offset = bytes.fromhex(computed), offset
        previous = offset
        if not checker.record(offset, computed):
            break
    end = int(header.get("end_offset", previous + 1))
    if verdict.failure is None and previous < end - 1:
        verdict.failure = Break(
            topic, p, previous + 1, "removed", None, None,
            f"the export ends at offset {previous}, but the partition ended at {end - 1}: "
            "records were removed from the end",
        )  # fmt: skip
    checker.end(previous + 1)
    return report


def _record_break(
    topic: str, p: int, previous: int, offset: int, stored: str | None, computed: str
) -> Break | None:
    if offset <= previous:
        return Break(
            topic, p, offset, "reordered", None, None,
            f"offset {offset} follows offset {previous}: records were inserted or reordered",
        )  # fmt: skip
    if stored is None or stored == computed:
        return None  # a gap whose stored hash matches was a gap in the source log
    if offset != previous + 1:
        missing = f"{previous + 1}" if offset == previous + 2 else f"{previous + 1}..{offset - 1}"
        return Break(
            topic, p, previous + 1, "removed", stored, computed,
            f"record(s) at offset {missing} were removed: offset {offset} follows {previous} "
            "and its chain hash no longer matches",
        )  # fmt: skip
    return Break(
        topic, p, offset, "modified", stored, computed,
        f"the record at offset {offset} differs from the one the chain was computed over",
    )  # fmt: skip
