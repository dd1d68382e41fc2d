"""Drawdown (支用) rules at the moment the note is created: the product's drawdown rule set (by default
`rules/NONG_E_DAI/drawdown.json`) decides from these facts; the line's own limits (available amount, term
within expiry, line active) stay with the line, which checks them against its live state."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def rule_facts(*, blacklisted: bool, currently_overdue: bool, amount: Decimal, term_months: int,
               repayment_method: str, payment_mode: str, grade: str) -> dict[str, Any]:
    return {"customer": {"blacklisted": blacklisted, "currently_overdue": currently_overdue, "grade": grade},
            "amount": amount, "term_months": term_months, "repayment_method": repayment_method,
            "payment_mode": payment_mode}


def outcome(result: dict[str, Any]) -> tuple[str, list[str]]:
    """(allow | refuse, reason codes) from the rule set's result."""
    codes = [str(c) for c in result["reason_codes"]]
    if not isinstance(result["allowed"], bool) or result["allowed"] == bool(codes):
        raise ValueError("a drawdown result is allowed with no reason codes, or refused with some")
    return ("allow" if result["allowed"] else "refuse"), codes
