"""The personal-data detector (schemas/pii.py): total on any text, and it finds what it must."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.pii import PiiKind, find, is_luhn, is_resident_id, mask, scan_fields
from schemas.sealed import Complainant, SealError, new_key, open_complainant, seal_complainant

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# Filler that cannot glue onto a number, an e-mail or an address pattern.
FILLER = st.text(
    alphabet="的了是我在有和就不人都一上也很到说要去你会着没看好自己这那 ,。!", max_size=12
)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    area = draw(st.integers(110000, 659999))
    born = draw(st.dates(date(1930, 1, 1), date(2020, 12, 31)))
    seq = draw(st.integers(0, 999))
    body = f"{area}{born:%Y%m%d}{seq:03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return body + check


@st.composite
def old_ids(draw: st.DrawFn) -> str:
    area = draw(st.integers(110000, 659999))
    born = draw(st.dates(date(1930, 1, 1), date(1999, 12, 31)))
    return f"{area}{born:%y%m%d}{draw(st.integers(0, 999)):03d}"


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["138", "139", "150", "186", "177", "199", "135", "158"]))
    rest = f"{draw(st.integers(0, 99_999_999)):08d}"
    style = draw(st.sampled_from(["plain", "spaced", "dashed", "plus86"]))
    if style == "spaced":
        return f"{prefix} {rest[:4]} {rest[4:]}"
    if style == "dashed":
        return f"{prefix}-{rest[:4]}-{rest[4:]}"
    if style == "plus86":
        return f"+86 {prefix}{rest}"
    return prefix + rest


@st.composite
def landlines(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(["010", "021", "020", "0755"]))
    first = draw(st.sampled_from("234567"))  # 8xxx xxxx: not every Beijing block is assigned
    digits = 8 if area in ("010", "021", "020", "0755") else 7
    return f"{area}-{first}{draw(st.integers(0, 10 ** (digits - 1) - 1)):0{digits - 1}d}"


@st.composite
def cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(16, 19))
    body = "62" + "".join(str(draw(st.integers(0, 9))) for _ in range(length - 3))
    for check in "0123456789":
        if is_luhn(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


EMAILS = st.builds(
    lambda u, d, t: f"{u}@{d}.{t}",
    st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[a-z0-9]{2,10}", fullmatch=True),
    st.sampled_from(["com", "cn", "net", "com.cn", "org"]),
)
ADDRESSES = st.builds(
    lambda city, road, n, b, u, r, style: [
        f"{city}市海淀区{road}路{n}号",
        f"{road}大街{n}号{b}栋{u}单元{r}室",
        f"{b}栋{u}单元{r}室",
        f"{city}市朝阳区{road}街道",
    ][style],
    st.sampled_from(["北京", "上海", "广州", "深圳"]),
    st.sampled_from(["中关村", "学院", "知春", "建国", "人民"]),
    st.integers(1, 999),
    st.integers(1, 30),
    st.integers(1, 9),
    st.integers(101, 3305),
    st.integers(0, 3),
)
POSITIVES = {
    PiiKind.RESIDENT_ID: st.one_of(resident_ids(), old_ids()),
    PiiKind.PHONE: st.one_of(mobiles(), landlines()),
    PiiKind.BANK_CARD: cards(),
    PiiKind.EMAIL: EMAILS,
    PiiKind.ADDRESS: ADDRESSES,
}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_on_arbitrary_text(text: str) -> None:
    found = find(text, pseudonym=True)
    for f in found:
        assert 0 <= f.start < f.end <= len(text)
    assert isinstance(mask(text), str)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_never_crashes_on_arbitrary_bytes_read_as_text(data: bytes) -> None:
    find(data.decode("utf-8", "replace"))


@pytest.mark.parametrize("kind", list(POSITIVES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_known_positives_are_always_caught_and_masked(kind: PiiKind, data: st.DataObject) -> None:
    value = data.draw(POSITIVES[kind])
    text = data.draw(FILLER) + value + data.draw(FILLER)
    found = find(text)
    assert any(f.kind is kind and f.start <= text.index(value) < f.end for f in found), (
        kind,
        value,
        found,
    )
    assert value not in mask(text)


@settings(max_examples=100, deadline=None)
@given(resident_ids())
def test_a_changed_check_character_is_not_an_id(value: str) -> None:
    assert is_resident_id(value)
    wrong = "0" if value[-1] != "0" else "1"
    assert not is_resident_id(value[:-1] + wrong)


@pytest.mark.parametrize("name", ["张三", "王小明", "欧阳娜娜", "李女士", "姓名:赵四"])
def test_a_bare_name_is_refused_only_where_a_pseudonym_belongs(name: str) -> None:
    assert [f.kind for f in find(name, pseudonym=True)] == [PiiKind.PERSON_NAME]
    assert find(name) == []
    assert [f.field for f in scan_fields({"consumer_ref": name, "note": name})] == ["consumer_ref"]


@pytest.mark.parametrize(
    "text",
    [
        "c-7f3a", "hash:9b1c0e2d", "u_2024", "HD-ZGC", "case-1733150000000",
        "550e8400-e29b-41d4-a716-446655440000", "订单 2025-12-02 金额 12000 元",
        "客服 4001234567", "o-6320123237", "退款 30 天内", "第 3 条", "1381234567", "匿名",
    ],
)  # fmt: skip
def test_ordinary_references_and_text_pass(text: str) -> None:
    assert find(text, pseudonym=True) == []


def test_sealed_complainant_opens_only_with_its_key_subject_and_case() -> None:
    key = new_key()
    who = Complainant("张三", "13812345678", "北京市海淀区中关村大街27号")
    blob = seal_complainant(key, "c-1", "CP-1", who)
    assert b"13812345678" not in blob and "张三".encode() not in blob
    assert open_complainant(key, "c-1", "CP-1", blob) == who
    for args in ((new_key(), "c-1", "CP-1"), (key, "c-2", "CP-1"), (key, "c-1", "CP-2")):
        with pytest.raises(SealError):
            open_complainant(*args, blob)


@pytest.mark.parametrize("unit", ["y", "1", "路1", "a@", "中", "1 ", "3栋"])
def test_a_megabyte_value_scans_in_linear_time(unit: str) -> None:
    import time

    text = unit * (1_000_000 // len(unit))
    started = time.perf_counter()
    find(text, pseudonym=True)
    # Generous for a shared 2-core machine: what it catches is super-linear backtracking
    # (the unbounded e-mail pattern took hours on 1 MB of letters), not constant factors.
    assert time.perf_counter() - started < 30.0, "the detector backtracks on long input"
