"""Package layering: `perf` (the model) imports neither `validate` (comparisons) nor `calibrate` (fitting),
so the three do not import each other in a cycle (design-notes item 4)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "inferonomics"


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, node.module))
            elif isinstance(node, ast.Import):
                found.update((path.name, a.name) for a in node.names)
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("perf", "inferonomics.validate"), ("perf", "inferonomics.calibrate"), ("validate", "inferonomics.calibrate")],
)
def test_no_upward_imports(package: str, forbidden: str) -> None:
    bad = sorted(f"{f}: {m}" for f, m in _imports(package) if m == forbidden or m.startswith(forbidden + "."))
    assert not bad, f"{package} imports {forbidden}: {bad}"
