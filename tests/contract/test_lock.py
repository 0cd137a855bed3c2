"""The schema-id lock file: complete, stable, and refusing edits to published schemas."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from regbus.cli.schemas import app
from schemas.lock import LOCK_PATH, LockError, problems, read_lock, updated, write_lock
from schemas.repository import AVRO_DIR, SchemaFileError, histories, load_histories

runner = CliRunner()


def test_committed_lock_is_in_sync() -> None:
    assert problems(histories(), read_lock()) == []


def test_ids_are_unique_and_positive() -> None:
    ids = [e.id for e in read_lock().values()]
    assert len(ids) == len(set(ids)) and min(ids) >= 1


def test_pinned_ids_never_move() -> None:
    # A sample of ids already on the wire; renumbering would make old records unreadable.
    lock = read_lock()
    assert lock[("AuditCheckpoint", 1)].id == 1
    assert lock[("ComplaintFiled", 1)].id == 6
    assert lock[("ComplaintFiled", 2)].id == 7


def test_lock_cli_passes_on_the_committed_tree() -> None:
    result = runner.invoke(app, ["lock"])
    assert result.exit_code == 0, result.output
    assert "in sync" in result.output


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    avro = tmp_path / "avro"
    shutil.copytree(AVRO_DIR, avro)
    lock = tmp_path / "lock.json"
    shutil.copy(LOCK_PATH, lock)
    return avro, lock


def test_a_new_version_without_an_id_is_reported_then_pinned(tree: tuple[Path, Path]) -> None:
    avro, lock_path = tree
    v2 = json.loads((avro / "RefundPaid" / "v1.avsc").read_text())
    v2["fields"].append({"name": "note", "type": ["null", "string"], "default": None})
    (avro / "RefundPaid" / "v2.avsc").write_text(json.dumps(v2))
    hist, lock = load_histories(avro), read_lock(lock_path)
    assert problems(hist, lock) == [
        "RefundPaid v2 has no schema id (run `regbus schemas lock --update`)"
    ]
    new = updated(hist, lock)
    assert new[("RefundPaid", 2)].id == max(e.id for e in lock.values()) + 1
    assert all(new[k] == v for k, v in lock.items())  # nothing renumbered
    write_lock(new, lock_path)
    assert problems(hist, read_lock(lock_path)) == []


def test_editing_a_published_schema_is_refused(tree: tuple[Path, Path]) -> None:
    avro, lock_path = tree
    path = avro / "RefundPaid" / "v1.avsc"
    schema = json.loads(path.read_text())
    schema["fields"][-1]["doc"] = "edited after publication"
    path.write_text(json.dumps(schema))
    hist, lock = load_histories(avro), read_lock(lock_path)
    (problem,) = problems(hist, lock)
    assert "RefundPaid v1 changed after its id" in problem
    with pytest.raises(LockError, match="immutable"):
        updated(hist, lock)


def test_a_removed_schema_is_reported(tree: tuple[Path, Path]) -> None:
    avro, lock_path = tree
    shutil.rmtree(avro / "RefundPaid")
    assert problems(load_histories(avro), read_lock(lock_path)) == [
        "RefundPaid v1 is pinned but its .avsc file is gone"
    ]


def test_versions_must_be_contiguous_and_named(tree: tuple[Path, Path]) -> None:
    avro, _ = tree
    shutil.copy(avro / "RefundPaid" / "v1.avsc", avro / "RefundPaid" / "v3.avsc")
    with pytest.raises(SchemaFileError, match="without gaps"):
        load_histories(avro)
    (avro / "RefundPaid" / "v3.avsc").rename(avro / "RefundPaid" / "latest.avsc")
    with pytest.raises(SchemaFileError, match=r"named v<N>\.avsc"):
        load_histories(avro)


def test_check_and_scaffold_cli() -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "BACKWARD_TRANSITIVE holds" in result.output
    result = runner.invoke(app, ["scaffold", "RefundPaid"])
    assert result.exit_code == 0 and json.loads(result.output)["name"] == "RefundPaid"
    assert runner.invoke(app, ["scaffold", "Nope"]).exit_code == 1
