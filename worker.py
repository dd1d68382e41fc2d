"""Wiring point #1: settings -> engine -> adapters -> activity objects -> Temporal worker.

`python worker.py` (or `nongedai worker`) runs one worker until SIGINT/SIGTERM. Run as many as you
like against the same task queue: Temporal spreads the work; they share nothing but the database.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.applications import ApplicationActivities
from activities.contracts import ContractActivities
from activities.disbursement import DisbursementActivities
from activities.eod import EodActivities
from activities.lines import CreditLineActivities
from activities.notifications import NotificationActivities
from activities.rating_batch import RatingBatchActivities
from activities.servicing import ServicingActivities
from activities.signing import SigningActivities
from activities.whitelist import WhitelistActivities
from adapters.ca.port import SignatureAuthority
from adapters.ca.simulator import CaSimulator
from adapters.core_banking.port import CoreBanking
from adapters.core_banking.simulator import CoreBankingSimulator
from adapters.imaging.port import ImageStore
from adapters.imaging.simulator import ImagingSimulator
from adapters.rating.port import RatingService
from adapters.rating.simulator import RatingSimulator
from adapters.sms.port import SmsGateway
from adapters.sms.simulator import SmsSimulator
from config.settings import Settings, get_settings
from db.engine import make_engine
from documents.renderer import DocumentRenderer, InProcessRenderer, renderer_for
from services.schedules import ensure_schedules
from workflows.credit_line import CreditLineWorkflow
from workflows.drawdown import DrawdownWorkflow
from workflows.end_of_day import EndOfDayWorkflow, NoticeDeliveryWorkflow
from workflows.guarantor_consent import GuarantorConsentWorkflow
from workflows.loan_application import LoanApplicationWorkflow
from workflows.quarterly_rating import QuarterlyRatingWorkflow
from workflows.repayment import RepaymentReversalWorkflow, RepaymentWorkflow
from workflows.whitelist_campaign import WhitelistCampaignWorkflow
from workflows.whitelist_offer import WhitelistOfferWorkflow

WORKFLOWS = [LoanApplicationWorkflow, GuarantorConsentWorkflow, CreditLineWorkflow, DrawdownWorkflow, RepaymentWorkflow,
             RepaymentReversalWorkflow, EndOfDayWorkflow, NoticeDeliveryWorkflow, WhitelistCampaignWorkflow,
             WhitelistOfferWorkflow, QuarterlyRatingWorkflow]
log = logging.getLogger("nongedai.worker")


@dataclass(frozen=True)
class Adapters:
    sms: SmsGateway
    core_banking: CoreBanking
    imaging: ImageStore
    ca: SignatureAuthority
    rating: RatingService
    renderer: DocumentRenderer = field(default_factory=InProcessRenderer)


def simulators(engine: Engine, settings: Settings) -> Adapters:
    return Adapters(sms=SmsSimulator(engine), imaging=ImagingSimulator(engine), ca=CaSimulator(engine, crl_url=settings.crl_url),
                    core_banking=CoreBankingSimulator(engine, latency_s=settings.core_banking_latency_s,
                                                      answer_delay_s=settings.core_banking_answer_delay_s),
                    rating=RatingSimulator(engine, latency_s=settings.rating_latency_s), renderer=renderer_for(settings.render_processes))


def activities_for(engine: Engine, adapters: Adapters, settings: Settings) -> list[Any]:
    """Every activity method, bound to its object."""
    objects = [
        ApplicationActivities(engine, adapters.rating, adapters.sms, settings.jwt_secret),
        NotificationActivities(engine, adapters.sms),
        ContractActivities(engine, adapters.imaging, adapters.core_banking, adapters.renderer,
                           settings.public_base_url),
        SigningActivities(engine, adapters.ca, adapters.imaging),
        CreditLineActivities(engine, adapters.core_banking),
        DisbursementActivities(engine, adapters.core_banking),
        ServicingActivities(engine, adapters.core_banking),
        EodActivities(engine, adapters.sms, chunk_size=settings.eod_chunk_size,
                      parallel_chunks=settings.eod_parallel_chunks, reminder_days=settings.reminder_days_before_due,
                      freeze_dpd=settings.freeze_line_at_dpd),
        WhitelistActivities(engine, adapters.rating),
        RatingBatchActivities(engine, chunk_size=settings.rating_batch_chunk_size,
                              parallel_chunks=settings.rating_batch_parallel_chunks,
                              lease=settings.rating_run_lease),
    ]
    return [getattr(obj, name) for obj in objects for name in dir(obj)
            if hasattr(getattr(obj, name), "__temporal_activity_definition")]


def make_worker(client: Client, task_queue: str, activities: Sequence[Any], *, threads: int,
                **options: Any) -> Worker:
    # Activities are synchronous (SQLAlchemy, weasyprint): they run on this pool, sized to the slots.
    return Worker(client, task_queue=task_queue, workflows=WORKFLOWS, activities=list(activities),
                  activity_executor=ThreadPoolExecutor(threads), max_concurrent_activities=threads, **options)


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                data_converter=pydantic_data_converter)


async def run(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    client = await connect(settings)
    adapters = simulators(engine, settings)
    await ensure_schedules(client, settings)
    worker = make_worker(client, settings.task_queue, activities_for(engine, adapters, settings),
                         threads=settings.activity_threads)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling task queue %s at %s", settings.task_queue, settings.temporal_address)
    async with worker:
        await stop.wait()
        log.info("worker stopping: finishing running activities")
    adapters.renderer.close()
    engine.dispose()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(get_settings()))


if __name__ == "__main__":
    main()
