"""A district office regulator's day in the console, in a real Chromium, against a real worker
and broker: log in, see only the office's platforms, watch a breach arrive live, acknowledge
it, search, check a clock against the core's deadline, export, switch language. Every page is
screenshotted at 1440×900 into tests/output/screens/.
"""

from __future__ import annotations

import asyncio
import io
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from agents.core.calendar import WorkingCalendar
from agents.core.policy import PolicyBook
from agents.core.sla_clock import start as start_clock
from console.auth import account_created
from console.feed import fold_log
from console.readmodel import SqliteReadModel
from console.timefmt import BEIJING, beijing
from schemas.families import CaseFamily
from schemas.models import (
    AlertAcknowledged,
    Category,
    Channel,
    ComplaintFiled,
    Priority,
    Role,
    RosterAssigned,
)
from streams.codec import EventCodec
from streams.registry import add_platform
from streams.ticks import publish_ticks
from tests.console.conftest import SCREENS
from tests.kafka_helpers import TopicReader, produce

OFFICE = "HD-ZGC"
MINE, THEIRS = "shop-zgc", "shop-hdl"


def _filed(case_id: str, platform: str, at: datetime) -> ComplaintFiled:
    return ComplaintFiled(
        event_id=str(uuid.uuid4()),
        case_id=case_id,
        platform_id=platform,
        occurred_at=at,
        channel=Channel.PLATFORM_APP,
        category=Category.DELIVERY_GOODS_DAMAGE,
        priority=Priority.NORMAL,
        merchant_ref="m-1",
        live_room_ref=None,
        claimed_amount_fen=12_900,
        insured=False,
        declared_value_fen=None,
        office=OFFICE,
        consumer_ref="c-7f3a",
        intake_at=at,
        policy_rule_version="SAMR-20",  # the version that times a platform-app complaint
    )


def _roster(platform: str, office: str) -> RosterAssigned:
    return RosterAssigned(
        event_id=str(uuid.uuid4()),
        case_id="",
        platform_id=platform,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        office=office,
        department="CP",
        leader="L1",
        office_contacts=[],
        department_contacts=[],
        leader_contacts=[],
        effective_from=datetime(2025, 12, 31, 16, tzinfo=UTC),
        assigned_by="admin",
    )


def _shot(driver, name: str) -> None:
    driver.save_screenshot(str(SCREENS / f"{name}.png"))


def _wait_css(driver, css: str, timeout: float = 20.0, text: str | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = [
                f
                for f in driver.find_elements(By.CSS_SELECTOR, css)
                if text is None or text in f.text
            ]
        except StaleElementReferenceException:  # the page moved on under us
            found = []
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {css!r} (text {text!r}) after {timeout}s on {driver.current_url}")


def _login(driver, url: str, user: str, password: str) -> None:
    driver.find_element(By.ID, "username").clear()
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-button").click()


async def test_an_office_regulator_works_through_the_day(
    settings, catalogue, worker_factory, console_factory, browser, tmp_path
) -> None:
    codec = EventCodec()
    for p in (MINE, THEIRS):
        await add_platform(settings, p)
    now = datetime.now(UTC).replace(microsecond=0)
    filed_at = now - timedelta(days=3)
    late, fresh, other = (f"C-{n}-{uuid.uuid4().hex[:6]}" for n in ("late", "fresh", "other"))
    await produce(
        settings.bootstrap,
        catalogue.roster,
        [
            codec.encode(_roster(MINE, OFFICE), "/bureau/roster"),
            codec.encode(_roster(THEIRS, "HD-HDL"), "/bureau/roster"),
        ],
    )
    staff = account_created("zgc1", "pass-zgc-1", Role.OFFICE, OFFICE, "admin", now, "张三")
    await produce(settings.bootstrap, catalogue.accounts, [codec.encode(staff, "/bureau/console")])
    for case, platform, at in (
        (late, MINE, filed_at),
        (fresh, MINE, now - timedelta(hours=1)),
        (other, THEIRS, filed_at),
    ):
        await produce(
            settings.bootstrap,
            catalogue.ingress(platform),
            [codec.encode(_filed(case, platform, at), f"/platforms/{platform}")],
        )

    worker = worker_factory("--no-web")
    async with TopicReader(settings.bootstrap, catalogue.sla) as sla:
        await sla.read_until(
            lambda recs: len(recs) >= 6, 180, lambda: f"no SLA clocks:\n{worker.log_tail()}"
        )
    console = console_factory()
    d = browser
    url = console.url

    # 1. Office staff log in and see only the platforms their office covers.
    d.get(f"{url}/worklist")
    assert "/login" in d.current_url
    _shot(d, "login")
    _login(d, url, "zgc1", "wrong")
    _wait_css(d, "#error-password")
    _login(d, url, "zgc1", "pass-zgc-1")
    _wait_css(d, "#worklist-table")
    assert d.current_url.endswith("/worklist"), "login did not go back to the page asked for"
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    d.get(f"{url}/")
    _wait_css(d, "#by-platform", text=MINE)
    page = d.find_element(By.TAG_NAME, "body").text
    assert "工作台" in page and "+08:00" in page
    assert MINE in page and THEIRS not in page
    d.get(f"{url}/cases")
    cases_text = d.find_element(By.ID, "cases-table").text
    assert late in cases_text and fresh in cases_text and other not in cases_text
    d.get(f"{url}/cases/{other}")
    assert d.find_elements(By.ID, "not-found"), "another office's case must not be shown"

    # 2. A breach arrives on 工作台 without a reload.
    d.get(f"{url}/")
    _wait_css(d, "#live-state", text="实时")
    marker = d.execute_script("window.__marker = 1; return window.__marker;")
    await publish_ticks(settings.bootstrap, catalogue, filed_at + timedelta(hours=25))
    live = _wait_css(d, "#live-alerts li", timeout=30, text=late)
    assert "超时" in live[0].text
    assert d.execute_script("return window.__marker;") == marker, "the page reloaded"
    _shot(d, "today")

    # 3. Acknowledge it on the case page; after the reload it shows, and it is on Kafka.
    d.get(f"{url}/cases/{late}")
    breach = _wait_css(d, ".alert", text="超时")[0]
    alert_id = breach.get_attribute("id").removeprefix("alert-")
    breach.find_element(By.CSS_SELECTOR, "button.ack").click()
    _wait_css(d, f"#alert-{alert_id} .status", text="已确认")
    d.refresh()
    assert "已确认" in d.find_element(By.ID, f"alert-{alert_id}").text
    assert "张三" not in d.find_element(By.ID, f"alert-{alert_id}").text  # actor is the account
    assert "zgc1" in d.find_element(By.ID, f"alert-{alert_id}").text
    _shot(d, "case")
    async with TopicReader(settings.bootstrap, catalogue.alert_actions) as actions:
        await actions.read_until(lambda recs: len(recs) >= 1, 20, "no alert action on Kafka")
        acks = [codec.decode(r.value, r.headers) for r in actions.records]
    assert [(type(a), a.alert_id, a.actor) for a in acks] == [(AlertAcknowledged, alert_id, "zgc1")]

    # 4. Search by platform and date.
    day = filed_at.astimezone(BEIJING).date().isoformat()
    d.get(f"{url}/cases")
    d.find_element(By.ID, "f-platform").send_keys(MINE)
    d.find_element(By.ID, "f-from").send_keys(day)
    d.find_element(By.ID, "f-to").send_keys(day)
    d.find_element(By.ID, "search-button").click()
    result = _wait_css(d, "#cases-table")[0].text
    assert late in result and fresh not in result
    _shot(d, "cases")

    # 5. A running clock's time left against the core's own deadline.
    rule = PolicyBook.load().rule("SAMR-20", "COMPLAINT_RESOLVE")
    core = start_clock(
        clock_id="x",
        ref=fresh,
        rule_id=rule.id,
        policy_version="SAMR-20",
        unit=rule.unit,
        target=rule.target("NORMAL", "DELIVERY_GOODS_DAMAGE"),
        warnings=(50, 75),
        escalate_days=5,
        at=now - timedelta(hours=1),
        cal=WorkingCalendar(),
    )
    d.get(f"{url}/cases/{fresh}")
    row = d.find_element(By.CSS_SELECTOR, "#clocks-table tr[data-rule='COMPLAINT_RESOLVE']")
    assert beijing(core.due_at) in row.text
    remaining = int(row.get_attribute("data-remaining-ms"))
    expected = (core.due_at - datetime.now(UTC)).total_seconds() * 1000
    assert abs(remaining - expected) < 120_000, (remaining, expected)
    assert "SAMR" in row.text or "12345" in row.text  # the legal citation is shown

    # 6. Export the worklist as XLSX and read it back.
    d.get(f"{url}/worklist")
    _shot(d, "worklist")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
    req = urllib.request.Request(f"{url}/export/worklist.xlsx", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=20) as r:  # noqa: ASYNC210 (the browser is sync too)
        book = load_workbook(io.BytesIO(r.read()))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["案件", "平台", "规则"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert any(r[0] == fresh and r[6] == beijing(core.due_at) for r in rows), rows
    assert all(r[1] == MINE for r in rows)

    # 7. English and back.
    d.find_element(By.ID, "lang-switch").click()
    _wait_css(d, "#nav-today", text="Today")
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "Time left" in d.find_element(By.ID, "worklist-table").text
    d.find_element(By.ID, "lang-switch").click()
    _wait_css(d, "#nav-today", text="工作台")
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"

    # 8. Bad input gives the page back with the field marked; an unknown case is a 404 page.
    d.get(f"{url}/cases?from=2026-13-45")
    assert "请按 2026-03-01 格式填写日期" in d.find_element(By.ID, "error-from").text
    assert "invalid" in d.find_element(By.ID, "f-from").get_attribute("class")
    d.get(f"{url}/cases/NO-SUCH-CASE")
    assert d.find_elements(By.ID, "not-found") and "Traceback" not in d.page_source

    # 9. The rest of the pages, for the docs.
    for name, path in (("alerts", "/alerts"), ("platforms", "/platforms"), ("export", "/export")):
        d.get(f"{url}{path}")
        _wait_css(d, "main h1")
        _shot(d, name)
    d.delete_all_cookies()
    d.get(f"{url}/alerts?level=OFFICE")
    assert "/login?next=" in d.current_url
    _login(d, url, "admin", "admin-pass-1")
    _wait_css(d, "#alerts-table")
    assert "/alerts?level=OFFICE" in d.current_url
    d.get(f"{url}/")
    assert THEIRS in d.find_element(By.ID, "by-platform").text  # leadership/admin see all

    # 10. The read model rebuilt from the log equals the live one.
    console.stop()
    live = SqliteReadModel(console.db)
    rebuilt = SqliteReadModel(tmp_path / "rebuilt.sqlite")
    await fold_log(settings, catalogue, rebuilt)
    assert rebuilt.dump() == live.dump()
    assert sum(len(v) for v in live.dump().values()) > 10
    assert {r["topic"] for r in live.lag()} >= {
        catalogue.cases(CaseFamily.COMPLAINTS),
        catalogue.alert_actions,
    }
    await asyncio.sleep(0)
