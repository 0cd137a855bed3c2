"""``regbus topics create | apply | ls | tail | lag``: the catalogue, its retention schedule,
and a kcat-like look at a topic with our decoding."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
from aiokafka.errors import KafkaConnectionError

from regbus.cli._output import console as make_console
from regbus.cli._output import fail, print_json, print_ndjson_line, shown, table
from streams.admin import apply_topic_configs, ensure_topics
from streams.registry import load_platforms
from streams.settings import Settings
from streams.topics import DAY_MS, Catalogue

app = typer.Typer(help="Topics declared in the catalogue.", no_args_is_help=True)
console = make_console()


def catalogue(settings: Settings) -> Catalogue:
    platforms = asyncio.run(load_platforms(settings))
    return Catalogue.from_settings(settings).with_platforms(platforms)


@app.command()
def create() -> None:
    """Create every catalogue topic that is missing (safe to re-run)."""
    settings = Settings.from_env()
    created = asyncio.run(ensure_topics(settings.bootstrap, catalogue(settings).specs()))
    console.print(
        f"created {len(created)} topic(s)" + (": " + ", ".join(created) if created else "")
    )


@app.command()
def apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the differences, change nothing."),
) -> None:
    """Make existing topics' configs (retention above all) match the catalogue's schedule."""
    settings = Settings.from_env()
    specs = catalogue(settings).specs()
    diffs = asyncio.run(apply_topic_configs(settings.bootstrap, specs, dry_run=dry_run))
    columns = ("topic", "config", "was", "now" if not dry_run else "would be")
    rows = [(name, key, "(unset)" if was is None else was, now) for name, key, was, now in diffs]
    if diffs:
        console.print(table(columns, rows))
    verb = "would change" if dry_run else "changed"
    console.print(f"{verb} {len(diffs)} value(s) on {len({d[0] for d in diffs})} topic(s)")


@app.command("ls")
def ls(as_json: bool = typer.Option(False, "--json", help="one JSON document")) -> None:
    """Show the catalogue: name, partitions, key, cleanup policy, retention."""
    specs = list(catalogue(Settings.from_env()))
    if as_json:
        print_json(
            {
                "topics": [
                    {
                        "name": s.name,
                        "family": s.family.value,
                        "partitions": s.partitions,
                        "key": s.key,
                        "value_schemas": list(s.value_schemas),
                        "cleanup_policy": s.cleanup_policy,
                        "retention_ms": s.retention_ms,
                        "config": s.config(),
                    }
                    for s in specs
                ]
            }
        )
        return
    columns = ("topic", "partitions", "key", "cleanup", "retention.ms", "retention")
    rows = [
        (
            s.name,
            s.partitions,
            s.key,
            s.cleanup_policy,
            s.retention_ms,
            "forever" if s.retention_ms < 0 else f"{s.retention_ms // DAY_MS} d",
        )
        for s in specs
    ]
    console.print(table(columns, rows))


def _start_positions(spec: str, begins: dict[Any, int], ends: dict[Any, int]) -> dict[Any, int]:
    if spec == "earliest":
        return dict(begins)
    if spec == "latest":
        return dict(ends)
    if spec.lstrip("-").isdigit():  # the last N of each partition
        n = abs(int(spec))
        return {tp: max(begins[tp], ends[tp] - n) for tp in ends}
    raise typer.BadParameter("--from: earliest, latest, N (last N per partition) or a time")


async def _tail(
    settings: Settings, topic: str, start: str, decode: bool, limit: int | None,
    follow: bool, as_json: bool,
) -> int:  # fmt: skip
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from schemas.instants import InstantError, from_ms, parse_instant, to_ms
    from streams.codec import DecodeError, EventCodec
    from streams.compat import partitions_of
    from streams.security import client_kwargs

    codec = EventCodec()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap, enable_auto_commit=False, **client_kwargs()
    )
    try:
        await consumer.start()
    except KafkaConnectionError:
        fail(f"cannot reach the broker at {settings.bootstrap} (is it up? `regbus broker status`)")
    shown_count = 0
    try:
        partitions = await partitions_of(consumer, topic)
        if not partitions and not topic.startswith(f"{settings.topic_prefix}."):
            # `cases.complaints` means the catalogue's topic under this prefix
            topic = f"{settings.topic_prefix}.{topic}"
            partitions = await partitions_of(consumer, topic)
        if not partitions:
            fail(f"no topic {topic!r} (see `regbus topics ls`)")
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        begins, ends = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
        try:
            positions = _start_positions(start, begins, ends)
        except typer.BadParameter:
            try:
                when = parse_instant(start)
            except InstantError as exc:
                raise typer.BadParameter(str(exc), param_hint="--from") from None
            found = await consumer.offsets_for_times({tp: to_ms(when) for tp in tps})
            positions = {tp: found[tp].offset if found.get(tp) else ends[tp] for tp in tps}
        for tp, offset in positions.items():
            consumer.seek(tp, offset)
        if follow:
            typer.echo(f"following {topic} (Ctrl-C to stop)", err=True)
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            if not batches and not follow:
                done = {tp: await consumer.position(tp) for tp in tps}
                if all(done[tp] >= ends[tp] for tp in tps):
                    break
            for records in batches.values():
                for rec in records:
                    item: dict[str, Any] = {
                        "topic": rec.topic, "partition": rec.partition, "offset": rec.offset,
                        "timestamp": from_ms(rec.timestamp),
                        "key": None if rec.key is None else rec.key.decode(errors="replace"),
                        "headers": {k: v.decode(errors="replace") for k, v in rec.headers or ()},
                    }  # fmt: skip
                    if decode:
                        try:
                            name, body = codec.decode_raw(rec.value or b"")
                            item["type"], item["value"] = name, body
                        except DecodeError as exc:
                            item["type"], item["value"] = None, f"<undecodable: {exc}>"
                    else:
                        item["value_bytes"] = len(rec.value or b"")
                    if as_json:
                        print_ndjson_line(item)
                    else:
                        body = item.get("value", f"{item.get('value_bytes')} bytes")
                        console.print(
                            f"[bold]{rec.partition}@{rec.offset}[/] {shown(item['timestamp'])} "
                            f"key={item['key']} {item.get('type') or ''} {body}",
                            markup=True, highlight=False, soft_wrap=True,
                        )  # fmt: skip
                    shown_count += 1
                    if limit is not None and shown_count >= limit:
                        return shown_count
    finally:
        await consumer.stop()
    return shown_count


@app.command("tail")
def tail(
    topic: str = typer.Argument(
        ..., help="topic name, e.g. regbus.alerts, or cases.complaints under this prefix"
    ),
    start: str = typer.Option(
        "-10", "--from", help="earliest, latest, N (last N per partition) or a time (Beijing)"
    ),
    decode: bool = typer.Option(True, "--decode/--raw", help="decode the Avro body"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="stop after N records"),
    follow: bool = typer.Option(False, "--follow", "-f", help="keep reading new records"),
    as_json: bool = typer.Option(False, "--json", help="one JSON record per line (NDJSON)"),
) -> None:
    """Show a topic's records with our decoding: partition, offset, time, key, headers, body."""
    settings = Settings.from_env()
    try:
        asyncio.run(_tail(settings, topic, start, decode, limit, follow, as_json))
    except KeyboardInterrupt:
        pass


async def _lag(settings: Settings, group_prefix: str) -> list[dict[str, Any]]:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    from streams.security import client_kwargs

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **client_kwargs())
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, **client_kwargs())
    try:
        await admin.start()
        await consumer.start()
    except KafkaConnectionError:
        fail(f"cannot reach the broker at {settings.bootstrap} (is it up? `regbus broker status`)")
    rows: list[dict[str, Any]] = []
    try:
        groups = sorted(g[0] for g in await admin.list_consumer_groups())
        for group in groups:
            if not group.startswith(group_prefix):
                continue
            offsets = await admin.list_consumer_group_offsets(group)
            if not offsets:
                continue
            ends = await consumer.end_offsets(list(offsets))
            for tp, meta in sorted(offsets.items()):
                end = ends.get(tp, 0)
                behind = max(0, end - meta.offset) if meta.offset >= 0 else end
                rows.append(
                    {
                        "group": group,
                        "topic": tp.topic,
                        "partition": tp.partition,
                        "committed": meta.offset,
                        "end": end,
                        "lag": behind,
                    }
                )
    finally:
        await consumer.stop()
        await admin.close()
    return rows


@app.command("lag")
def lag(
    group: str | None = typer.Option(
        None, "--group", help="group id prefix (default: this topic prefix's groups)"
    ),
    as_json: bool = typer.Option(False, "--json", help="one JSON document"),
) -> None:
    """Consumer lag per group and partition: committed offset, end offset, records behind."""
    settings = Settings.from_env()
    rows = asyncio.run(_lag(settings, group if group is not None else settings.topic_prefix))
    if as_json:
        print_json({"groups": rows})
        return
    columns = ("group", "topic", "partition", "committed", "end", "lag")
    console.print(table(columns, [tuple(r.values()) for r in rows]))
    if not rows:
        console.print("no consumer group with committed offsets under this prefix")
