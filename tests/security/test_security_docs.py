"""docs/security.md carries the ACL tables generated from acl_plan, not a hand-kept copy."""

from __future__ import annotations

import os
import re

from security_matrix import docs_markdown

from streams.settings import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "security.md"
BLOCK = re.compile(r"(<!-- acl-table:start -->\n)(.*?)(\n<!-- acl-table:end -->)", re.DOTALL)


def test_the_acl_tables_in_the_docs_are_generated_from_the_plan() -> None:
    text = DOC.read_text()
    match = BLOCK.search(text)
    assert match, "docs/security.md lost its acl-table markers"
    fresh = docs_markdown()
    if match.group(2) != fresh and os.environ.get("REGBUS_UPDATE_DOCS") == "1":
        DOC.write_text(text[: match.start(2)] + fresh + text[match.end(2) :])
        return
    assert match.group(2) == fresh, (
        "docs/security.md is stale: rerun with REGBUS_UPDATE_DOCS=1 "
        "(or paste `python tests/security/security_matrix.py`)"
    )
