"""SMS texts: renders templates/sms/<name>.txt with jinja2 before activities hand the body to the gateway."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "sms"

# Every template and the params it needs; tests check the files use exactly these.
TEMPLATE_PARAMS: dict[str, tuple[str, ...]] = {
    "otp_login": ("code", "ttl_minutes"),
    "otp_confirm": ("app_no", "amount", "code", "ttl_minutes"),
    "otp_sign": ("doc_no", "code", "ttl_minutes"),
    "otp_mobile_change": ("code", "ttl_minutes"),
    "mobile_change_requested": ("date", "new_mobile", "branch"),
    "mobile_changed": ("date", "new_mobile", "branch"),
    "application_received": ("app_no",),
    "guarantor_invite": ("app_no", "amount", "deadline_hours"),
    "guarantor_sign_request": ("app_no",),
    "approved": ("app_no", "amount", "rate_percent"),
    "rejected": ("app_no",),
    "referred_back": ("app_no",),
    "contracts_ready": ("app_no", "deadline_hours"),
    "line_activated": ("line_no", "amount", "expiry_date"),
    "drawdown_disbursed": ("note_no", "amount", "account_tail"),
    "drawdown_failed": ("note_no",),
    "drawdown_sign_request": ("note_no", "amount", "deadline_hours"),
    "drawdown_paid_to_payee": ("note_no", "amount", "account_tail"),
    "withdrawn": ("app_no",),
    "cancelled": ("app_no",),
    "expired": ("app_no",),
    "guarantor_replaced_needed": ("app_no",),
    "repayment_due_soon": ("note_no", "due_date", "amount", "account_tail"),
    "repayment_overdue": ("note_no", "amount"),
    "line_frozen_overdue": ("note_no", "line_no"),
    "repayment_received": ("note_no", "amount", "outstanding"),
    "loan_settled": ("note_no",),
    "repayment_failed": ("note_no", "amount", "reason"),
    "whitelist_invitation": ("amount", "link", "expires_on"),
}
TEMPLATES: tuple[str, ...] = tuple(TEMPLATE_PARAMS)


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Plain text, not HTML: no autoescape. StrictUndefined makes a missing param an error, not a blank.
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR), undefined=StrictUndefined, autoescape=False,
        keep_trailing_newline=False,
    )


def render_sms(template: str, params: dict[str, str]) -> str:
    """The message body. Raises KeyError for an unknown template, jinja2.UndefinedError for a missing param."""
    if template not in TEMPLATE_PARAMS:
        raise KeyError(f"unknown SMS template {template!r}")
    return environment().get_template(f"{template}.txt").render(**params).strip()
