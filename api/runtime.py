"""What the API process holds for its lifetime, built by the lifespan in api/main.py (wiring point)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from adapters.ca.port import SignatureAuthority
from adapters.imaging.port import ImageStore
from adapters.sms.port import SmsGateway
from config.settings import Settings
from services.gateway import WorkflowGateway
from services.ops import Ledger, Outbox
from services.throttle import Throttle


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    workflows: WorkflowGateway
    sms: SmsGateway
    outbox: Outbox
    imaging: ImageStore
    ca: SignatureAuthority
    ledger: Ledger
    otp_throttle: Throttle
