"""DESIGN.md's import direction for the front door: api/ goes through services/, only services/ touches Temporal."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Payload and naming contracts services/ may use; never the workflow classes or activities themselves.
WORKFLOW_CONTRACTS = {"workflows", "workflows.names", "workflows.messages", "workflows.search_attributes"}


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.update({node.module} | {f"{node.module}.{a.name}" for a in node.names})
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_api_reaches_data_and_temporal_only_through_services():
    for module, names in _imports("api").items():
        assert not {n for n in names if n.startswith(("db.repositories", "db.models", "db.otp_codes", "activities"))}, module
        assert "temporalio.client.Client" not in names, module
        assert not {n for n in names if n.startswith("workflows") and not n.startswith("workflows.messages")}, module


def test_services_use_workflow_contracts_not_workflow_code():
    for module, names in _imports("services").items():
        workflow_modules = {n.rsplit(".", 1)[0] if n.count(".") > 1 else n for n in names if n.startswith("workflows")}
        assert workflow_modules <= WORKFLOW_CONTRACTS, (module, workflow_modules)
        assert not {n for n in names if n.startswith(("activities", "api"))}, module
