"""Every recorded history must replay against today's workflow code: a change to workflow logic that
would break loans already in flight fails here (NondeterminismError) instead of in production."""

from __future__ import annotations

import base64
import json
import re

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.workflows.histories import HISTORY_DIR
from worker import WORKFLOWS

HISTORIES = sorted(HISTORY_DIR.glob("*.json"))


def test_histories_are_recorded():
    names = {p.stem for p in HISTORIES}
    assert {"credit_loan_application", "credit_loan_amended", "credit_line", "drawdown", "drawdown_note_documents", "drawdown_note_signed",
            "guaranteed_loan_amended",
            "guaranteed_loan_application", "guarantor_consent", "whitelist_offer",
            "whitelist_offer_answered", "whitelist_offer_declined", "whitelist_offer_declined_cancelled"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)


PERSONAL_DATA = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}|林阿福|陈[一二三]")


def _decoded_payloads(node) -> list[str]:
    """Every payload's bytes in a history (JSON histories keep them base64-encoded under "data")."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                found.append(base64.b64decode(value).decode("utf-8", "replace"))
            else:
                found.extend(_decoded_payloads(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_decoded_payloads(item))
    return found


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
def test_history_carries_no_personal_data(path):
    payloads = _decoded_payloads(json.loads(path.read_text()))
    assert payloads, "no payloads decoded: the check would pass vacuously"
    assert any('"app_no"' in p or '"note_no"' in p or '"line_no"' in p for p in payloads)
    leaks = [m.group(0) for p in payloads for m in PERSONAL_DATA.finditer(p)]
    assert not leaks, f"personal data in {path.name}: {leaks[:3]}"
