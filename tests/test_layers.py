"""The floors of the house: the SDK loads no bureau code, and the layering contract holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", ["clients.publisher", "clients.inbox", "clients.subscriber"])
def test_client_modules_load_no_agents_and_no_faust(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('agents', 'faust', 'mode'));"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"{module} loads {out}"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip


def test_layering_contract_holds() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    """Copy the tree, add ``streams -> agents``, and the same contract must fail on it."""
    import shutil

    copy = tmp_path / "tree"
    for name in ("schemas", "streams", "agents", "clients", "audit", "devtools", "bench", "regbus"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "streams" / "upward.py").write_text("import agents.app\n")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=copy, capture_output=True, text=True, env={"PYTHONPATH": str(copy), "PATH": ""},
    )  # fmt: skip
    assert result.returncode != 0
    assert "streams.upward -> agents.app" in result.stdout, result.stdout
