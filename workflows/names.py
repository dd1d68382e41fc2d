"""Workflow ids, type names and message names: the contract between services/ and the workflows.

services/ and the API address workflows by these strings so they never import workflow code.
Ids read well in the Temporal UI and carry business numbers, never personal data.
"""

from __future__ import annotations

LOAN_APPLICATION = "LoanApplicationWorkflow"
GUARANTOR_CONSENT = "GuarantorConsentWorkflow"
CREDIT_LINE = "CreditLineWorkflow"
DRAWDOWN = "DrawdownWorkflow"
REPAYMENT = "RepaymentWorkflow"
REPAYMENT_REVERSAL = "RepaymentReversalWorkflow"
END_OF_DAY = "EndOfDayWorkflow"
END_OF_DAY_WORKFLOW_ID = "end-of-day"  # one at a time: a second start while one runs is refused
END_OF_DAY_SCHEDULE_ID = "end-of-day-daily"
EOD_NOTICES = "EndOfDayNoticesWorkflow"
QUERY_PROGRESS = "progress"
WHITELIST_CAMPAIGN = "WhitelistCampaignWorkflow"
WHITELIST_OFFER = "WhitelistOfferWorkflow"
QUARTERLY_RATING = "QuarterlyRatingWorkflow"
QUARTERLY_RATING_WORKFLOW_ID = "quarterly-rating"  # ops-started runs; the Schedule appends its fire time
QUARTERLY_RATING_SCHEDULE_ID = "quarterly-rating"

# LoanApplicationWorkflow
UPDATE_CONFIRM = "confirm"
UPDATE_DECIDE = "decide"
UPDATE_SUPPLY_INFO = "supply_info"
UPDATE_SIGN = "sign"
UPDATE_WITHDRAW = "withdraw"
UPDATE_CANCEL = "cancel"
UPDATE_REPLACE_GUARANTOR = "replace_guarantor"
UPDATE_AMEND_TERMS = "amend_terms"
SIGNAL_GUARANTOR_STATUS = "guarantor_status"
QUERY_STATE = "state"

# GuarantorConsentWorkflow
UPDATE_CONSENT = "consent"
UPDATE_GUARANTOR_SIGN = "sign"
SIGNAL_CONTRACT_READY = "contract_ready"

# WhitelistCampaignWorkflow (QUERY_PROGRESS) and WhitelistOfferWorkflow (QUERY_STATE)
UPDATE_CAMPAIGN_ACTION = "campaign_action"
SIGNAL_ROW_OUTCOME = "row_outcome"
UPDATE_ACCEPT_OFFER = "accept_offer"
UPDATE_DECLINE_OFFER = "decline_offer"

# CreditLineWorkflow
UPDATE_REQUEST_DRAWDOWN = "request_drawdown"
UPDATE_SIGN_NOTE = "sign_note"  # on DrawdownWorkflow
SIGNAL_DRAWDOWN_SETTLED = "drawdown_settled"
SIGNAL_FREEZE = "freeze"
SIGNAL_UNFREEZE = "unfreeze"
SIGNAL_PRINCIPAL_REPAID = "principal_repaid"


def application_workflow_id(app_no: str) -> str:
    return f"loan-app-{app_no}"


def guarantor_workflow_id(app_no: str, slot: int, attempt: int) -> str:
    return f"guarantor-{app_no}-g{slot}-a{attempt}"


def credit_line_workflow_id(line_no: str) -> str:
    return f"credit-line-{line_no}"


def drawdown_workflow_id(note_no: str) -> str:
    return f"drawdown-{note_no}"


def repayment_workflow_id(repayment_no: str) -> str:
    return f"repayment-{repayment_no}"


def reversal_workflow_id(repayment_no: str) -> str:
    return f"repayment-reversal-{repayment_no}"


def eod_notices_workflow_id(business_date: object) -> str:
    return f"end-of-day-notices-{business_date}"

def whitelist_campaign_workflow_id(campaign_no: str) -> str:
    return f"whitelist-{campaign_no}"


def whitelist_offer_workflow_id(offer_no: str) -> str:
    return f"whitelist-offer-{offer_no}"
