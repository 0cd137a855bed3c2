"""The worked example in docs/contract.md runs, so it cannot rot."""

from __future__ import annotations

import re

from streams.settings import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "contract.md"


def test_contract_doc_example_runs(capsys) -> None:  # type: ignore[no-untyped-def]
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/contract.md should hold exactly one python example"
    exec(compile(blocks[0], str(DOC), "exec"), {"__name__": "contract_doc_example"})
    assert "dead-letter reason: BAD_MAGIC" in capsys.readouterr().out
