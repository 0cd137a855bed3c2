"""Runtime settings, read from the environment (``REGBUS_*``) with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KAFKA_VERSION = "4.4.0"
DEFAULT_PORT = 19092


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    """Where the broker is and how topics are named; one place for every default."""

    bootstrap: str = field(
        default_factory=lambda: _env("REGBUS_BOOTSTRAP", f"127.0.0.1:{DEFAULT_PORT}")
    )
    topic_prefix: str = field(default_factory=lambda: _env("REGBUS_TOPIC_PREFIX", "regbus"))
    state_dir: Path = field(
        default_factory=lambda: Path(_env("REGBUS_STATE_DIR", str(PROJECT_ROOT / ".regbus")))
    )
    kafka_cache: Path = field(
        default_factory=lambda: Path(
            _env(
                "REGBUS_KAFKA_CACHE",
                str(Path.home() / ".cache" / "regbus" / f"kafka-{KAFKA_VERSION}"),
            )
        )
    )

    @property
    def port(self) -> int:
        return int(self.bootstrap.rsplit(":", 1)[1])
