"""Contract data refuses missing, blank, inexact or contradictory terms before anything renders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from documents.models import GuaranteeContractData, LoanContractData, Party


def test_valid_data_round_trips_through_json(loan_data: LoanContractData) -> None:
    # activities store the terms as JSON; reading them back must give the same contract terms.
    assert LoanContractData.model_validate_json(loan_data.model_dump_json()) == loan_data
    assert loan_data.penalty_rate == Decimal("0.0750")
    assert loan_data.misuse_rate == Decimal("0.1000")


@pytest.mark.parametrize("name", ["purpose", "contract_no", "lender", "lpr_date", "verify_url", "signed_on"])
def test_missing_field_raises(loan_fields: dict, name: str) -> None:
    del loan_fields[name]
    with pytest.raises(ValidationError, match=name):
        LoanContractData(**loan_fields)


@pytest.mark.parametrize(("name", "value"), [
    ("purpose", "   "),
    ("contract_no", ""),
    ("amount", 50000.0),
    ("amount", Decimal("50000.005")),
    ("amount", Decimal("0")),
    ("annual_rate", 0.05),
    ("spread_bp", 201),
    ("repayment_method", "balloon"),
    ("disbursement_account", "6229-0000"),
    ("verify_url", "nongedai.example.cn/v"),
    ("verify_url", "javascript:alert(1)"),
    ("guarantors", []),
    ("signed_on", date(2027, 6, 17)),
])
def test_bad_loan_terms_raise(loan_fields: dict, name: str, value: object) -> None:
    loan_fields[name] = value
    with pytest.raises(ValidationError):
        LoanContractData(**loan_fields)


def test_credit_loan_has_no_guarantors(loan_fields: dict) -> None:
    loan_fields["guarantee_type"] = "credit"
    with pytest.raises(ValidationError, match="no guarantors"):
        LoanContractData(**loan_fields)
    loan_fields["guarantors"] = []
    assert LoanContractData(**loan_fields).guarantee_type == "credit"


@pytest.mark.parametrize(("name", "value"), [
    ("resident_id", "350582199503121239"),  # wrong check digit
    ("resident_id", "35058219950312106x"),  # valid once upper-cased, but not stored canonical
    ("mobile", "+8613905951234"),
    ("mobile", "12905951234"),
    ("name", " "),
])
def test_bad_party_raises(borrower: Party, name: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Party(**{**borrower.model_dump(), name: value})


def test_canonical_x_check_digit_is_accepted(borrower: Party) -> None:
    assert Party(**{**borrower.model_dump(), "resident_id": "35058219950312106X"}).resident_id.endswith("X")


def test_guarantee_share_needs_a_co_guarantor(guarantee_fields: dict) -> None:
    guarantee_fields["share"] = Decimal("0.5")
    with pytest.raises(ValidationError, match="co-guarantor"):
        GuaranteeContractData(**guarantee_fields)
    guarantee_fields["co_guarantors"] = ["王美玲"]
    assert GuaranteeContractData(**guarantee_fields).share == Decimal("0.5")


def test_guarantee_period_is_at_least_the_legal_default(guarantee_fields: dict) -> None:
    guarantee_fields["guarantee_period_months"] = 3
    with pytest.raises(ValidationError):
        GuaranteeContractData(**guarantee_fields)
