"""Custom search attributes for ops. Never personal data: Temporal does not encrypt these.

The dev server (`nongedai up`) and the test environments register exactly this list.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("LoanStage")
BRANCH = SearchAttributeKey.for_keyword("BranchCode")
PRODUCT = SearchAttributeKey.for_keyword("ProductCode")
CHANNEL = SearchAttributeKey.for_keyword("LoanChannel")
AMOUNT_BAND = SearchAttributeKey.for_keyword("AmountBand")
ASSIGNEE = SearchAttributeKey.for_keyword("Assignee")
SLA_DUE = SearchAttributeKey.for_datetime("SlaDueAt")

ALL = [STAGE, BRANCH, PRODUCT, CHANNEL, AMOUNT_BAND, ASSIGNEE, SLA_DUE]


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    kinds = {"KEYWORD": "Keyword", "DATETIME": "Datetime"}
    return [f"--search-attribute={k.name}={kinds[k.indexed_value_type.name]}" for k in ALL]
