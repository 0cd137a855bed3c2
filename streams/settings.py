"""Where the broker is and how topics are named: one typed value, passed in at the edges.

:meth:`Settings.from_env` reads ``REGBUS_*`` once, in the command line; everything below takes
a :class:`Settings` as an argument and reads no environment of its own. ``Settings()`` is the
local defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KAFKA_VERSION = "4.4.0"
DEFAULT_PORT = 19092
DEFAULT_BOOTSTRAP = f"127.0.0.1:{DEFAULT_PORT}"
DEFAULT_PREFIX = "regbus"
DEFAULT_CASE_PARTITIONS = 4
"""Partitions of every keyed topic (ingress, cases, alerts, sla): the most workers that can
share the case load. 4 keeps the demo's tick volume and timings; a bureau running more
workers sets ``REGBUS_CASE_PARTITIONS`` (e.g. 12) before the topics are created."""


def _default_cache() -> Path:
    return Path.home() / ".cache" / "regbus" / f"kafka-{KAFKA_VERSION}"


@dataclass(frozen=True)
class Settings:
    """Where the broker is and how topics are named; one place for every default."""

    bootstrap: str = DEFAULT_BOOTSTRAP
    topic_prefix: str = DEFAULT_PREFIX
    state_dir: Path = PROJECT_ROOT / ".regbus"
    kafka_cache: Path = field(default_factory=_default_cache)
    replication_factor: int = 1
    """Replicas of every topic the system creates (the catalogue's and Faust's own): 1 on
    the single default broker, 3 on the three-node cluster (``regbus broker up --nodes 3``)."""
    min_insync_replicas: int = 1
    """``min.insync.replicas`` of those topics: with producers on acks=all, a write is
    acknowledged once this many replicas have it (2 of 3 on the cluster)."""
    case_partitions: int = DEFAULT_CASE_PARTITIONS

    def __post_init__(self) -> None:
        if self.replication_factor < 1 or self.case_partitions < 1:
            raise ValueError("replication factor and case partitions must be at least 1")
        if not 1 <= self.min_insync_replicas <= self.replication_factor:
            raise ValueError(
                f"min.insync.replicas {self.min_insync_replicas} must be between 1 and the "
                f"replication factor {self.replication_factor}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings ``REGBUS_BOOTSTRAP``, ``REGBUS_TOPIC_PREFIX``, ``REGBUS_STATE_DIR``,
        ``REGBUS_KAFKA_CACHE``, ``REGBUS_REPLICATION_FACTOR``, ``REGBUS_MIN_INSYNC_REPLICAS``
        and ``REGBUS_CASE_PARTITIONS`` give, defaults for the rest."""
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            bootstrap=env.get("REGBUS_BOOTSTRAP", default.bootstrap),
            topic_prefix=env.get("REGBUS_TOPIC_PREFIX", default.topic_prefix),
            state_dir=Path(env.get("REGBUS_STATE_DIR", str(default.state_dir))),
            kafka_cache=Path(env.get("REGBUS_KAFKA_CACHE", str(default.kafka_cache))),
            replication_factor=_int(env, "REGBUS_REPLICATION_FACTOR", default.replication_factor),
            min_insync_replicas=_int(
                env, "REGBUS_MIN_INSYNC_REPLICAS", default.min_insync_replicas
            ),
            case_partitions=_int(env, "REGBUS_CASE_PARTITIONS", default.case_partitions),
        )

    def to_env(self) -> dict[str, str]:
        """The ``REGBUS_*`` variables :meth:`from_env` reads back as these settings (for a
        worker subprocess)."""
        return {
            "REGBUS_BOOTSTRAP": self.bootstrap,
            "REGBUS_TOPIC_PREFIX": self.topic_prefix,
            "REGBUS_STATE_DIR": str(self.state_dir),
            "REGBUS_KAFKA_CACHE": str(self.kafka_cache),
            "REGBUS_REPLICATION_FACTOR": str(self.replication_factor),
            "REGBUS_MIN_INSYNC_REPLICAS": str(self.min_insync_replicas),
            "REGBUS_CASE_PARTITIONS": str(self.case_partitions),
        }

    @property
    def port(self) -> int:
        """The first bootstrap address's port (a cluster lists several)."""
        return int(self.bootstrap.split(",", 1)[0].rsplit(":", 1)[1])


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a whole number") from None
