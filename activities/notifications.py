"""SMS to customers: the text comes from templates/sms, the mobile number from the database."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.errors import Refused
from adapters.sms.port import SmsGateway
from adapters.sms.texts import render_sms
from db.application_store import get_customer
from db.engine import session_scope
from workflows.messages import SmsRequest


class NotificationActivities:
    def __init__(self, engine: Engine, sms: SmsGateway) -> None:
        self._engine = engine
        self._sms = sms

    @activity.defn
    def send_sms(self, request: SmsRequest) -> int:
        with session_scope(self._engine) as session:
            mobile = get_customer(session, request.customer_id).mobile
        body = render_sms(request.template, request.params)
        try:
            receipt = self._sms.send(idempotency_key=request.idempotency_key, mobile=mobile,
                                     template=request.template, body=body)
        except Refused as refused:
            # The gateway said no (a bad number, a text too long): asking again will not change its mind.
            raise ApplicationError(refused.message, {"code": refused.code}, type="SmsRefused",
                                   non_retryable=True) from refused
        return receipt.message_id
