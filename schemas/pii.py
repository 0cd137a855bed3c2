"""Personal information (个人信息, PIPL) found in the text of an event, and how it is masked.

The bus carries no personal data in clear (docs/security.md): a platform identifies the consumer
by a pseudonym (``consumer_ref``), and free text (``note``, ``reason``, ``anchor_ref`` …) must
not carry a phone number, a resident ID, an e-mail address, a bank card or a street address.
This module finds them; the SDK refuses an event with a finding (the field named) and ingress
dead-letters it with the value masked (:func:`mask`), so the dead-letter topic never holds the
data in clear either.

What is detected (:class:`PiiKind`):

* phone numbers — mainland mobile and landline numbers with their area code, through
  ``phonenumbers`` (Google's libphonenumber), region CN; service numbers (400/95xxx) are not
  personal and pass;
* PRC resident ID numbers — 18 characters with the ISO 7064 MOD 11-2 check character and a
  real birth date, and the old 15-digit form (with a real birth date);
* e-mail addresses;
* bank card numbers — 16 to 19 digits passing the Luhn check (spaces or hyphens allowed
  between groups);
* street addresses — common patterns (road + house number, building + unit/room,
  province/city + district + street/town);
* personal names — only in a field that must be a pseudonym (:data:`PSEUDONYM_FIELDS`): the
  whole value is a Chinese name (a common surname and one or two characters, or 张先生/王女士).

The detector is pure and total: it never raises on any text (a property test says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import phonenumbers
from pydantic import BaseModel

__all__ = [
    "PSEUDONYM_FIELDS",
    "FieldFinding",
    "Finding",
    "PersonalDataError",
    "PiiKind",
    "find",
    "mask",
    "scan_bytes",
    "scan_event",
    "scan_fields",
]


class PiiKind(StrEnum):
    PHONE = "PHONE"
    RESIDENT_ID = "RESIDENT_ID"
    EMAIL = "EMAIL"
    BANK_CARD = "BANK_CARD"
    ADDRESS = "ADDRESS"
    PERSON_NAME = "PERSON_NAME"


KIND_TEXT: dict[PiiKind, tuple[str, str]] = {
    PiiKind.PHONE: ("电话号码", "phone number"),
    PiiKind.RESIDENT_ID: ("居民身份证号码", "resident ID number"),
    PiiKind.EMAIL: ("电子邮箱", "e-mail address"),
    PiiKind.BANK_CARD: ("银行卡号", "bank card number"),
    PiiKind.ADDRESS: ("住址", "street address"),
    PiiKind.PERSON_NAME: ("姓名", "personal name"),
}

PSEUDONYM_FIELDS = frozenset({"consumer_ref", "handler_ref"})
"""Fields that must hold a pseudonym: a bare personal name is refused there as well."""


class PersonalDataError(ValueError):
    """A field that must not carry personal data carries some (raised by model validators)."""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: PiiKind
    start: int
    end: int
    masked: str

    def describe(self) -> str:
        zh, en = KIND_TEXT[self.kind]
        return f"{zh}/{en} {self.masked}"


@dataclass(frozen=True, slots=True)
class FieldFinding:
    """A finding in one field of an event (``field`` is a dotted path, e.g. ``evidence_refs.0``)."""

    field: str
    kind: PiiKind
    masked: str

    def message(self) -> str:
        zh, en = KIND_TEXT[self.kind]
        return (
            f"字段 {self.field} 含有个人信息({zh} {self.masked}),请改用化名或删除 / "
            f"field {self.field} carries personal data ({en} {self.masked}); "
            "send a pseudonym or leave it out"
        )


# ---- the detectors ---------------------------------------------------------------------------
_PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)
_BARE_MOBILE = re.compile(r"(?<!\d)(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}(?!\d)")
# Bounded quantifiers throughout: a 1 MB value must scan in linear time (no backtracking
# blow-up on a long run of letters or digits); a property test holds the bound.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}"
    r"(?:\.[A-Za-z0-9\-]{1,63}){0,4}\.[A-Za-z]{2,24}"
)
# A run of digits, possibly in groups joined by one space or hyphen, with an optional ID
# check character X; not glued to other letters or digits.
_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d+(?:[ \-]\d+)*[Xx]?(?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_HAN = r"\u4e00-\u9fff"
_ADDRESS = re.compile(
    rf"(?:[{_HAN}A-Za-z0-9]{{0,16}}?(?:大道|大街|胡同|路|街|巷|弄|道)\s?\d{{1,6}}\s?(?:号|號)"
    rf"(?:\s?(?:院|楼|\d{{1,6}}\s?(?:栋|幢|号楼|座|单元|室|层))){{0,4}})"
    rf"|(?:(?<!\d)\d{{1,6}}\s?(?:栋|幢|号楼|座)\s?(?:\d{{1,6}}\s?单元\s?)?\d{{1,6}}\s?(?:室|号|层|户)?)"
    rf"|(?:(?<!\d)\d{{1,6}}\s?单元\s?\d{{1,6}}\s?(?:室|号|户)?)"
    rf"|(?:[{_HAN}]{{2,8}}(?:省|自治区|市)[{_HAN}]{{1,8}}?(?:市|区|县|旗)"
    rf"[{_HAN}]{{1,10}}?(?:街道|镇|乡|村|社区|小区|路|街))"
)
_ADDRESS_HINT = re.compile(r"[路街道巷弄同號号栋幢座元室层户省市区县旗镇乡村]")
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|端木|呼延"
_NAME = re.compile(
    rf"^\s*(?:姓名[::]?\s*)?(?:(?:{_COMPOUND})[{_HAN}]{{1,2}}|[{_SURNAMES}][{_HAN}]{{1,2}}"
    rf"|[{_SURNAMES}](?:先生|女士|小姐|师傅))\s*$"
)
_NOT_NAMES = frozenset({"平台", "商家", "客服", "骑手", "主播", "用户", "消费者", "匿名"})


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        born = date(y, m, d)
    except ValueError:
        return False
    return date(1890, 1, 1) <= born <= date(2100, 1, 1)


def is_resident_id(digits: str) -> bool:
    """An 18-character ID with a valid MOD 11-2 check character, or the 15-digit old form."""
    if len(digits) == 18 and digits[:17].isdigit() and digits[0] != "0":
        total = sum(int(c) * w for c, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
        return _ID_CHECK[total % 11] == digits[17].upper() and _valid_date(
            int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
        )
    if len(digits) == 15 and digits.isdigit() and digits[0] in "12345678":
        return _valid_date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    return False


def is_luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _mask_middle(text: str, keep_head: int, keep_tail: int) -> str:
    if len(text) <= keep_head + keep_tail:
        return "*" * len(text)
    return text[:keep_head] + "*" * (len(text) - keep_head - keep_tail) + text[-keep_tail:]


def _masked(kind: PiiKind, raw: str) -> str:
    compact = re.sub(r"[\s\-()+]", "", raw)
    if kind is PiiKind.PHONE:
        return _mask_middle(compact[-11:] if len(compact) > 11 else compact, 3, 4)
    if kind is PiiKind.RESIDENT_ID:
        return _mask_middle(compact, 3, 2)
    if kind is PiiKind.BANK_CARD:
        return "*" * (len(compact) - 4) + compact[-4:]
    if kind is PiiKind.EMAIL:
        user, _, domain = raw.partition("@")
        return f"{user[:1]}***@{domain}"
    if kind is PiiKind.ADDRESS:
        return raw[:2] + "****"
    return raw.strip()[:1] + "*"


def _digit_findings(text: str) -> Iterator[Finding]:
    for m in _DIGITS.finditer(text):
        raw = m.group()
        digits = raw.replace(" ", "").replace("-", "")
        if is_resident_id(digits):
            yield Finding(
                PiiKind.RESIDENT_ID, m.start(), m.end(), _masked(PiiKind.RESIDENT_ID, raw)
            )
        elif 16 <= len(digits) <= 19 and digits.isdigit() and is_luhn(digits):
            yield Finding(PiiKind.BANK_CARD, m.start(), m.end(), _masked(PiiKind.BANK_CARD, raw))


def _phone_findings(text: str) -> Iterator[Finding]:
    if sum(c.isdigit() for c in text) < 7:
        return
    try:
        matches = list(
            phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.VALID)
        )
    except Exception:  # the library on a pathological input: fall back to the plain pattern
        matches = []
    for m in matches:
        # A landline counts only written with its trunk prefix or country code (010-…, 0755…,
        # +86 …): a bare "6320123237" is far more often an order or hex reference.
        lead = m.raw_string.lstrip("(+ ")
        if not lead.startswith(("0", "86", "1")):
            continue
        if phonenumbers.number_type(m.number) in _PHONE_TYPES:
            yield Finding(PiiKind.PHONE, m.start, m.end, _masked(PiiKind.PHONE, m.raw_string))
    # Mobile numbers written as a bare run the matcher may leave (e.g. glued to Chinese text).
    for bare in _BARE_MOBILE.finditer(text):
        yield Finding(PiiKind.PHONE, bare.start(), bare.end(), _masked(PiiKind.PHONE, bare.group()))


def find(text: str, *, pseudonym: bool = False) -> list[Finding]:
    """Every piece of personal data in ``text``, left to right, without overlaps.

    With ``pseudonym`` (the field must be a pseudonym) a bare personal name counts as well.
    """
    if not text:
        return []
    found: list[Finding] = []
    found += _digit_findings(text)
    if "@" in text:
        found += [
            Finding(PiiKind.EMAIL, m.start(), m.end(), _masked(PiiKind.EMAIL, m.group()))
            for m in _EMAIL.finditer(text)
        ]
    if _ADDRESS_HINT.search(text):
        found += [
            Finding(PiiKind.ADDRESS, m.start(), m.end(), _masked(PiiKind.ADDRESS, m.group()))
            for m in _ADDRESS.finditer(text)
        ]
    found += _phone_findings(text)
    if pseudonym and _NAME.match(text) and text.strip() not in _NOT_NAMES:
        found.append(Finding(PiiKind.PERSON_NAME, 0, len(text), _masked(PiiKind.PERSON_NAME, text)))
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for f in found:  # the longest finding at a position wins; overlapping ones are dropped
        if kept and f.start < kept[-1].end:
            continue
        kept.append(f)
    return kept


def mask(text: str, *, pseudonym: bool = False) -> str:
    """``text`` with every finding replaced by its masked form."""
    out: list[str] = []
    pos = 0
    for f in find(text, pseudonym=pseudonym):
        out += [text[pos : f.start], f.masked]
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}.{i}")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), f"{path}.{name}" if path else name)


SKIPPED_FIELDS = frozenset({"event_id", "platform_id", "occurred_at"})
"""Fields not scanned: the envelope's own identifiers (checked by their own rules)."""


def scan_fields(fields: dict[str, Any]) -> list[FieldFinding]:
    """The findings in a mapping of field name → value (strings, lists, nested models)."""
    out: list[FieldFinding] = []
    for name, value in fields.items():
        if name in SKIPPED_FIELDS or isinstance(value, StrEnum):
            continue
        for path, text in _strings(value, name):
            top = path.split(".", 1)[0]
            for f in find(text, pseudonym=top in PSEUDONYM_FIELDS):
                out.append(FieldFinding(path, f.kind, f.masked))
    return out


def scan_bytes(data: bytes | None) -> list[Finding]:
    """The findings in raw bytes read as UTF-8 (Avro strings are UTF-8 on the wire)."""
    if not data:
        return []
    return find(data.decode("utf-8", "replace"))


def scan_event(event: BaseModel) -> list[FieldFinding]:
    """The findings in every free-text and reference field of an event.

    Enum fields are skipped (a closed set of symbols), and so are binary fields: an
    encrypted personal-data field (:mod:`schemas.sealed`) is ciphertext by construction.
    """
    return scan_fields({name: getattr(event, name) for name in type(event).model_fields})
