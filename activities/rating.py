"""What the activities that call the rating adapter share."""

from __future__ import annotations

from temporalio import activity


def rating_request_key() -> str:
    """This activity execution's own key: stable over its retries, new for a later review of the same loan."""
    info = activity.info()
    return f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"
