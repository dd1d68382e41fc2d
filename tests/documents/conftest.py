"""Fixtures over contract_data: fresh field dicts a test may edit, and validated models."""

from __future__ import annotations

import pytest

from documents.models import LoanContractData, Party
from tests.documents.contract_data import BORROWER, make_guarantee_fields, make_loan_fields


@pytest.fixture
def borrower() -> Party:
    return BORROWER


@pytest.fixture
def loan_fields() -> dict:
    return make_loan_fields()


@pytest.fixture
def loan_data() -> LoanContractData:
    return LoanContractData(**make_loan_fields())


@pytest.fixture
def guarantee_fields() -> dict:
    return make_guarantee_fields()
