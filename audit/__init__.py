"""Audit: replay as of an instant, reports, reconciliation, and tamper evidence.

* replay — :func:`audit.replay.replay` folds the canonical topics through the live case
  agent's processor (:mod:`.fold`) as of T; :class:`.collect.Collector` gathers what the
  report needs while it runs.
* report — :func:`.report.build_report` (JSON, ``docs/audit-report.schema.json``),
  :func:`.html.render_html` (one self-contained page with inline SVG charts),
  :func:`.reconcile.reconcile_replay` (expected alerts against the alerts topic: the case
  agents' and, replayed by :class:`.regulator_replay.RegulatorReplay`, the regulator's
  signals and interviews), :func:`.deadletters.read_dead_letters` (ingress and agents).
* tamper evidence — :mod:`.chain` (per-partition SHA-256 chain), :mod:`.checkpoints`
  (checkpoints to the audit topic), :mod:`.signing` (Ed25519), :mod:`.verify` and
  :mod:`.export`.

See ``docs/audit.md``.
"""

from __future__ import annotations

from audit.collect import Collector
from audit.deadletters import DeadLetterCount, read_dead_letters
from audit.export import export_partition
from audit.fold import AsOf, MemoryStore, Mode, ReplayFolder
from audit.html import render_html, write_html
from audit.reconcile import Reconciliation, Scope, read_alerts, reconcile, reconcile_replay
from audit.regulator_replay import RegulatorReplay
from audit.report import build_report, write_json
from audit.verify import Break, VerifyReport, verify_file, verify_log
from streams.ledger.chain import Chain, encode_record, genesis, link
from streams.ledger.checkpoints import checkpoint, make_checkpoints, read_checkpoints
from streams.ledger.signing import SigningKey, generate, load_public_key, load_signing_key

__all__ = [
    "AsOf",
    "Break",
    "Chain",
    "Collector",
    "DeadLetterCount",
    "MemoryStore",
    "Mode",
    "Reconciliation",
    "RegulatorReplay",
    "ReplayFolder",
    "Scope",
    "SigningKey",
    "VerifyReport",
    "build_report",
    "checkpoint",
    "encode_record",
    "export_partition",
    "generate",
    "genesis",
    "link",
    "load_public_key",
    "load_signing_key",
    "make_checkpoints",
    "read_alerts",
    "read_checkpoints",
    "read_dead_letters",
    "reconcile",
    "reconcile_replay",
    "render_html",
    "verify_file",
    "verify_log",
    "write_html",
    "write_json",
]
