"""Money movement through core banking. Every posting carries a business idempotency key; an attempt
after an unknown outcome looks the posting up first, so a timeout never pays out twice."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.core_banking.port import CoreBanking, Posting
from adapters.errors import Refused
from db.application_store import get_customer
from db.engine import session_scope
from db.line_store import note_by_no
from workflows.messages import DisburseInput, PostingRef


def _ref(posting: Posting) -> PostingRef:
    return PostingRef(posting_id=posting.posting_id, idempotency_key=posting.idempotency_key, amount=posting.amount)


class DisbursementActivities:
    def __init__(self, engine: Engine, core_banking: CoreBanking) -> None:
        self._engine = engine
        self._cb = core_banking

    @activity.defn
    def disburse(self, request: DisburseInput) -> PostingRef:
        if activity.info().attempt > 1:
            earlier = self._cb.find_posting(request.idempotency_key)
            if earlier is not None:
                activity.logger.info("posting %s found on attempt %s", earlier.posting_id, activity.info().attempt)
                return _ref(earlier)
        with session_scope(self._engine) as session:
            note = note_by_no(session, request.note_no)
            # 受托支付 pays the payee; otherwise the borrower's own settlement account.
            account = (note.payee_account if note is not None and note.payment_mode == "entrusted"
                       else get_customer(session, request.customer_id).settlement_account)
        if not account:
            raise ApplicationError("customer has no settlement account", {"code": "NO_SETTLEMENT_ACCOUNT"},
                                   type="PostingRefused", non_retryable=True)
        try:
            posting = self._cb.disburse(idempotency_key=request.idempotency_key, note_no=request.note_no,
                                        to_account=account, amount=request.amount)
        except Refused as refused:
            raise ApplicationError(refused.message, {"code": refused.code}, type="PostingRefused",
                                   non_retryable=True) from refused
        return _ref(posting)

    @activity.defn
    def reverse_disbursement(self, request: DisburseInput) -> PostingRef:
        """Compensation: post the mirror of the disbursement (its own key, so it also happens once)."""
        try:
            posting = self._cb.reverse(idempotency_key=f"{request.idempotency_key}:reverse",
                                       original_key=request.idempotency_key)
        except Refused as refused:
            raise ApplicationError(refused.message, {"code": refused.code}, type="PostingRefused",
                                   non_retryable=True) from refused
        return _ref(posting)
