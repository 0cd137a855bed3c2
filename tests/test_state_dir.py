"""A worker's Faust state is kept per topic prefix, so two prefixes can share a state dir."""

from __future__ import annotations

from pathlib import Path

from agents.app import WorkerOptions, build_worker
from streams.settings import Settings


def test_two_prefixes_on_one_state_dir_get_their_own_faust_data(tmp_path: Path) -> None:
    options = WorkerOptions(clock="external", store="memory://", web_enabled=False)
    dirs = []
    for prefix in ("bureau-a", "bureau-b"):
        parts = build_worker(Settings(topic_prefix=prefix, state_dir=tmp_path), options)
        dirs.append(Path(str(parts.app.conf.datadir)))
    assert dirs[0] != dirs[1]
    assert all(d.is_relative_to(tmp_path) for d in dirs)
    assert dirs[0].name == "bureau-a" and dirs[1].name == "bureau-b"
