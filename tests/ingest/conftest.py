"""Fixtures for the ingestion tests: an in-process ingress worker and event factories.

``ingress_worker`` starts the bureau's Faust app *in the test's event loop* (``app.start()``
/ ``app.stop()``; about 1.5 s to start on the local broker) with only the ingress part
attached, so these tests do not depend on the case agents' outputs. The app is built by
``agents.app.build_worker`` itself, so its settings are production's; only ``_attach_parts``
is narrowed to ingress (``full=True`` keeps every part). The fixture is generic enough to
move to ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from agents.ingress import IngressMetrics, IngressProcessor, RegistryWatcher
from streams.settings import Settings
from streams.topics import Catalogue


@dataclass
class IngressWorker:
    parts: Any  # agents.app.WorkerParts
    settings: Settings
    catalogue: Catalogue

    @property
    def app(self) -> Any:
        return self.parts.app

    @property
    def processor(self) -> IngressProcessor:
        assert self.parts.ingress is not None
        return self.parts.ingress  # type: ignore[no-any-return]

    @property
    def metrics(self) -> IngressMetrics:
        return self.processor.metrics

    @property
    def watcher(self) -> RegistryWatcher:
        assert self.parts.ingress_watcher is not None
        return self.parts.ingress_watcher  # type: ignore[no-any-return]

    async def start(self) -> IngressWorker:
        self.app.finalize()
        await self.app.start()
        return self

    async def stop(self) -> None:
        await self.app.stop()
        # Faust's RocksDB store "closes" by dropping references; a second app in this same
        # process (a restart test) would find the LOCK files still held. Close them here.
        for table in self.app.tables.values():
            dbs = getattr(table.data, "_dbs", None)
            for db in list((dbs or {}).values()):
                db.close()
            if dbs:
                dbs.clear()


def build_ingress_app(settings: Settings, full: bool = False, **option_overrides: Any) -> Any:
    """``build_worker`` with production settings and (unless ``full``) only ingress attached;
    returns the worker's parts."""
    import agents.app as app_module
    from agents import ingress

    fields: dict[str, Any] = {"clock": "external", "store": "memory://", "web_enabled": False}
    options = app_module.WorkerOptions(**{**fields, **option_overrides})
    if full:
        return app_module.build_worker(settings, options)
    original = app_module._attach_parts

    def ingress_only(app: Any, s: Any, c: Any, o: Any) -> Any:
        parts = app_module.WorkerParts(app, s, c, o)
        parts.ingress, parts.ingress_watcher = ingress.attach(app, s, c, o)
        return parts

    app_module._attach_parts = ingress_only  # type: ignore[assignment]
    try:
        return app_module.build_worker(settings, options)
    finally:
        app_module._attach_parts = original


@pytest.fixture
async def ingress_worker(
    settings: Settings, catalogue: Catalogue
) -> AsyncIterator[Callable[..., Awaitable[IngressWorker]]]:
    """``await ingress_worker(full=False, **WorkerOptions overrides)`` starts a worker in this
    test's loop (``full=True``: every part ``create_app`` attaches); all stop at teardown."""
    started: list[IngressWorker] = []

    async def start(full: bool = False, **overrides: Any) -> IngressWorker:
        settings.state_dir.mkdir(parents=True, exist_ok=True)  # Faust makes one level only
        parts = build_ingress_app(settings, full, **overrides)
        worker = IngressWorker(parts, settings, catalogue)
        started.append(await worker.start())
        return worker

    yield start
    for worker in reversed(started):
        await worker.stop()
