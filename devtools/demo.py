"""``regbus demo`` (``make demo``): a simulated month through the real system, alerts live.

Starts or reuses the local broker, creates a fresh topic prefix (``demo-<timestamp>``),
registers the simulated platforms, starts a ``regbus worker --clock external`` subprocess,
publishes the simulator's month in simulated-time slices while a live view shows the alerts
by supervision level, then compares what the system raised — alerts, dead letters, and the
regulator agent's per-platform and per-category scorecards read from the worker's HTTP API,
each platform's inbox and the notifier's deliveries to local receivers —
with the simulator's own prediction, replays the log into the audit report and prints a
summary. Ctrl-C stops
everything (the worker too). See docs/demo.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.live import Live

from agents.api_auth import Role, TokenStore
from agents.runtime import tune_gc
from devtools.console_process import ConsoleProcess
from devtools.notify_receivers import LocalReceivers
from devtools.simulator.campaigns import check as check_campaign
from devtools.simulator.config import SimConfig
from devtools.simulator.enforcement import wait_for_record
from devtools.simulator.files import EXPECTED, EXPECTED_ALERTS, AlertFile, write_expected
from devtools.simulator.generator import Simulation
from devtools.simulator.inbox_check import DeliveryCheck, check_deliveries, summary_text
from devtools.simulator.live import LiveView
from devtools.simulator.model import ExpectedAlert
from devtools.simulator.publish import RouteWatch, prepare, publish_simulation
from devtools.simulator.report import (
    by_rule_table,
    dead_letter_table,
    scorecard_table,
    summary_console,
)
from devtools.simulator.rule_changes import check_rule_effect
from devtools.simulator.scorecards import Counts, wait_for_match
from devtools.simulator.watch import (
    INTERVIEW,
    Comparison,
    SystemWatch,
    compare,
)
from devtools.worker_process import WorkerProcess
from streams.settings import Settings
from streams.topics import Catalogue

console = summary_console()
DEFAULT_PACE = 0.15
"""Wall seconds per simulated hour (at least): a 30-day month in three to four minutes."""
SETTLE_TIMEOUT = 120.0
SCORECARD_TIMEOUT = 60.0
"""How long the regulator agents may trail the last alert before the scorecards must match."""
SUMMARY = "demo-summary.json"


class _Holder:
    """The running worker, reachable from the synchronous Ctrl-C handler."""

    worker: WorkerProcess | None = None
    web_port: int = 0
    console: ConsoleProcess | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_demo(
    base: Settings,
    cfg: SimConfig,
    prefix: str | None = None,
    pace: float = DEFAULT_PACE,
    out: Path | None = None,
    live: bool = True,
    audit: bool = True,
) -> int:
    """Start (or reuse) the broker, run ``cfg`` through a fresh worker on a new topic prefix,
    compare with the prediction and write the report; the exit code (0: all as predicted)."""
    from devtools.broker import BrokerLauncher

    tune_gc()
    status = BrokerLauncher(base).up()
    console.print(f"broker: {status.detail}")
    name = prefix or f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    settings = Settings(
        bootstrap=base.bootstrap, topic_prefix=name, state_dir=base.state_dir / "demo" / name,
        kafka_cache=base.kafka_cache,
    )  # fmt: skip
    target = out or settings.state_dir
    target.mkdir(parents=True, exist_ok=True)
    holder = _Holder()
    # A SIGTERM (a service manager, `timeout`) stops the demo as a Ctrl-C does: the worker and
    # the console go with it instead of outliving it in their own sessions.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        holder.web_port = _free_port()  # the scorecards are read from the worker's HTTP API
        code = asyncio.run(_demo(settings, cfg, target, pace, live, audit, holder))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: stopping the worker[/yellow]")
        code = 130
    finally:
        if holder.worker is not None:
            holder.worker.stop()
        if holder.console is not None:
            holder.console.stop()
        signal.signal(signal.SIGTERM, previous)
    return code


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


async def _demo(
    settings: Settings,
    cfg: SimConfig,
    out: Path,
    pace: float,
    show_live: bool,
    audit: bool,
    holder: _Holder,
) -> int:
    catalogue = await prepare(settings, cfg)
    console.print(f"topics under prefix [bold]{settings.topic_prefix}[/bold]; output in {out}")
    review = await _holds_a_run(settings, catalogue)
    expected_alerts: list[ExpectedAlert] = []
    alert_file = (out / EXPECTED_ALERTS).open("wb")
    file_sink = AlertFile(alert_file)

    def sink(a: ExpectedAlert) -> None:
        expected_alerts.append(a)
        file_sink(a)

    sim = Simulation(cfg, sink=sink)
    if review:
        console.print("this prefix already holds a run: reviewing it (nothing re-published)")
        for _ in sim:
            pass
    # In a review the worker resumes from its committed offsets and rebuilds its tables from
    # their changelogs: it reads nothing new, and answers the scorecard queries.
    # The API needs a token: the demo gives itself a regulator token in the worker's state dir.
    api_token = TokenStore(settings.state_dir).create("demo", Role.REGULATOR)
    receivers = await LocalReceivers().start()  # escalations reach a local robot and mailbox
    holder.worker = WorkerProcess(
        settings, out / "worker.log", holder.web_port, env=receivers.env()
    ).start()
    api = f"http://127.0.0.1:{holder.web_port}"
    console.print(f"worker HTTP API: {api}/")
    holder.console = ConsoleProcess(settings, out / "console.log", _free_port()).start()
    console.print(f"bureau console (控制台): {holder.console.address}")
    predicted = _predicted(expected_alerts)
    view = LiveView(cfg, settings.topic_prefix, predicted)
    watch = SystemWatch(
        settings.bootstrap, catalogue, on_alert=view.alert, on_dead_letter=view.dead_letter
    )
    watching = asyncio.create_task(watch.run())
    live_on = show_live and console.is_terminal
    started = time.monotonic()

    def phase(text: str) -> None:
        view.phase = text
        if not live_on:  # without the live view, every phase and its progress is a line
            console.print(f"[{time.monotonic() - started:6.0f} s] {text}")

    async def report_progress() -> None:
        while not live_on:
            await asyncio.sleep(10)
            dead, dead_expected = watch.dead_letters.total(), sim.outcome.dead_letters.total()
            console.print(
                f"[{time.monotonic() - started:6.0f} s]   alerts {watch.alert_count:,} of "
                f"{_predicted(expected_alerts):,} predicted, dead letters {dead:,} of "
                f"{dead_expected:,}"
            )

    ticker = asyncio.create_task(report_progress())
    try:
        live = Live(view, console=console, refresh_per_second=4, transient=False)
        with live if live_on else contextlib.nullcontext():
            if not review:
                phase("publishing the simulated days…")
                await _publish(settings, cfg, sim, pace, view, expected_alerts, not live_on)
            phase("waiting for the last alerts…")
            done = await watch.wait_for(
                _predicted(expected_alerts),
                sum(sim.outcome.dead_letters.values()),
                SETTLE_TIMEOUT,
            )
            phase("comparing the scorecards…")
            cards = sim.outcome.scorecards()
            first, last = date.fromisoformat(cards["from"]), date.fromisoformat(cards["to"])
            system_cards, card_diff = await wait_for_match(
                api, cards["subjects"], first, last, SCORECARD_TIMEOUT, token=api_token
            )
            phase("comparing the inboxes and notifications…")
            deliveries = await check_deliveries(
                settings, catalogue, sim.outcome.deliveries, expected_alerts,
                receivers.channels, received=receivers.received,
            )  # fmt: skip
            phase("comparing the enforcement record…")  # issue 18: 约谈, 责令改正, 行政处罚
            card_diff += await _enforcement_diff(api, sim, api_token)
            phase("comparing the spot-check campaign…")
            _shown, campaign_diff = await check_campaign(
                api, sim.campaign, SCORECARD_TIMEOUT, token=api_token
            )
            phase("comparing the rule change's figures…")
            filings = sim.outcome.filings  # issue 18: the rule change's before/after figures
            rule_diff = await check_rule_effect(api, api_token, filings.predicted(), filings.as_of)
    finally:
        await receivers.stop()
        ticker.cancel()
        alert_file.close()
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        if holder.worker is not None:
            holder.worker.stop()
            holder.worker = None
    write_expected(sim.outcome, out / EXPECTED)
    result = compare(
        expected_alerts,
        watch.alerts,
        dict(sim.outcome.dead_letters),
        dict(watch.dead_letters),
        sim.outcome.interviews_by_platform,
        watch.interviews,
    )
    if audit and not live_on:
        console.print(
            f"[{time.monotonic() - started:6.0f} s] replaying the log for the audit report…"
        )
    report = await _audit_report(settings, out) if audit else None
    _print_summary(sim, watch, result, system_cards, card_diff, report, done)
    console.print(summary_text(deliveries))
    governance = campaign_diff + rule_diff  # the enforcement record's are in card_diff
    _write_summary(
        out / SUMMARY, settings, cfg, sim, watch, result, system_cards, card_diff, report,
        deliveries, governance,
    )  # fmt: skip
    _print_campaign(sim, campaign_diff)
    _print_rule_effect(rule_diff)
    ok = result.ok and not card_diff and deliveries.ok
    return 0 if ok and not governance else 1


async def _enforcement_diff(api: str, sim: Simulation, token: str) -> list[str]:
    """The worker's enforcement record of the month's platform against the prediction."""
    plan = sim.enforcement
    expected = plan.expected(sim.outcome.interviews_by_platform[plan.platform_id])
    record, diff = await wait_for_record(api, plan.platform_id, expected, SCORECARD_TIMEOUT, token)
    if not diff and record is not None:
        console.print(
            f"[green]enforcement record of {plan.platform_id} as predicted: "
            f"{record['interviews_held']} interview, {record['orders_closed']} order closed, "
            f"{record['penalties']} penalty of {record['penalty_total_fen'] / 100:,.2f} yuan"
            "[/green]"
        )
    return diff


def _print_campaign(sim: Simulation, diff: list[str]) -> None:
    c = sim.campaign
    if c is None:
        return
    f = c.predicted()["figures"]
    state = "[green]as predicted[/green]" if not diff else "[red]differs[/red]"
    console.print(
        f"spot-check campaign {c.campaign_id}: {f['sampled']} rooms sampled, {f['checked']} "
        f"checked, {f['clean']} clean ({f['clean_share']:.0%}), {f['with_findings']} with "
        f"findings, {f['not_checked']} not checked — {state}"
    )
    for line in diff:
        console.print(f"  [red]{line}[/red]")


def _print_rule_effect(rule_diff: list[str]) -> None:
    if rule_diff:
        console.print("[red]the rule change's figures differ from the prediction[/red]\n"
                      + "\n".join(rule_diff))  # fmt: skip
    else:
        console.print(
            "[green]the 保价 rule change shows the predicted before/after figures[/green]"
        )


def _predicted(alerts: list[ExpectedAlert]) -> int:
    return len(alerts)


async def _holds_a_run(settings: Settings, catalogue: Catalogue) -> bool:
    watch = RouteWatch(settings.bootstrap, catalogue)
    await watch.start()
    try:
        return await watch.case_total() > 0
    finally:
        await watch.stop()


async def _publish(
    settings: Settings,
    cfg: SimConfig,
    sim: Simulation,
    pace: float,
    view: LiveView,
    expected: list[ExpectedAlert],
    print_days: bool,
) -> None:
    last_day = -1

    def progress(stats: Any) -> None:
        nonlocal last_day
        view.progress(stats)
        view.expected_alerts = _predicted(expected)  # predictions grow as cases are born
        if print_days and stats.sim_time is not None:
            day = int((stats.sim_time - cfg.start_at).total_seconds() // 86400)
            if day != last_day:
                last_day = day
                console.print(
                    f"  day {day}/{cfg.days}: records {stats.sent:,}, "
                    f"alerts so far {sum(view.levels.values()):,}"
                )

    await publish_simulation(settings, sim, cfg, progress=progress, pace=pace)


async def _audit_report(settings: Settings, out: Path) -> dict[str, Any] | None:
    """INTEGRATION POINT (audit): replay the log and write report.html / report.json.

    Uses the public API of ``audit.replay`` and ``audit`` (the same sequence as
    ``regbus replay``); if they are not importable the demo still runs, without the report."""
    try:
        from audit import (
            Collector,
            build_report,
            read_alerts,
            read_dead_letters,
            reconcile_replay,
        )
        from audit.fold import AsOf
        from audit.html import write_html
        from audit.replay import replay
        from audit.report import write_json
    except ImportError as exc:
        console.print(f"[yellow]audit report not available yet ({exc})[/yellow]")
        return None
    catalogue = Catalogue.from_settings(settings)
    collector = Collector()
    as_of = AsOf.at(datetime.now(UTC))
    result = await replay(settings, as_of, collector=collector)
    actual, bad = await read_alerts(settings, catalogue.alerts)
    # the case agents' alerts and the regulator's signals and interviews, replayed alike
    rec = reconcile_replay(result, actual, catalogue, undecodable=bad)
    dead = await read_dead_letters(settings, catalogue)
    source = {"prefix": settings.topic_prefix, "bootstrap": settings.bootstrap}
    report = build_report(result, reconciliation=rec, source=source, dead_letters=dead)
    write_json(report, out / "report.json")
    write_html(report, out / "report.html")
    report["_path"] = str(out / "report.html")
    return report


def _print_summary(
    sim: Simulation,
    watch: SystemWatch,
    result: Comparison,
    system_cards: dict[str, Counts],
    card_diff: list[str],
    report: dict[str, Any] | None,
    settled: bool,
) -> None:
    data = sim.outcome.to_json()
    console.print(scorecard_table(data, system_cards))
    console.print(by_rule_table(data["alerts"]["by_rule"], watch.by_rule))
    console.print(dead_letter_table(data["dead_letters"], watch.dead_letters))
    if result.ok:
        exact = len({a.full() for a in watch.alerts if a.kind != INTERVIEW})
        interviews = sum(result.interviews_actual.values())
        console.print(
            f"[green]the system raised exactly the {exact:,} alerts the simulator predicted "
            "(from its own bookkeeping, not the core's) — case alerts and the regulator's "
            "risk signals — down to the instant each was observed, and exactly the dead "
            f"letters; interviews {interviews} "
            f"(predicted {sum(result.interviews_expected.values())})[/green]"
        )
    else:
        console.print(f"[red]system and prediction differ[/red]\n{result.describe()}")
    cards = data["scorecards"]
    if not card_diff:
        console.print(
            f"[green]the regulator's scorecards of {cards['from']} – {cards['to']} equal the "
            f"simulator's for all {len(cards['subjects'])} platforms and categories[/green]"
        )
    else:
        shown = "\n".join(f"  {d}" for d in card_diff[:20])
        console.print(f"[red]scorecards differ from the prediction[/red]\n{shown}")
    if not settled:
        console.print("[yellow]the alerts topic had not settled when the demo stopped[/yellow]")
    if report is not None:
        rec = report.get("reconciliation") or {}
        console.print(
            f"audit report: {report['_path']} (replayed {report['replay']['records']:,} records; "
            f"reconciliation missing {len(rec.get('missing', []))}, "
            f"extra {len(rec.get('extra', []))})"
        )


def _write_summary(
    path: Path,
    settings: Settings,
    cfg: SimConfig,
    sim: Simulation,
    watch: SystemWatch,
    result: Comparison,
    system_cards: dict[str, Counts],
    card_diff: list[str],
    report: dict[str, Any] | None,
    deliveries: DeliveryCheck | None = None,
    governance: list[str] | None = None,
) -> None:
    """``governance``: how the campaign and the rule change's figures differ from the
    prediction (the enforcement record's differences are among ``card_diff``)."""
    cards = sim.outcome.scorecards()
    governance = governance or []
    summary = {
        "prefix": settings.topic_prefix,
        "config": cfg.to_json(),
        "expected": sim.outcome.to_json()["alerts"],
        "system": {
            "alerts_by_rule": dict(sorted(watch.by_rule.items())),
            "dead_letters": dict(sorted(watch.dead_letters.items())),
        },
        "match": result.ok
        and not card_diff
        and (deliveries is None or deliveries.ok)
        and not governance,
        "alerts_match": result.ok,
        # the lists show at most 50; the counts say of how many
        "missing_count": len(result.missing),
        "missing": [list(map(str, m)) for m in result.missing[:50]],
        "unexpected_count": len(result.unexpected),
        "unexpected": [list(map(str, u)) for u in result.unexpected[:50]],
        "scorecards": {
            "from": cards["from"],
            "to": cards["to"],
            "match": not card_diff,
            "differences": card_diff[:50],
            "expected": cards["subjects"],
            "system": system_cards,
        },
        "audit_report": None if report is None else report["_path"],
        "deliveries": None if deliveries is None else deliveries.to_json(),
        "governance": {"match": not governance, "differences": governance},
    }
    path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    console.print(f"summary: {path}")


__all__ = ["DEFAULT_PACE", "run_demo"]
