"""Recording workflow histories for the replay test: `RECORD_HISTORIES=1 pytest tests/workflows` rewrites
tests/histories/*.json from real runs. Re-record only when a change is *meant* to alter history, and
guard that change with workflow.patched() so runs already in flight still replay."""

from __future__ import annotations

import os
from pathlib import Path

from temporalio.client import Client

HISTORY_DIR = Path(__file__).resolve().parent.parent / "histories"


async def record(client: Client, name: str, workflow_id: str) -> None:
    if not os.environ.get("RECORD_HISTORIES"):
        return
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    HISTORY_DIR.mkdir(exist_ok=True)
    (HISTORY_DIR / f"{name}.json").write_text(history.to_json())
