"""Rule titles and legal citations for the screen, from the SLA policy the core runs on."""

from __future__ import annotations

from functools import cache

from agents.core.errors import PolicyError
from agents.core.policy import PolicyBook
from console.i18n import translate

__all__ = ["citation", "rule_title"]


@cache
def _book() -> PolicyBook:
    return PolicyBook.load()


def _rule(rule_id: str, version: str) -> object | None:
    book = _book()
    base = rule_id.split("@", 1)[0]
    versions = [version] if version and book.get(version) else []
    versions += [v.id for v in reversed(book.versions)]
    for v in versions:
        try:
            return book.rule(v, base)
        except PolicyError:
            continue
    return None


@cache
def rule_title(rule_id: str, version: str = "", lang: str = "zh-CN") -> str:
    """The rule's title in ``lang`` (the id itself for a rule the policy does not know,
    e.g. a risk signal)."""
    rule = _rule(rule_id, version)
    if rule is None:
        return translate(rule_id, lang) if rule_id else ""
    return translate(rule.title, lang)  # type: ignore[attr-defined]


@cache
def citation(rule_id: str, version: str = "") -> str:
    """The legal source of the deadline, as the policy file states it."""
    rule = _rule(rule_id, version)
    if rule is None:
        return ""
    source = rule.source  # type: ignore[attr-defined]
    return source.text() if hasattr(source, "text") else str(source)
