"""The core stays pure: no stream framework, broker client or wall clock in agents/core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "agents" / "core"
FORBIDDEN_MODULES = {"faust", "aiokafka", "kafka", "confluent_kafka", "time", "asyncio"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def test_no_forbidden_imports_or_clock_calls() -> None:
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            else:
                names = []
            assert not FORBIDDEN_MODULES & set(names), f"{path.name} imports {names}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in FORBIDDEN_CALLS, f"{path.name}: .{node.func.attr}()"


def test_importing_the_core_loads_no_stream_framework() -> None:
    code = (
        "import sys, agents.core, agents.core.engine\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('faust', 'aiokafka', 'kafka', 'confluent_kafka')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=CORE.parents[1])
