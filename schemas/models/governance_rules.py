"""Platform rule changes (topic ``governance``, keyed by platform id): a platform changed one of
its protocol rules (协议规则), e.g. the 保价 (insured value) rule for instant delivery, often in
answer to the bureau's advice. The bureau records the change; ``case_id`` is empty."""

from __future__ import annotations

from pydantic import model_validator

from schemas.models._base import Event, NonEmptyStr, UtcDatetime
from schemas.models.enums import Category


class PlatformRuleChanged(Event):
    """From ``effective_from`` (the instant the new rule applies; 00:00 Beijing time of its
    first day when only a date is known) the platform's rule ``rule_id`` reads ``new_text``
    (or the text at ``text_ref``). ``categories`` are the complaint categories it touches, whose
    complaint rates before and after are compared."""

    rule_id: NonEmptyStr
    """The platform's own id of the rule, e.g. ``insured-delivery``; a later change of the same
    rule id supersedes this one."""
    title: NonEmptyStr
    """The rule's title, e.g. 同城配送保价规则."""
    old_text: str | None = None
    """The rule's text before the change (null for a new rule, or when only a reference is kept)."""
    new_text: str | None = None
    text_ref: str | None = None
    """Where the published text is (an URL or a document number); new_text or text_ref is given."""
    effective_from: UtcDatetime
    categories: list[Category]
    """The complaint categories the rule touches (at least one)."""
    advice_ref: str | None = None
    """The bureau's advice (建议) the change answers, e.g. a note of the local office; null when
    the platform changed the rule of its own accord."""
    recorded_by: NonEmptyStr
    """The bureau unit or account that recorded the change."""

    @model_validator(mode="after")
    def _text_and_categories(self) -> PlatformRuleChanged:
        if not self.categories:
            raise ValueError("categories: name at least one complaint category the rule touches")
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories: a category is listed twice")
        if not (self.new_text or self.text_ref):
            raise ValueError("new_text: give the new rule's text or a text_ref to it")
        return self
