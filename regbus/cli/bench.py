"""``regbus bench``: the benchmarks beside their peers, into docs/benchmarks.md."""

from __future__ import annotations

import typer

from bench.run import run_and_record


def bench_command(
    events: int = typer.Option(200_000, help="events per throughput benchmark"),
    only: list[str] = typer.Option([], help="run only these (publish, ingress, cases, …)"),
    write: bool = typer.Option(True, help="append the results to docs/benchmarks.md"),
) -> None:
    """Measure throughput against the raw aiokafka baseline and its peers; write
    docs/benchmarks.md."""
    run_and_record(events, only, write)
