"""The coded live-streaming negative list (直播行为负面清单) as versioned data.

``agents/policy/negative_list.yaml`` is loaded into frozen values. :meth:`NegativeList.refusal`
says why a code may not be cited on a day (unknown, withdrawn, not yet in force), in Chinese
and English; :func:`finding_refusal` applies it to the events that cite codes and names the
field. Ingress calls it and dead-letters the record (INVALID_VALUE, the field first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from agents.core.errors import PolicyError
from schemas.models import Event, InspectionFindingRecorded, SpotCheckRoomChecked

DEFAULT_NEGATIVE_LIST_PATH = (
    Path(__file__).resolve().parent.parent / "policy" / "negative_list.yaml"
)
FORMAT = "regbus.negative-list/1"
_BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Instrument:
    key: str
    title: str
    number: str
    effective: date


@dataclass(frozen=True, slots=True)
class NegativeListItem:
    code: str
    title_zh: str
    title_en: str
    instrument: Instrument
    article: str
    effective: date
    provisional: bool = False

    def source(self) -> str:
        """《文件名》(文号) 条款 [暂定]."""
        tail = " 暂定/provisional" if self.provisional else ""
        return f"《{self.instrument.title}》({self.instrument.number}) {self.article}{tail}"


@dataclass(frozen=True, slots=True)
class NegativeListVersion:
    id: str
    title: str
    effective_from: date
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NegativeList:
    items: Mapping[str, NegativeListItem]
    versions: tuple[NegativeListVersion, ...]
    """Sorted by ``effective_from``."""

    def version_on(self, day: date) -> NegativeListVersion | None:
        found = None
        for v in self.versions:
            if v.effective_from <= day:
                found = v
        return found

    def item(self, code: str) -> NegativeListItem | None:
        return self.items.get(code)

    def refusal(self, code: str, day: date) -> str | None:
        """Why ``code`` may not be cited on ``day`` (zh / en), or None when it may."""
        version = self.version_on(day)
        if version is None:
            first = self.versions[0].effective_from.isoformat() if self.versions else "—"
            return (
                f"{day.isoformat()} 尚无编码负面清单（首版自 {first} 起施行）/ "
                f"no coded negative list was in force on {day.isoformat()} (first from {first})"
            )
        item = self.items.get(code)
        if item is None:
            return f"未知的负面清单编码 {code!r} / unknown negative-list code {code!r}"
        if code not in version.codes:
            later = [v for v in self.versions if v.effective_from > day and code in v.codes]
            if later:
                start = max(later[0].effective_from, item.effective).isoformat()
                return (
                    f"编码 {code} 自 {start}（清单 {later[0].id}）起施行，"
                    f"{day.isoformat()} 尚未生效 / "
                    f"code {code} takes effect on {start} (list {later[0].id}), "
                    f"not yet on {day.isoformat()}"
                )
            return (
                f"编码 {code} 不在 {day.isoformat()} 施行的清单 {version.id} 中 / "
                f"code {code} is not in list version {version.id} in force on {day.isoformat()}"
            )
        if item.effective > day:
            return (
                f"编码 {code} 自 {item.effective.isoformat()} 起施行，{day.isoformat()} 尚未生效 / "
                f"code {code} takes effect on {item.effective.isoformat()}, "
                f"not yet on {day.isoformat()}"
            )
        return None

    @classmethod
    def from_dict(cls, raw: Any) -> NegativeList:
        try:
            return _parse(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PolicyError(f"negative list: {type(exc).__name__}: {exc}") from None

    @classmethod
    def load(cls, path: Path | None = None) -> NegativeList:
        source = path or DEFAULT_NEGATIVE_LIST_PATH
        try:
            raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError(f"cannot read the negative list {source}: {exc}") from None
        return cls.from_dict(raw)


def beijing_day(at: datetime) -> date:
    return at.astimezone(_BEIJING).date()


def finding_refusal(event: Event, nl: NegativeList) -> tuple[str, str] | None:
    """(field, why) an event's negative-list citation is refused, or None.

    A finding on or after the first coded version must cite ``negative_list_code``; before it
    the v1 free text ``negative_list_item`` alone is accepted (the list did not exist yet).
    A room checked in a spot-check campaign may cite any number of codes (none = clean).
    """
    day = beijing_day(event.occurred_at)
    if isinstance(event, InspectionFindingRecorded):
        code = event.negative_list_code
        if code is None:
            if nl.version_on(day) is None and event.negative_list_item:
                return None
            return (
                "negative_list_code",
                "检查发现须引用负面清单编码 / a finding must cite a negative-list code",
            )
        why = nl.refusal(code, day)
        return None if why is None else ("negative_list_code", why)
    if isinstance(event, SpotCheckRoomChecked):
        for code in event.finding_codes:
            why = nl.refusal(code, day)
            if why is not None:
                return "finding_codes", why
    return None


def _parse(raw: Any) -> NegativeList:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ValueError(f"format must be {FORMAT}")
    instruments = {
        key: Instrument(key, str(v["title"]), str(v["number"]), _day(v["effective"]))
        for key, v in raw["instruments"].items()
    }
    items: dict[str, NegativeListItem] = {}
    for code, v in raw["items"].items():
        items[code] = NegativeListItem(
            code=str(code),
            title_zh=str(v["title_zh"]),
            title_en=str(v["title_en"]),
            instrument=instruments[v["instrument"]],
            article=str(v["article"]),
            effective=_day(v["effective"]),
            provisional=bool(v.get("provisional", False)),
        )
    versions = tuple(
        sorted(
            (
                NegativeListVersion(
                    str(v["id"]), str(v["title"]), _day(v["effective_from"]), _codes(v, items)
                )
                for v in raw["versions"]
            ),
            key=lambda v: v.effective_from,
        )
    )
    if not versions:
        raise ValueError("at least one version is needed")
    starts = [v.effective_from for v in versions]
    if len(set(starts)) != len(starts):
        raise ValueError("two versions take effect on the same day")
    return NegativeList(items, versions)


def _codes(version: Mapping[str, Any], items: Mapping[str, NegativeListItem]) -> tuple[str, ...]:
    codes: Iterable[Any] = version["items"]
    out = tuple(str(c) for c in codes)
    unknown = [c for c in out if c not in items]
    if unknown:
        raise ValueError(f"version {version['id']}: unknown items {unknown}")
    return out


def _day(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value))
