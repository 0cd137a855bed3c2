"""What every command prints: one JSON document (``--json``) or a table that is never cut.

Exit codes, the same for every command (docs/cli.md):

* 0 — done, nothing to report;
* 1 — done, with findings (a failed send, a broken chain, a missing alert) or an
  unreachable broker / API / registry;
* 2 — usage or input error (a bad option, a bad line in a file); nothing was done.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.table import Table

from schemas.instants import beijing_iso

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

WIDE = 200
"""Columns when not on a terminal: a pipe gets whole names, never ``ux-9190.ingress.b…``."""


def console(stderr: bool = False) -> Console:
    """A console that wraps nothing away when stdout is a pipe or a file."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=WIDE, soft_wrap=True)


_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # datetimes go through _default: Beijing time


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return beijing_iso(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def print_json(document: Any) -> None:
    """One JSON document on stdout (times in Beijing time with their offset)."""
    sys.stdout.write(
        orjson.dumps(document, default=_default, option=_OPTIONS | orjson.OPT_INDENT_2).decode()
    )
    sys.stdout.write("\n")
    sys.stdout.flush()


def print_ndjson_line(document: Any) -> None:
    """One line of an NDJSON stream (``--json`` on a follow command)."""
    sys.stdout.write(orjson.dumps(document, default=_default, option=_OPTIONS).decode() + "\n")
    sys.stdout.flush()


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A table whose cells are never truncated or folded."""
    out = Table(*columns)
    for col in out.columns:
        col.overflow = "fold" if sys.stdout.isatty() else "ignore"
        col.no_wrap = not sys.stdout.isatty()
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    return out


def fail(message: str, code: int = EXIT_FINDINGS) -> NoReturn:
    """One line on stderr, then exit: no traceback for a user to read."""
    console(stderr=True).print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def shown(when: datetime | None) -> str:
    """An instant as people read it here: Beijing time with its offset."""
    return beijing_iso(when) or "-"
