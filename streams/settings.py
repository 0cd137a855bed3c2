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


def _default_cache() -> Path:
    return Path.home() / ".cache" / "regbus" / f"kafka-{KAFKA_VERSION}"


@dataclass(frozen=True)
class Settings:
    """Where the broker is and how topics are named; one place for every default."""

    bootstrap: str = DEFAULT_BOOTSTRAP
    topic_prefix: str = DEFAULT_PREFIX
    state_dir: Path = PROJECT_ROOT / ".regbus"
    kafka_cache: Path = field(default_factory=_default_cache)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings ``REGBUS_BOOTSTRAP``, ``REGBUS_TOPIC_PREFIX``, ``REGBUS_STATE_DIR`` and
        ``REGBUS_KAFKA_CACHE`` give, defaults for the rest."""
        env = os.environ if environ is None else environ
        default = cls()
        return cls(
            bootstrap=env.get("REGBUS_BOOTSTRAP", default.bootstrap),
            topic_prefix=env.get("REGBUS_TOPIC_PREFIX", default.topic_prefix),
            state_dir=Path(env.get("REGBUS_STATE_DIR", str(default.state_dir))),
            kafka_cache=Path(env.get("REGBUS_KAFKA_CACHE", str(default.kafka_cache))),
        )

    @property
    def port(self) -> int:
        return int(self.bootstrap.rsplit(":", 1)[1])
