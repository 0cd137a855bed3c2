"""``regbus replay`` and ``regbus audit keygen | checkpoint | verify | export``."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from agents.runtime import tune_gc
from audit.collect import Collector
from audit.deadletters import read_dead_letters
from audit.export import export_partition
from audit.fold import AsOf, Mode
from audit.html import write_html
from audit.privacy import PrivacyView, read_privacy
from audit.reconcile import DEFAULT_LATE_AFTER_MS, read_alerts, reconcile_replay
from audit.replay import ReplayResult, replay
from audit.report import build_report, write_json
from audit.verify import VerifyReport, verify_file, verify_log
from regbus.cli._output import print_json
from schemas.families import CaseFamily
from schemas.instants import beijing_iso, parse_instant
from streams.ledger.checkpoints import DEFAULT_EVERY, checkpoint
from streams.ledger.signing import (
    AuditKeyError,
    generate,
    load_public_key,
    public_key_from_env,
    signing_key_from_env,
)
from streams.settings import Settings
from streams.topics import Catalogue

app = typer.Typer(help="Tamper evidence: keys, hash-chain checkpoints, verification, export.",
                  no_args_is_help=True)  # fmt: skip
console = Console()
err = Console(stderr=True)


class _Rate(ProgressColumn):
    """Records per second since the start (rich's own speed column smooths too much)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} rec/s", style="progress.data.speed")


def _instant(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None


async def _run_replay(
    settings: Settings, as_of: AsOf, show_progress: bool, do_reconcile: bool, late_after_ms: int
) -> tuple[ReplayResult, Any, Any]:
    collector = Collector()
    progress = Progress(
        TextColumn("[bold]replay[/]"), BarColumn(), MofNCompleteColumn(), _Rate(),
        TimeElapsedColumn(), console=err, disable=not show_progress, transient=False,
    )  # fmt: skip
    with progress:
        task = progress.add_task("replay", total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        result = await replay(settings, as_of, collector=collector, on_progress=update)
    rec = None
    catalogue = Catalogue(settings.topic_prefix)
    dead = await read_dead_letters(settings, catalogue)
    if do_reconcile:
        actual, bad = await read_alerts(settings, catalogue.alerts)
        rec = reconcile_replay(result, actual, catalogue, late_after_ms, bad)
    return result, rec, dead


_MODE_HELP = "known: as the bureau knew it at T; happened: every record with a time ≤ T"


def replay_command(
    until: str = typer.Option(..., "--until", help="the instant T, e.g. 2026-03-01T00:00:00Z"),
    since: str | None = typer.Option(None, "--from", help="window start T0 (cases opened from T0)"),
    platform: str | None = typer.Option(None, "--platform", help="only this platform's cases"),
    case: str | None = typer.Option(None, "--case", help="only this case"),
    out: Path | None = typer.Option(None, "--out", help="directory for report.json/.html"),
    mode: Mode = typer.Option(Mode.KNOWN, "--mode", help=_MODE_HELP),
    do_reconcile: bool = typer.Option(
        True, "--reconcile/--no-reconcile", help="compare expected alerts with the alerts topic"
    ),
    late_after: float = typer.Option(
        DEFAULT_LATE_AFTER_MS / 1000,
        "--late-after",
        help="seconds after which an alert counts as late",
    ),
    states: bool = typer.Option(True, "--states/--no-states", help="write states.jsonl"),
    show_progress: bool = typer.Option(sys.stderr.isatty(), "--progress/--no-progress"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as one JSON document"),
) -> None:
    """Replay the canonical topics as of T (no worker; writes nothing to Kafka) and report.

    T without a zone is Beijing time; an age (``2h``) counts back from now. Exit 0: healthy;
    1: the reconciliation found something; 2: bad input."""
    tune_gc()
    until_at = _instant(until, "--until")
    assert until_at is not None
    since_at = _instant(since, "--from")
    as_of = AsOf.at(until_at, since=since_at, mode=mode, platform=platform, case=case)
    settings = Settings.from_env()
    try:
        result, rec, dead = asyncio.run(
            _run_replay(settings, as_of, show_progress, do_reconcile, int(late_after * 1000))
        )
    except LookupError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    source = {"prefix": settings.topic_prefix, "bootstrap": settings.bootstrap}
    try:
        privacy: PrivacyView | None = asyncio.run(read_privacy(settings))
    except Exception as exc:  # an older deployment without the privacy topics: say so
        err.print(f"[yellow]personal data not labelled (privacy topics unreadable: {exc})[/]")
        privacy = None
    report = build_report(
        result, reconciliation=rec, source=source, dead_letters=dead, privacy=privacy
    )
    target = out or Path(f"audit-{until_at.strftime('%Y%m%dT%H%M%S')}")
    write_json(report, target / "report.json")
    write_html(report, target / "report.html")
    if states:
        _write_states(result, target / "states.jsonl")
    if as_json:
        print_json(
            {
                "as_of": beijing_iso(until_at),
                "replay": report["replay"],
                "summary": report["summary"],
                "reconciliation": report["reconciliation"],
                "report_html": str(target / "report.html"),
                "report_json": str(target / "report.json"),
            }
        )
    else:
        _print_summary(report, target)
    if rec is not None and not rec.healthy:
        raise typer.Exit(1)


def _write_states(result: ReplayResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for family, case_id, partition, state in result.folder.envelopes():
            line = {"family": family.value, "case_id": case_id, "partition": partition,
                    "state": state}  # fmt: skip
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def _print_summary(report: dict[str, Any], target: Path) -> None:
    r, s = report["replay"], report["summary"]
    console.print(
        f"replayed {r['records']:,} records in {r['seconds']:.2f} s "
        f"({r['records_per_second']:,.0f} rec/s): {s['cases']} cases, {s['open_cases']} open, "
        f"{s['alerts']} alerts, {s['breaches']} breaches, {s['violations']} violations"
    )
    rec = report["reconciliation"]
    if rec is not None:
        style = "green" if rec["healthy"] else "red"
        console.print(
            f"[{style}]reconciliation: {rec['expected']} expected, {rec['actual']} in the topic; "
            f"missing {len(rec['missing'])}, extra {len(rec['extra'])}, late {len(rec['late'])}, "
            f"mismatched {len(rec['mismatched'])}[/]"
        )
    console.print(f"report: {target / 'report.html'} and {target / 'report.json'}")


# audit group ------------------------------------------------------------------------
@app.command()
def keygen(
    out: Path = typer.Option(Path("bureau-audit.key"), "--out", help="private key path (0600)"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing key"),
) -> None:
    """Create the bureau's Ed25519 signing key (PEM) and its public key (<out>.pub)."""
    try:
        private, public = generate(out, overwrite=force)
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"private key: {private} (keep it secret; set REGBUS_AUDIT_KEY={private})")
    console.print(f"public key:  {public} (give it to verifiers: REGBUS_AUDIT_PUBKEY)")


@app.command("checkpoint")
def checkpoint_command(
    every: int = typer.Option(DEFAULT_EVERY, "--every", min=1, help="records per checkpoint"),
    full: bool = typer.Option(False, "--full", help="recompute from the genesis"),
    require_key: bool = typer.Option(False, "--require-key", help="fail without REGBUS_AUDIT_KEY"),
    as_json: bool = typer.Option(False, "--json", help="one JSON document"),
) -> None:
    """Publish hash-chain checkpoints for the records added since the last run."""
    try:
        key = signing_key_from_env()
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    if key is None and require_key:
        err.print("[red]REGBUS_AUDIT_KEY is not set[/]")
        raise typer.Exit(1)
    made = asyncio.run(checkpoint(Settings.from_env(), key=key, full=full, every=every))
    if as_json:
        print_json(
            {
                "signed": key is not None,
                "checkpoints": [
                    {
                        "topic": cp.topic,
                        "partition": cp.partition,
                        "from_offset": cp.from_offset,
                        "to_offset": cp.to_offset,
                        "records": cp.record_count,
                        "chain_hash": cp.chain_hash,
                        "key_id": cp.key_id or None,
                    }
                    for cp in made
                ],
            }
        )
        return
    table = Table("topic", "partition", "from", "to", "records", "chain hash", "signed")
    for cp in made:
        table.add_row(cp.topic, str(cp.partition), str(cp.from_offset), str(cp.to_offset),
                      str(cp.record_count), cp.chain_hash[:16] + "…",
                      cp.key_id or "no")  # fmt: skip
    console.print(table)
    console.print(f"published {len(made)} checkpoint(s)" + ("" if key else " (unsigned)"))


@app.command()
def verify(
    files: list[Path] = typer.Option([], "--file", help="verify an export instead of the log"),
    public_key: Path | None = typer.Option(None, "--public-key", help="PEM public key"),
    require_signatures: bool = typer.Option(False, "--require-signatures"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Recompute the hash chains and check them against the signed checkpoints."""
    try:
        public = load_public_key(public_key) if public_key else public_key_from_env()
    except AuditKeyError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    if files:
        reports = [verify_file(f, public, require_signatures=require_signatures) for f in files]
    else:
        reports = [asyncio.run(verify_log(Settings.from_env(), None, public,
                                          require_signatures=require_signatures))]  # fmt: skip
    ok = all(r.ok for r in reports)
    if as_json:
        console.print_json(json.dumps([verify_json(r) for r in reports]))
    else:
        for r in reports:
            _print_verify(r)
    if not ok:
        raise typer.Exit(1)


def verify_json(r: VerifyReport) -> dict[str, Any]:
    return {
        "ok": r.ok,
        "checkpoints": r.checkpoints,
        "signed_valid": r.signed_valid,
        "unsigned": r.unsigned,
        "public_key_id": r.public_key_id,
        "signature_issues": [vars(i) for i in r.signature_issues],
        "partitions": [
            {
                "topic": p.topic,
                "partition": p.partition,
                "records": p.records,
                "checkpoints_matched": p.checkpoints_matched,
                "verified_through": p.verified_through,
                "unverified_records": p.unverified_records,
                "break": None if p.failure is None else p.failure.as_json(),
            }
            for p in r.partitions
        ],
    }


def _print_verify(r: VerifyReport) -> None:
    table = Table("topic", "partition", "records", "checkpoints ok", "verified through",
                  "not yet covered", "result")  # fmt: skip
    for p in r.partitions:
        result = "[green]intact[/]" if p.failure is None else f"[red]BROKEN ({p.failure.kind})[/]"
        table.add_row(p.topic, str(p.partition), str(p.records), str(p.checkpoints_matched),
                      "-" if p.verified_through is None else str(p.verified_through),
                      str(p.unverified_records), result)  # fmt: skip
    console.print(table)
    for b in r.breaks:
        where = f"{b.topic}[{b.partition}] offset {b.offset}"
        if b.range_from is not None and b.range_from != b.offset:
            where += f" (the change is in offsets {b.range_from}..{b.offset})"
        console.print(f"[red]first break: {where}: {b.detail}[/]")
        console.print(f"  expected {b.expected}\n  actual   {b.actual}")
    for i in r.signature_issues:
        console.print(f"[red]checkpoint {i.topic}[{i.partition}]@{i.to_offset}: {i.reason}[/]")
    keyinfo = f"key {r.public_key_id}" if r.public_key_id else "no public key: not checked"
    console.print(
        f"{r.checkpoints} checkpoint(s), {r.signed_valid} validly signed, {r.unsigned} unsigned "
        f"({keyinfo}) — " + ("[green]OK[/]" if r.ok else "[red]FAILED[/]")
    )


@app.command()
def export(
    out: Path = typer.Option(..., "--out", help="file (one partition) or directory (--all)"),
    family: CaseFamily | None = typer.Option(None, "--family", help="complaints, refunds, …"),
    partition: int | None = typer.Option(None, "--partition", min=0),
    export_all: bool = typer.Option(False, "--all", help="every canonical partition"),
) -> None:
    """Export canonical partitions (records, chain hashes, checkpoints) as JSON lines."""
    settings = Settings.from_env()
    catalogue = Catalogue.from_settings(settings)
    jobs: list[tuple[str, int, Path]] = []
    if export_all:
        for fam in CaseFamily:
            for p in range(catalogue.case_partitions):
                jobs.append((catalogue.cases(fam), p, out / f"{fam.value}-{p}.jsonl"))
    elif family is not None and partition is not None:
        jobs.append((catalogue.cases(family), partition, out))
    else:
        raise typer.BadParameter("give --family and --partition, or --all")
    for topic, p, path in jobs:
        n = asyncio.run(export_partition(settings, topic, p, path, catalogue))
        console.print(f"{topic}[{p}]: {n} records → {path}")
