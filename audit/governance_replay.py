"""Issue 18 in the audit replay: the 未诉先办 refund signal and the platform rule changes.

:class:`GovernanceReplay` runs the worker's own processors over the replay's records
(:class:`agents.early_signals.EarlySignalProcessor` for REFUND_REJECTIONS_RISING,
:class:`agents.rule_changes.RuleChangesProcessor` for the complaints a rule change is judged
on) over in-memory tables, so the signals it raises are the ones the worker must have raised
(the reconciliation compares them, :mod:`audit.reconcile`) and the rule effects it reports are
computed by the function the worker's ``/platforms/{id}/rules`` answers with
(:func:`agents.rule_changes.platform_rules`). The rule changes themselves come from the
governance topic, read up to the audited instant (:func:`streams.rule_log.read_rule_changes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from agents.core.context import Context
from agents.early_signals import EARLY_TABLE, EarlySignalProcessor
from agents.rule_changes import RULES_TABLE, RuleChangesProcessor, platform_rules
from agents.scorecard import SignalsPolicy
from audit.fold import MemoryStore
from schemas.models import AlertEvent, PlatformRuleChanged
from streams.codec import EventCodec
from streams.records import BatchResult, InRecord
from streams.topics import Catalogue

__all__ = ["GovernanceReplay"]

_SEP = "\x1f"


class GovernanceReplay:
    def __init__(self, catalogue: Catalogue, ctx: Context, policy: SignalsPolicy,
                 partitions: int, codec: EventCodec | None = None) -> None:  # fmt: skip
        self.codec = codec or EventCodec()
        self.early = EarlySignalProcessor(catalogue, ctx, policy, partitions, self.codec)
        self.rules = RuleChangesProcessor(catalogue, self.codec)
        self.tables = {EARLY_TABLE: MemoryStore(), RULES_TABLE: MemoryStore()}
        self.changes: list[PlatformRuleChanged] = []

    def feed(self, batch: Sequence[InRecord]) -> list[AlertEvent]:
        """The replay's records (case events and ticks, in the order folded); the signals
        they raise."""
        self._apply(self.rules.process(batch, self.tables))
        out = []
        for o in self._apply(self.early.process(batch, self.tables)):
            event = self.codec.decode(o.value, o.headers)
            if isinstance(event, AlertEvent):
                out.append(event)
        return out

    def _apply(self, result: BatchResult) -> Iterable[Any]:
        for w in result.writes:
            store = self.tables[w.table]
            if w.value is None:
                store.data.pop(w.key, None)
            else:
                store.data[w.key] = w.value
        return result.out

    def add_rule_changes(self, changes: Iterable[PlatformRuleChanged]) -> None:
        store = self.tables[RULES_TABLE]
        for c in changes:
            self.changes.append(c)
            key = _SEP.join(("r", c.platform_id, c.rule_id, c.event_id)).encode()
            store.data[key] = orjson.dumps(c.model_dump(mode="json"))

    def rule_changes(self) -> list[dict[str, Any]]:
        """Every platform's rule changes with their effect, as of the replay clock's day."""
        out: list[dict[str, Any]] = []
        for platform in sorted({c.platform_id for c in self.changes}):
            body = platform_rules(platform, self.tables[RULES_TABLE], self.rules.day)
            out.extend(body["rules"])
        return out
