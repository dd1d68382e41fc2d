"""The FastAPI app: `create_app()` (uvicorn --factory) wires settings, the engine, Temporal and simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from adapters.ca.simulator import CaSimulator
from adapters.core_banking.simulator import CoreBankingSimulator
from adapters.imaging.simulator import ImagingSimulator
from adapters.sms.simulator import SmsSimulator
from api import errors
from api.routes import ROUTERS
from api.runtime import Runtime
from config.settings import Settings, get_settings
from db.engine import make_engine
from services.gateway import TemporalGateway
from services.otp import RESEND_AFTER
from services.temporal_client import connect_or_defer
from services.throttle import Throttle

DESCRIPTION = """农e贷 (Nong e-Dai) mobile micro-loans. Every loan is a Temporal workflow; this API starts and
steers them. Errors are `application/problem+json` with `code`, `zh`, `en`, `field` and `errors`.
Amounts are decimal strings in yuan (`"50000.00"`). POSTs that start work accept an `Idempotency-Key`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        client = await connect_or_defer(settings)
        sms = SmsSimulator(engine)
        app.state.runtime = Runtime(
            settings=settings, engine=engine, workflows=TemporalGateway(client, task_queue=settings.task_queue),
            sms=sms, outbox=sms, imaging=ImagingSimulator(engine), ca=CaSimulator(engine, crl_url=settings.crl_url), ledger=CoreBankingSimulator(engine),
            otp_throttle=Throttle(RESEND_AFTER))
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(title="农e贷 Nong e-Dai API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/v1/openapi.json", docs_url="/docs", redoc_url=None)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


