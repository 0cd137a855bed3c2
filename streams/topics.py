"""The topic catalogue: every topic the system uses, declared as data in one place.

Creation (``regbus topics create``), the AsyncAPI document and the broker ACLs are all
derived from :class:`Catalogue`; nothing else names a topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from schemas.families import (
    ALERT_EVENTS,
    CASE_EVENTS,
    CLOCK_EVENTS,
    PLATFORM_EVENTS,
    TICK_EVENT,
    CaseFamily,
)

CASE_PARTITIONS = 4
UNLIMITED = -1


class Family(StrEnum):
    INGRESS = "ingress"
    INBOX = "inbox"
    BUREAU_INGRESS = "bureau-ingress"
    CASES = "cases"
    ALERTS = "alerts"
    SLA = "sla"
    DEADLETTER = "deadletter"
    AUDIT = "audit"
    REGISTRY = "registry"
    ROSTER = "roster"
    PRIVACY = "privacy"
    SUBJECT_KEYS = "subject-keys"


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name and everything needed to create and document it."""

    name: str
    family: Family
    partitions: int
    key: str
    value_schemas: tuple[str, ...]
    description: str
    retention_ms: int = UNLIMITED
    cleanup_policy: str = "delete"
    extra_config: tuple[tuple[str, str], ...] = ()

    def config(self) -> dict[str, str]:
        cfg = {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            "retention.bytes": "-1",
            "min.insync.replicas": "1",
        }
        cfg.update(dict(self.extra_config))
        return cfg


@dataclass(frozen=True)
class Catalogue:
    """All topics under one name prefix (tests use a uuid prefix for isolation)."""

    prefix: str = "regbus"
    platforms: tuple[str, ...] = ()
    case_partitions: int = CASE_PARTITIONS
    _extra: tuple[TopicSpec, ...] = field(default=())

    def with_platforms(self, platforms: Iterable[str]) -> Catalogue:
        merged = tuple(sorted(set(self.platforms) | set(platforms)))
        return Catalogue(self.prefix, merged, self.case_partitions, self._extra)

    # names -----------------------------------------------------------------------------
    def ingress(self, platform_id: str) -> str:
        return f"{self.prefix}.ingress.{platform_id}"

    def inbox(self, platform_id: str) -> str:
        return f"{self.prefix}.inbox.{platform_id}"

    @property
    def bureau_ingress(self) -> str:
        return f"{self.prefix}.ingress.bureau"

    def cases(self, family: CaseFamily) -> str:
        return f"{self.prefix}.cases.{family.value}"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}.alerts"

    @property
    def sla(self) -> str:
        return f"{self.prefix}.sla"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}.deadletter"

    @property
    def audit(self) -> str:
        return f"{self.prefix}.audit"

    @property
    def platforms_registry(self) -> str:
        return f"{self.prefix}.platforms"

    @property
    def roster(self) -> str:
        return f"{self.prefix}.roster"

    @property
    def privacy(self) -> str:
        return f"{self.prefix}.privacy"

    @property
    def subject_keys(self) -> str:
        return f"{self.prefix}.subject-keys"

    @property
    def ingress_pattern(self) -> str:
        """Regex matching every ingress topic (platforms and bureau)."""
        return rf"^{_re_escape(self.prefix)}\.ingress\..+$"

    # specs -----------------------------------------------------------------------------
    def platform_specs(self, platform_id: str) -> list[TopicSpec]:
        return [
            TopicSpec(
                self.ingress(platform_id),
                Family.INGRESS,
                self.case_partitions,
                "case id",
                PLATFORM_EVENTS,
                f"Events platform {platform_id} publishes to the bureau (only it may write).",
            ),
            TopicSpec(
                self.inbox(platform_id),
                Family.INBOX,
                1,
                "case id",
                ("ComplaintForwarded", "RectificationOrdered", "RefundRequested"),
                f"What the bureau sends platform {platform_id}: forwarded complaints, "
                "rectification orders, review requests (only it may read).",
            ),
        ]

    def specs(self) -> list[TopicSpec]:
        out: list[TopicSpec] = [
            TopicSpec(
                self.bureau_ingress,
                Family.BUREAU_INGRESS,
                self.case_partitions,
                "case id",
                PLATFORM_EVENTS,
                "Bureau-originated events: hotline intake, forwarding, inspection findings, "
                "rectification orders and verdicts.",
            )
        ]
        for platform_id in self.platforms:
            out.extend(self.platform_specs(platform_id))
        for fam, events in CASE_EVENTS.items():
            out.append(
                TopicSpec(
                    self.cases(fam),
                    Family.CASES,
                    self.case_partitions,
                    "case id",
                    (*events, TICK_EVENT),
                    f"Canonical, validated {fam.value} events in case order, plus the clock "
                    "ticks that drive deadlines. Append-only, never compacted.",
                )
            )
        out += [
            TopicSpec(
                self.alerts,
                Family.ALERTS,
                self.case_partitions,
                "subject (case id or platform id)",
                ALERT_EVENTS,
                "Alerts for regulators, routed by level OFFICE / DEPARTMENT / LEADERSHIP.",
            ),
            TopicSpec(
                self.sla,
                Family.SLA,
                self.case_partitions,
                "case id",
                CLOCK_EVENTS,
                "Every SLA clock change (started, paused, resumed, met, cancelled).",
            ),
            TopicSpec(
                self.deadletter,
                Family.DEADLETTER,
                1,
                "original topic",
                ("DeadLetterRecord",),
                "Rejected input with its reason code and the original bytes and headers.",
            ),
            TopicSpec(
                self.audit,
                Family.AUDIT,
                1,
                "topic-partition",
                ("AuditCheckpoint",),
                "Hash-chain checkpoints over the canonical topics (tamper evidence).",
                extra_config=(("message.timestamp.type", "LogAppendTime"),),
            ),
            TopicSpec(
                self.platforms_registry,
                Family.REGISTRY,
                1,
                "platform id",
                ("PlatformRegistration",),
                "Registered platforms (latest entry per platform wins).",
                cleanup_policy="compact",
            ),
            TopicSpec(
                self.roster,
                Family.ROSTER,
                1,
                "platform id",
                ("RosterAssigned",),
                "The 包片 roster: every assignment of a platform to its office, department "
                "and leader, with the day it takes effect (history kept, never compacted).",
            ),
            TopicSpec(
                self.privacy,
                Family.PRIVACY,
                1,
                "consumer ref (erasures) or case id (views)",
                ("SubjectErased", "PersonalDataViewed"),
                "PIPL trail: each erasure of a data subject's key, and who viewed whose "
                "complaint (append-only; read by the auditor's replay).",
            ),
            TopicSpec(
                self.subject_keys,
                Family.SUBJECT_KEYS,
                1,
                "consumer ref",
                ("SubjectKey",),
                "One AES-256 key per data subject (crypto-shredding); a tombstone erases it. "
                "Compacted, tombstones kept one hour; only the worker and bureau read it.",
                cleanup_policy="compact",
                extra_config=(
                    ("delete.retention.ms", "3600000"),
                    ("segment.ms", "3600000"),
                    ("min.cleanable.dirty.ratio", "0.01"),
                    ("max.compaction.lag.ms", "3600000"),
                ),
            ),
        ]
        out.extend(self._extra)
        return out

    def __iter__(self) -> Iterator[TopicSpec]:
        return iter(self.specs())

    def by_name(self, name: str) -> TopicSpec:
        for spec in self.specs():
            if spec.name == name:
                return spec
        raise KeyError(name)


def _re_escape(text: str) -> str:
    import re

    return re.escape(text)


PLATFORM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")


class RegistryError(ValueError):
    pass


def validate_platform_id(platform_id: str) -> str:
    if platform_id == "bureau" or not PLATFORM_ID.match(platform_id):
        raise RegistryError(
            f"platform id {platform_id!r}: use 2-63 lowercase letters, digits, '-' or '_' "
            "(and not 'bureau')"
        )
    return platform_id
