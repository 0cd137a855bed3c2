"""Hash-chain checkpoints from inside the worker: a leader-only timer (optional part).

Every ``REGBUS_AUDIT_CHECKPOINT_INTERVAL`` seconds (default 300; 0 disables it) the leader
runs one round of :func:`streams.ledger.checkpoints.checkpoint` — the same code as
``regbus audit checkpoint`` — signed with ``REGBUS_AUDIT_KEY`` when that is set. A failed round
is logged and retried at the next interval; it never stops the worker.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from streams.ledger.checkpoints import checkpoint
from streams.ledger.signing import AuditKeyError, SigningKey, signing_key_from_env
from streams.topics import Catalogue

log = logging.getLogger(__name__)

ENV_INTERVAL = "REGBUS_AUDIT_CHECKPOINT_INTERVAL"
DEFAULT_INTERVAL = 300.0


def interval_from_env() -> float:
    raw = os.environ.get(ENV_INTERVAL, "")
    try:
        return float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        log.warning("%s=%r is not a number; using %s s", ENV_INTERVAL, raw, DEFAULT_INTERVAL)
        return DEFAULT_INTERVAL


async def checkpoint_round(settings: Any, catalogue: Catalogue, key: SigningKey | None) -> int:
    """One round; returns the checkpoints published (0 when it failed)."""
    try:
        made = await checkpoint(settings, catalogue, key)
    except Exception:  # a broker hiccup must not kill the worker's timer
        log.exception("audit checkpoint round failed; retrying at the next interval")
        return 0
    if made:
        log.info("published %d audit checkpoint(s)", len(made))
    return len(made)


def attach(app: Any, settings: Any, catalogue: Catalogue, options: Any) -> None:
    """Register the leader-only checkpoint timer on ``app`` (no-op when disabled)."""
    interval = interval_from_env()
    if interval <= 0:
        return
    try:
        key = signing_key_from_env()
    except AuditKeyError as exc:
        log.error("audit checkpoints disabled: %s", exc)
        return

    async def audit_checkpoint() -> None:
        await checkpoint_round(settings, catalogue, key)

    app.timer(interval, on_leader=True, name="audit_checkpoint")(audit_checkpoint)
