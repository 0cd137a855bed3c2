"""The ``.avsc`` files on disk: one folder per event, ``v1.avsc``, ``v2.avsc``… (its history).

A schema's identity is its *normalised text* (JSON with sorted keys and no whitespace). The
lock file pins a fingerprint of that text, and the registry is given exactly that text, so
"the same schema" means the same thing everywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

AVRO_DIR = Path(__file__).resolve().parent / "avro"
_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.avsc$")


class SchemaFileError(Exception):
    """The schema folder breaks a rule (bad file name, gap in versions, name mismatch)."""


def normalised_text(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(schema: Any) -> str:
    return "sha256:" + hashlib.sha256(normalised_text(schema).encode()).hexdigest()


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one event's schema."""

    subject: str
    version: int
    path: Path
    schema: dict[str, Any]

    @property
    def text(self) -> str:
        return normalised_text(self.schema)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.schema)


Histories = dict[str, tuple[SchemaVersion, ...]]


def load_histories(root: Path = AVRO_DIR) -> Histories:
    """Every event's schema history, oldest first, checked for shape and naming."""
    out: Histories = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        versions: list[SchemaVersion] = []
        for path in sorted(folder.iterdir()):
            match = _VERSION_FILE.match(path.name)
            if not match:
                raise SchemaFileError(f"{path}: schema files are named v<N>.avsc")
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise SchemaFileError(f"{path}: not JSON: {exc}") from exc
            if not isinstance(schema, dict) or schema.get("name") != folder.name:
                raise SchemaFileError(f"{path}: record name must be {folder.name!r}")
            versions.append(SchemaVersion(folder.name, int(match.group(1)), path, schema))
        versions.sort(key=lambda v: v.version)
        if [v.version for v in versions] != list(range(1, len(versions) + 1)):
            raise SchemaFileError(f"{folder}: versions must run v1, v2, … without gaps")
        if versions:
            out[folder.name] = tuple(versions)
    return out


@cache
def histories() -> Histories:
    """The committed histories, read once per process."""
    return load_histories()


def newest(subject: str, hist: Histories | None = None) -> SchemaVersion:
    return (hist if hist is not None else histories())[subject][-1]
