"""The topic catalogue: every topic the system uses, declared as data in one place.

Creation (``regbus topics create``), the AsyncAPI document and the broker ACLs are all
derived from :class:`Catalogue`; nothing else names a topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

from schemas.families import (
    ACCESS_EVENTS,
    ACCOUNT_EVENTS,
    ALERT_ACTION_EVENTS,
    ALERT_EVENTS,
    CALENDAR_EVENT,
    CAMPAIGN_EVENTS,
    CASE_EVENTS,
    CLOCK_EVENTS,
    ENFORCEMENT_EVENTS,
    INBOX_ALERTS,
    INBOX_NOTICES,
    NOTIFICATION_EVENTS,
    PLATFORM_EVENTS,
    RULE_EVENTS,
    TICK_EVENT,
    CaseFamily,
)
from schemas.send_rules import INBOX_CASE_EVENTS
from streams.limits import MAX_MESSAGE_BYTES
from streams.settings import DEFAULT_CASE_PARTITIONS, Settings

CASE_PARTITIONS = DEFAULT_CASE_PARTITIONS
UNLIMITED = -1
FROM_SCHEDULE = -2
"""``TopicSpec.retention_ms`` default: take the family's entry of :data:`RETENTION`."""
DAY_MS = 86_400_000


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
    CALENDAR = "calendar"
    ALERT_ACTIONS = "alert-actions"
    ACCOUNTS = "accounts"
    ACCESS_LOG = "access-log"
    NOTIFICATIONS = "notifications"
    PRIVACY = "privacy"
    SUBJECT_KEYS = "subject-keys"
    GOVERNANCE = "governance"


@dataclass(frozen=True)
class Retention:
    """How long a family's records are kept, and why (docs/decisions.md has the reasoning)."""

    ms: int
    why: str


RETENTION: dict[Family, Retention] = {
    Family.CASES: Retention(
        4 * 365 * DAY_MS,
        "transaction records: at least 3 years after the transaction (E-Commerce Law Art. 31; "
        "Order 117 Art. 16, Order 123); +1 year because a record's clock starts at its first "
        "event, not when the case completes",
    ),
    Family.ALERTS: Retention(4 * 365 * DAY_MS, "the bureau's decisions on those cases: as cases"),
    Family.SLA: Retention(4 * 365 * DAY_MS, "clock history of those cases: as cases"),
    Family.AUDIT: Retention(4 * 365 * DAY_MS, "hash-chain checkpoints must outlive what they seal"),
    Family.ROSTER: Retention(UNLIMITED, "tiny; every replay needs the roster in force then"),
    Family.CALENDAR: Retention(UNLIMITED, "tiny; every replay needs the calendar years"),
    Family.ALERT_ACTIONS: Retention(
        4 * 365 * DAY_MS, "regulators' handling of alerts on those cases: as cases"
    ),
    Family.ACCOUNTS: Retention(UNLIMITED, "tiny; the console's accounts are rebuilt from it"),
    Family.PRIVACY: Retention(
        UNLIMITED, "erasures must outlive every record they erase; views: who saw whose complaint"
    ),
    Family.SUBJECT_KEYS: Retention(UNLIMITED, "compacted: a key lives until its tombstone"),
    Family.GOVERNANCE: Retention(
        UNLIMITED,
        "tiny; the bureau's record of each platform (interviews, orders, penalties, spot checks, "
        "rule changes), and every replay needs it",
    ),
    Family.NOTIFICATIONS: Retention(
        4 * 365 * DAY_MS, "who was told of which escalation, and when: as the alerts"
    ),
    Family.ACCESS_LOG: Retention(
        4 * 365 * DAY_MS, "who viewed whose complaint (PIPL): kept as long as the cases viewed"
    ),
    Family.REGISTRY: Retention(UNLIMITED, "compacted: the latest registration per platform"),
    Family.INGRESS: Retention(
        30 * DAY_MS,
        "raw platform input: routed within seconds into the canonical topics (or dead-lettered);"
        " 30 days outlasts the longest holiday outage (about 9 days) three times over",
    ),
    Family.BUREAU_INGRESS: Retention(30 * DAY_MS, "as platform ingress"),
    Family.INBOX: Retention(
        90 * DAY_MS, "copies of bureau decisions for platforms (the originals are canonical)"
    ),
    Family.DEADLETTER: Retention(
        180 * DAY_MS,
        "refused input (personal data masked): time for the platform to fix and redrive, and for "
        "the monthly report to count it; nothing refused is a transaction record",
    ),
}
"""The retention schedule per topic family (``regbus topics create`` / ``apply``)."""


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name and everything needed to create and document it."""

    name: str
    family: Family
    partitions: int
    key: str
    value_schemas: tuple[str, ...]
    description: str
    retention_ms: int = FROM_SCHEDULE
    """Milliseconds to keep records (-1 forever); by default the family's :data:`RETENTION`."""
    cleanup_policy: str = "delete"
    extra_config: tuple[tuple[str, str], ...] = ()
    replication_factor: int = 1
    min_insync_replicas: int = 1

    def __post_init__(self) -> None:
        if self.retention_ms == FROM_SCHEDULE:
            object.__setattr__(self, "retention_ms", RETENTION[self.family].ms)

    def config(self) -> dict[str, str]:
        cfg = {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            "retention.bytes": "-1",
            "min.insync.replicas": str(self.min_insync_replicas),
            "max.message.bytes": str(MAX_MESSAGE_BYTES),
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
    replication_factor: int = 1
    min_insync_replicas: int = 1

    @classmethod
    def from_settings(cls, settings: Settings, platforms: Iterable[str] = ()) -> Catalogue:
        """The catalogue of ``settings``' prefix, with its case partitions, replication
        factor and ``min.insync.replicas``."""
        return cls(
            settings.topic_prefix,
            tuple(sorted(set(platforms))),
            settings.case_partitions,
            replication_factor=settings.replication_factor,
            min_insync_replicas=settings.min_insync_replicas,
        )

    def with_platforms(self, platforms: Iterable[str]) -> Catalogue:
        merged = tuple(sorted(set(self.platforms) | set(platforms)))
        return replace(self, platforms=merged)

    def _replicated(self, specs: list[TopicSpec]) -> list[TopicSpec]:
        rf, isr = self.replication_factor, self.min_insync_replicas
        return [replace(s, replication_factor=rf, min_insync_replicas=isr) for s in specs]

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
    def calendar(self) -> str:
        return f"{self.prefix}.calendar"

    @property
    def alert_actions(self) -> str:
        return f"{self.prefix}.alert-actions"

    @property
    def accounts(self) -> str:
        return f"{self.prefix}.accounts"

    @property
    def access_log(self) -> str:
        return f"{self.prefix}.access-log"

    @property
    def notifications(self) -> str:
        return f"{self.prefix}.notifications"

    @property
    def privacy(self) -> str:
        return f"{self.prefix}.privacy"

    @property
    def subject_keys(self) -> str:
        return f"{self.prefix}.subject-keys"

    @property
    def governance(self) -> str:
        return f"{self.prefix}.governance"

    @property
    def ingress_pattern(self) -> str:
        """Regex matching every ingress topic (platforms and bureau)."""
        return rf"^{_re_escape(self.prefix)}\.ingress\..+$"

    # specs -----------------------------------------------------------------------------
    def platform_specs(self, platform_id: str) -> list[TopicSpec]:
        specs = [
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
                (*INBOX_CASE_EVENTS, *INBOX_ALERTS, *INBOX_NOTICES),
                f"What the bureau tells platform {platform_id} (only it may read): every "
                "bureau decision on its cases (forwarded complaints, escalations, reopenings, "
                "rectification orders, verdicts with any new deadline, review requests), its "
                "own SLA warnings (ahead of the deadline, due time included), breaches and "
                "escalations, lifecycle violations, interview recommendations, and a notice "
                "of each of its records refused at ingress (reason and coordinates only).",
            ),
        ]
        return self._replicated(specs)

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
                    (*events, TICK_EVENT, CALENDAR_EVENT),
                    f"Canonical, validated {fam.value} events in case order, plus the clock "
                    "ticks that drive deadlines and the calendar years operators publish. "
                    "Append-only, never compacted.",
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
                self.alert_actions,
                Family.ALERT_ACTIONS,
                1,
                "alert id",
                ALERT_ACTION_EVENTS,
                "The console's alert workflow: acknowledged, assigned, noted, closed.",
            ),
            TopicSpec(
                self.accounts,
                Family.ACCOUNTS,
                1,
                "user name",
                ACCOUNT_EVENTS,
                "Regulator accounts and roles (argon2 hashes only, never a password).",
            ),
            TopicSpec(
                self.access_log,
                Family.ACCESS_LOG,
                1,
                "account",
                ACCESS_EVENTS,
                "Who viewed or exported which case data (personal information law).",
            ),
            TopicSpec(
                self.notifications,
                Family.NOTIFICATIONS,
                1,
                "delivery id",
                NOTIFICATION_EVENTS,
                "The notifier's delivery log: each alert delivered to a person of the roster "
                "by webhook or e-mail, or failed after the last retry (its dead letter).",
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
        out.append(
            TopicSpec(
                self.governance,
                Family.GOVERNANCE,
                self.case_partitions,
                "platform id (campaign id for spot checks)",
                (*ENFORCEMENT_EVENTS, *CAMPAIGN_EVENTS, *RULE_EVENTS, TICK_EVENT),
                "The bureau's governance of each platform: interviews (约谈) and outcomes, "
                "orders to correct (责令改正) with their deadlines and verdicts, penalty "
                "decisions and spot-check campaigns (双随机一公开), routed from bureau ingress; "
                "rule changes (协议规则) the platforms made, recorded by the bureau straight to "
                "it; plus the clock ticks that time the orders' deadlines. Append-only.",
            )
        )
        out.append(
            TopicSpec(
                self.calendar,
                Family.CALENDAR,
                1,
                "year",
                (CALENDAR_EVENT,),
                "PRC calendar years (holidays and make-up working days) loaded by operators with "
                "`regbus calendar add`; every worker reads it from the start (history kept).",
            )
        )
        out.extend(self._extra)
        return self._replicated(out)

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
