"""docs/billing-rules.md: every rule has a worked example and names tests that exist."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from tests.docs.conftest import DOCS, ROOT

RULES = DOCS / "billing-rules.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


@cache
def defined_tests(path: Path) -> frozenset[str]:
    """The test functions a file defines, at module level or in a test class."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in tree.body:
        bodies = node.body if isinstance(node, ast.ClassDef) else [node]
        names |= {
            f.name
            for f in bodies
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name.startswith("test_")
        }
    return frozenset(names)


def rules() -> dict[str, str]:
    """Each numbered rule's heading and its text."""
    text = RULES.read_text(encoding="utf-8")
    return {
        part.splitlines()[0]: part for part in text.split("\n## ")[1:] if re.match(r"\d+\. ", part)
    }


def test_every_rule_has_a_worked_example_with_numbers_and_a_test() -> None:
    found = rules()
    assert len(found) >= 10
    for heading, text in found.items():
        # A rule in parts (### headings) has an example and a test in each part.
        parts = re.split(r"\n### ", text)
        for part in parts[1:] or parts:
            where = f"{heading!r}: {part.splitlines()[0]!r}"
            assert REFERENCE.search(part), f"no test named under {where}"
            assert re.search(r"\d+\s+(minutes|units?|attempts?|made)|\| \d+ \|", part), (
                f"no worked numbers under {where}"
            )


def test_every_test_the_rules_name_exists() -> None:
    references = REFERENCE.findall(RULES.read_text(encoding="utf-8"))
    assert len(references) >= 20
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file() or name not in defined_tests(ROOT / path)
    ]
    assert missing == []


def test_the_rules_cite_the_plans_guide_by_its_title() -> None:
    text = " ".join(RULES.read_text(encoding="utf-8").split())
    assert '"Enhanced Care Management and Fee for Service Billing"' in text
    assert "Health Net" in text and "CHPIV" in text
