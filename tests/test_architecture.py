"""The import direction from DESIGN.md, checked on the source: domain imports nothing of ours; workflows
import only workflows/domain (activities only as passed-through references); api and cli reach Temporal
only through services; only the wiring points pick concrete adapters (simulators)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"api", "activities", "adapters", "cli", "config", "db", "documents", "domain", "services", "workflows",
        "worker", "bench"}
WIRING = {"worker.py", "api/main.py", "api/deps.py", "cli", "services/adapters.py"}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level module, inside `workflow.unsafe.imports_passed_through()`) for each import."""
    tree = ast.parse(path.read_text(), filename=str(path))
    passed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any("imports_passed_through" in ast.unparse(i.context_expr) for i in node.items):
            passed.update(id(n) for n in ast.walk(node))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in passed) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, id(node) in passed))
    return out


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _files("domain"), ids=str)
def test_domain_imports_nothing_of_ours(path):
    bad = [m for m, _ in _imports(path) if m.split(".")[0] in OURS - {"domain"}]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("path", _files("workflows"), ids=str)
def test_workflows_import_only_workflows_and_domain(path):
    bad = []
    for module, passed_through in _imports(path):
        top = module.split(".")[0]
        if top in ("workflows", "domain") or top not in OURS and top not in ("sqlmodel", "sqlalchemy", "jinja2",
                                                                            "weasyprint", "psycopg"):
            continue
        if top == "activities" and passed_through:
            continue
        bad.append(module)
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("path", _files("api") + _files("cli"), ids=str)
def test_front_doors_reach_workflows_only_through_services(path):
    bad = [m for m, _ in _imports(path) if m.split(".")[0] in ("workflows", "activities")
           and not m.startswith(("workflows.messages", "workflows.names", "workflows.search_attributes"))]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_wiring_points_pick_simulators():
    users = []
    for path in ROOT.glob("**/*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv", "tests/", "bench/", "adapters/")) or "/." in rel:
            continue
        if any(".simulator" in m for m, _ in _imports(path)) and not any(
                rel == w or rel.startswith(w + "/") for w in WIRING):
            users.append(rel)
    assert not users, f"concrete adapters chosen outside the wiring points: {users}"
