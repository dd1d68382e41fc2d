"""SMS gateway simulator behind adapters.sms.port: an outbox table, idempotent by key, instant delivery."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adapters.errors import Refused
from adapters.simkit import SimulatedLink, utcnow
from adapters.sms.port import SmsReceipt
from adapters.sms.tables import SmsFault, SmsMessage
from db.engine import session_scope

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Chinese carriers only deliver messages that carry a registered signature such as 【农e贷】.
SIGNATURE = re.compile(r"^【[^】]+】|【[^】]+】$")
MAX_BODY_CHARS = 500


class SmsSimulator:
    def __init__(self, engine: Engine, latency_s: float = 0.0) -> None:
        self._engine = engine
        self.link = SimulatedLink(
            engine, system="sms gateway", fault_table=SmsFault, operations=frozenset({"send"}), latency_s=latency_s
        )

    def send(self, *, idempotency_key: str, mobile: str, template: str, body: str) -> SmsReceipt:
        with self.link.call("send"):
            first = self._find(idempotency_key)
            if first is not None:
                return first
            _check(idempotency_key, mobile, template, body)
            now = utcnow()
            row = SmsMessage(
                idempotency_key=idempotency_key, mobile=mobile, template=template, body=body,
                status="delivered", created_at=now, delivered_at=now,
            )
            try:
                with session_scope(self._engine) as session:
                    session.add(row)
            except IntegrityError:
                # Another caller sent under the same key between our look-up and insert: theirs is the first.
                first = self._find(idempotency_key)
                if first is None:
                    raise
                return first
            return _receipt(row)

    def outbox(self, limit: int = 50, offset: int = 0, mobile: str | None = None) -> list[SmsMessage]:
        """Newest first, for the simulator's read view (and for tests that read the OTP)."""
        with Session(self._engine) as session:
            query = select(SmsMessage)
            if mobile is not None:
                query = query.where(SmsMessage.mobile == mobile)
            return list(session.exec(query.order_by(SmsMessage.id.desc()).offset(offset).limit(limit)).all())

    def inject_fault(self, *, operation: str = "send", kind: str, times: int = 1) -> None:
        self.link.inject_fault(operation=operation, kind=kind, times=times)

    def clear_faults(self) -> None:
        self.link.clear_faults()

    def _find(self, idempotency_key: str) -> SmsReceipt | None:
        with Session(self._engine) as session:
            row = session.exec(select(SmsMessage).where(SmsMessage.idempotency_key == idempotency_key)).first()
            return None if row is None else _receipt(row)


def _check(idempotency_key: str, mobile: str, template: str, body: str) -> None:
    # Checked here rather than left to the column sizes: a database error would quote the number.
    # Messages name no number either: the caller knows which one it passed.
    if not 0 < len(idempotency_key) <= 128 or not 0 < len(template) <= 64:
        raise Refused("INVALID_REQUEST", "请求参数长度不正确")
    if not MOBILE.match(mobile):
        raise Refused("INVALID_MOBILE", "手机号码格式不正确")
    if not body.strip():
        raise Refused("EMPTY_BODY", "短信内容为空")
    if len(body) > MAX_BODY_CHARS:
        raise Refused("BODY_TOO_LONG", f"短信内容超过{MAX_BODY_CHARS}字")
    if not SIGNATURE.search(body.strip()):
        raise Refused("MISSING_SIGNATURE", "短信缺少签名")


def _receipt(row: SmsMessage) -> SmsReceipt:
    assert row.id is not None
    return SmsReceipt(message_id=row.id, idempotency_key=row.idempotency_key, status=row.status,
                      accepted_at=row.created_at)
