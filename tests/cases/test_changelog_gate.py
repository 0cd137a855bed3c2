"""The changelog gate: a batch's state reaches the changelog only after its outputs are
durable, so a worker killed in between never leaves "event applied" without its alert."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.batching import ChangelogGate, TableIO


class _Table:
    """A table whose changelog sends are futures the test resolves."""

    def __init__(self) -> None:
        self.app = None
        self.data: Any = type("Store", (), {"data": {}})()
        self.sent: list[tuple[int, bytes, bytes | None]] = []
        self.futures: list[asyncio.Future[None]] = []

    def send_changelog(self, partition: int, key: bytes, value: bytes | None) -> Any:
        self.sent.append((partition, key, value))
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        self.futures.append(fut)
        return fut


async def test_changelog_waits_for_the_outputs_queued_before_it() -> None:
    gate = ChangelogGate()
    table = _Table()
    io = TableIO(table)
    output: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    gate.output(output, lambda: output)
    gate.change(io, 2, b"case-1", b"state")
    release = asyncio.create_task(gate.release())
    for _ in range(20):
        await asyncio.sleep(0)
    assert table.sent == []  # the alert is not acknowledged yet: the state waits
    assert not release.done()
    output.set_result(None)
    await asyncio.wait_for(release, 5)
    assert table.sent == [(2, b"case-1", b"state")]
    assert gate.held == 0


async def test_a_failed_output_is_sent_again_before_the_state() -> None:
    gate = ChangelogGate()
    gate.RETRY_PAUSE = 0.0
    table = _Table()
    loop = asyncio.get_running_loop()
    failed: asyncio.Future[None] = loop.create_future()
    failed.set_exception(RuntimeError("broker away"))
    resent: list[asyncio.Future[None]] = []

    def again() -> asyncio.Future[None]:
        fut: asyncio.Future[None] = loop.create_future()
        fut.set_result(None)
        resent.append(fut)
        return fut

    gate.output(failed, again)
    gate.change(TableIO(table), 0, b"k", None)
    await asyncio.wait_for(gate.release(), 5)
    assert len(resent) == 1 and gate.counters["resent"] == 1
    assert table.sent == [(0, b"k", None)]


async def test_changes_after_a_release_started_wait_for_the_next_one() -> None:
    gate = ChangelogGate()
    table = _Table()
    io = TableIO(table)
    slow: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    gate.output(slow, lambda: slow)
    gate.change(io, 0, b"first", b"1")
    release = asyncio.create_task(gate.release())
    await asyncio.sleep(0)
    gate.change(io, 0, b"second", b"2")  # its outputs were queued after the snapshot
    slow.set_result(None)
    await asyncio.wait_for(release, 5)
    assert [k for _p, k, _v in table.sent] == [b"first"]
    await asyncio.wait_for(gate.release(), 5)
    assert [k for _p, k, _v in table.sent] == [b"first", b"second"]
