"""Whitelist campaigns on the dev server: a sliding window of offer children across continue-as-new,
refusals by the rating, acceptance as an Update that opens a whitelist-channel loan, decline, expiry,
pause/resume/cancel, the progress query and the funnel through signature and drawdown."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError

from activities.whitelist import WhitelistActivities
from db.models import LoanApplication, RatingRecord, WhitelistCampaign, WhitelistRow
from services import whitelist as service
from services.gateway import TemporalGateway
from services.principal import Principal
from tests import factories
from tests.workflows import histories
from tests.workflows.support import running_worker, sign_note, until, until_stage
from workflows import names
from workflows.messages import (
    AcceptOfferInput,
    CampaignActionInput,
    CampaignProgress,
    DeclineOfferInput,
    DrawdownAccepted,
    DrawdownRequest,
    OfferState,
    RowStatusUpdate,
    SignInput,
    WhitelistCampaignInput,
)

HEADER = "身份证号,姓名,手机号,预授信额度,产品,客户经理,机构,年收入,总资产,总负债\n"
_mobile = iter(range(1, 10_000))


def _line(rid: str, *, limit: str = "50000", income: str = "120000", assets: str = "600000", liabilities: str = "20000",
          manager: str, name: str = "黄大山") -> str:
    return f"{rid},{name},1370{next(_mobile) + 5000:07d},{limit},NONG_E_DAI,{manager},{factories.BRANCH},{income},{assets},{liabilities}\n"


def _store(engine, settings, admin: Principal, body: str):
    with Session(engine) as session:
        campaign, view = service._validate_and_store(
            session, settings, admin, data=(HEADER + body).encode(), filename="wl.csv", now=datetime.now(UTC),
            dry_run=False, progress=None)
        assert campaign is not None, view
        start = service._start_input(session, settings, campaign)
        return campaign, view, start


async def _offer(client, campaign_no: str, row_id: int, *stages: str) -> OfferState:
    handle = client.get_workflow_handle(names.whitelist_offer_workflow_id(f"{campaign_no}-{row_id}"))

    async def check():
        state = OfferState.model_validate(await handle.query(names.QUERY_STATE))
        return state if state.stage in stages else None
    return await until(check, timeout=60)


async def test_a_campaign_invites_refuses_accepts_declines_and_reports_its_funnel(dev_env, engine, settings):
    factories.ensure_reference_data(engine)
    manager = factories.staff(engine, "customer_manager")
    admin_row = factories.staff(engine, "admin")
    admin = Principal("staff", admin_row.id, "admin", factories.BRANCH)
    on_file = factories.customer(engine, name="陈阿土")
    blacklisted = factories.customer(engine, blacklisted=True, name="吴阿大")
    with Session(engine) as s:
        mob_on_file = s.get(type(on_file), on_file.id).mobile
        mob_black = s.get(type(blacklisted), blacklisted.id).mobile
    body = (
        # 1: a customer on file, pre-approved above the computed limit (170,000 capped at 200,000 -> stays)
        f"{on_file.resident_id},陈阿土,{mob_on_file},80000,NONG_E_DAI,{manager.username},{factories.BRANCH},,,\n"
        # 2: a new household with good figures: the pre-approved 150,000 is capped by the computed limit
        + _line(factories.resident_id(), limit="150000", income="60000", assets="100000", liabilities="0",
                manager=manager.username)
        # 3: a new household with no figures: grade C, refused
        + f"{factories.resident_id()},刘小二,13755500003,30000,NONG_E_DAI,{manager.username},{factories.BRANCH},,,\n"
        # 4: blacklisted on file
        + f"{blacklisted.resident_id},吴阿大,{mob_black},30000,NONG_E_DAI,{manager.username},{factories.BRANCH},,,\n"
        # 5, 6: new households that will decline and stay silent
        + _line(factories.resident_id(), manager=manager.username)
        + _line(factories.resident_id(), manager=manager.username)
        # 7: refused at upload (bad ID): never becomes a row
        + f"3.50102E+17,王五,13755500007,30000,NONG_E_DAI,{manager.username},{factories.BRANCH},,,\n")
    wl_settings = settings.model_copy(update={"whitelist_window": 2})
    campaign, view, start = _store(engine, wl_settings, admin, body)
    assert (view.rows_total, view.rows_valid, view.rows_refused) == (7, 6, 1)
    assert view.report[-1].problems[0].code == "ID_SCIENTIFIC_NOTATION"
    # A tiny history budget: the campaign continues as new while its rows are in flight.
    start = start.model_copy(update={"history_limit": 40, "offer_seconds": 120})
    client = dev_env.client
    async with running_worker(client, engine, wl_settings) as (queue, _):
        gateway = TemporalGateway(client, task_queue=queue)
        handle = await client.start_workflow(names.WHITELIST_CAMPAIGN, start, id=campaign.workflow_id,
                                             task_queue=queue)

        async def progress() -> CampaignProgress:
            return await handle.query(names.QUERY_PROGRESS, result_type=CampaignProgress)

        await until(lambda: _settled(progress), timeout=90)
        p = await progress()
        assert p.counts.started == 6 and p.counts.invited == 4
        assert p.counts.failed == {"GRADE_TOO_LOW": 1, "PREFILTER_BLACKLIST": 1}
        assert p.in_window == 0 and p.waiting_for_customers == 4 and p.runs > 1  # continued as new

        with Session(engine) as s:
            rows = s.exec(select(WhitelistRow).where(WhitelistRow.campaign_id == campaign.id)
                          .order_by(WhitelistRow.row_no)).all()
        first, capped, _, _, declining, silent = rows
        assert (first.customer_id, first.offer_limit) == (on_file.id, Decimal("80000.00"))
        # (100,000 x 0.3 + 60,000) x grade factor: the computed limit is below the pre-approved 150,000.
        assert capped.offer_limit < Decimal("150000") and capped.customer_id is not None
        assert [r.status for r in rows] == ["invited", "invited", "refused", "refused", "invited", "invited"]
        assert rows[2].reason_code == "GRADE_TOO_LOW" and rows[3].reason_code == "PREFILTER_BLACKLIST"

        # Acceptance: the validator refuses another customer and an amount above the offer.
        offer = await _offer(client, campaign.campaign_no, first.id, "invited")
        offer_handle = client.get_workflow_handle(names.whitelist_offer_workflow_id(first.offer_no))
        for wrong in (AcceptOfferInput(customer_id=blacklisted.id, amount=Decimal("1000"), term_months=12,
                                       repayment_method="equal_installment", purpose="planting"),
                      AcceptOfferInput(customer_id=on_file.id, amount=Decimal("80000.01"), term_months=12,
                                       repayment_method="equal_installment", purpose="planting")):
            try:
                await offer_handle.execute_update(names.UPDATE_ACCEPT_OFFER, wrong)
                raise AssertionError("accepted")
            except WorkflowUpdateFailedError as err:
                assert err.cause.type in ("NotAuthorised", "AmountInvalid")
        accepted = await offer_handle.execute_update(
            names.UPDATE_ACCEPT_OFFER, AcceptOfferInput(customer_id=offer.customer_id, amount=Decimal("60000"),
                                                        term_months=12, repayment_method="equal_installment",
                                                        purpose="planting"), result_type=OfferState)
        assert accepted.stage == "accepted" and accepted.app_no
        # The answer returns once the campaign has been told: its progress read at once counts it.
        assert (await progress()).counts.accepted == 1
        assert OfferState.model_validate(await offer_handle.result()).app_no == accepted.app_no
        await histories.record(client, "whitelist_offer_answered", offer_handle.id)
        declined_handle = client.get_workflow_handle(names.whitelist_offer_workflow_id(declining.offer_no))
        declined = await declined_handle.execute_update(
            names.UPDATE_DECLINE_OFFER, DeclineOfferInput(customer_id=declining.customer_id), result_type=OfferState)
        assert declined.stage == "declined"
        assert (await progress()).counts.declined == 1
        await declined_handle.result()
        await histories.record(client, "whitelist_offer_declined", declined_handle.id)

        # The loan runs on the whitelist channel, approved by the rules, and is signed and drawn.
        loan = client.get_workflow_handle(names.application_workflow_id(accepted.app_no))
        state = await until_stage(loan, "awaiting_signatures", timeout=60)
        await loan.execute_update(names.UPDATE_SIGN, SignInput(document_id=state["documents"][0]["document_id"],
                                                               signer_customer_id=on_file.id, otp_ref="otp-test"))
        result = await loan.result()
        line = client.get_workflow_handle(names.credit_line_workflow_id(result["line_no"]))
        await until(lambda: line.query(names.QUERY_STATE))
        drawn: DrawdownAccepted = await line.execute_update(
            names.UPDATE_REQUEST_DRAWDOWN, DrawdownRequest(amount=Decimal("10000"), term_months=12,
                                                           repayment_method="equal_installment",
                                                           requested_by="customer"), result_type=DrawdownAccepted)
        await sign_note(client, drawn)
        assert (await client.get_workflow_handle(drawn.workflow_id).result())["status"] == "disbursed"

        # Pause, resume; then cancel: the silent invitation is cancelled and the campaign ends.
        await gateway.update(campaign.workflow_id, names.UPDATE_CAMPAIGN_ACTION,
                             CampaignActionInput(staff_id=admin.id, action="pause"), result_type=CampaignProgress)
        assert (await progress()).status == "paused"
        try:
            await handle.execute_update(names.UPDATE_CAMPAIGN_ACTION, CampaignActionInput(staff_id=1, action="pause"))
            raise AssertionError("paused twice")
        except WorkflowUpdateFailedError as err:
            assert err.cause.type == "InvalidState"
        await handle.execute_update(names.UPDATE_CAMPAIGN_ACTION, CampaignActionInput(staff_id=1, action="resume"))
        await handle.execute_update(names.UPDATE_CAMPAIGN_ACTION, CampaignActionInput(staff_id=1, action="cancel"))
        final = CampaignProgress.model_validate(await handle.result())
        assert final.status == "cancelled"
        assert (final.counts.accepted, final.counts.declined, final.counts.cancelled) == (1, 1, 2)
        await _offer(client, campaign.campaign_no, silent.id, "cancelled")

    with Session(engine) as s:
        app = s.exec(select(LoanApplication).where(LoanApplication.app_no == accepted.app_no)).one()
        assert (app.channel, app.status, app.customer_id, app.amount) == ("whitelist", "active", on_file.id,
                                                                         Decimal("60000.00"))
        assert s.get(WhitelistCampaign, campaign.id).status == "cancelled"
        statuses = {r.row_no: r.status for r in s.exec(select(WhitelistRow).where(
            WhitelistRow.campaign_id == campaign.id))}
        assert statuses == {2: "accepted", 3: "cancelled", 4: "refused", 5: "refused", 6: "declined", 7: "cancelled"}
        assert s.exec(select(RatingRecord).where(RatingRecord.customer_id == on_file.id)).first() is not None
        funnel = service.funnel(s, admin, campaign.campaign_no)
    assert [(line.manager, line.rows, line.invited, line.accepted, line.signed, line.drawn) for line in funnel.lines] \
        == [(manager.username, 6, 4, 1, 1, 1)]


async def _settled(progress) -> bool:
    p = await progress()
    return p.counts.started == 6 and p.in_window == 0


def _one_row_campaign(engine, settings) -> tuple[Principal, WhitelistCampaign, WhitelistCampaignInput]:
    """A campaign of one new household, uploaded by an admin: (admin, campaign, its start input)."""
    factories.ensure_reference_data(engine)
    manager = factories.staff(engine, "customer_manager")
    admin_row = factories.staff(engine, "admin")
    admin = Principal("staff", admin_row.id, "admin", factories.BRANCH)
    campaign, _, start = _store(engine, settings, admin, _line(factories.resident_id(), manager=manager.username))
    return admin, campaign, start


async def test_an_invitation_nobody_answers_expires(dev_env, engine, settings):
    _, campaign, start = _one_row_campaign(engine, settings)
    start = start.model_copy(update={"offer_seconds": 2})
    async with running_worker(dev_env.client, engine, settings) as (queue, _):
        handle = await dev_env.client.start_workflow(names.WHITELIST_CAMPAIGN, start, id=campaign.workflow_id,
                                                     task_queue=queue)
        final = CampaignProgress.model_validate(await handle.result())
    assert final.status == "completed" and final.counts.invited == 1 and final.counts.expired == 1
    with Session(engine) as s:
        row = s.exec(select(WhitelistRow).where(WhitelistRow.campaign_id == campaign.id)).one()
        assert (row.status, row.reason_code) == ("expired", "OFFER_EXPIRED") and row.invited_at is not None
        assert s.get(WhitelistCampaign, campaign.id).status == "completed"


async def test_a_decline_still_being_recorded_when_the_campaign_is_cancelled_ends_declined(dev_env, engine, settings):
    # The cancellation reaches the offer while its record_row activity runs: it arrives as an
    # ActivityError, and the offer must still end its row, tell the campaign and answer the customer.
    admin, campaign, start = _one_row_campaign(engine, settings)
    real = WhitelistActivities(engine, rating=None)
    held, release = threading.Event(), threading.Event()

    @activity.defn(name="record_row")
    def record_row(update: RowStatusUpdate) -> None:
        if update.status == "declined" and not held.is_set():
            held.set()
            release.wait(30)  # until the campaign's cancellation has come and gone
        real.record_row(update)

    client = dev_env.client
    try:
        async with running_worker(client, engine, settings, replace={"record_row": record_row}) as (queue, _):
            handle = await client.start_workflow(names.WHITELIST_CAMPAIGN, start, id=campaign.workflow_id,
                                                 task_queue=queue)
            with Session(engine) as s:
                row = s.exec(select(WhitelistRow).where(WhitelistRow.campaign_id == campaign.id)).one()
            offer = await _offer(client, campaign.campaign_no, row.id, "invited")
            offer_handle = client.get_workflow_handle(names.whitelist_offer_workflow_id(offer.offer_no))
            answer = asyncio.create_task(offer_handle.execute_update(
                names.UPDATE_DECLINE_OFFER, DeclineOfferInput(customer_id=offer.customer_id), result_type=OfferState))
            await until(held.is_set)
            await handle.execute_update(names.UPDATE_CAMPAIGN_ACTION,
                                        CampaignActionInput(staff_id=admin.id, action="cancel"))
            declined = await asyncio.wait_for(answer, timeout=60)
            release.set()
            final = CampaignProgress.model_validate(await asyncio.wait_for(handle.result(), timeout=60))
            await histories.record(client, "whitelist_offer_declined_cancelled", offer_handle.id)
    finally:
        release.set()
    assert declined.stage == "declined"
    assert final.status == "cancelled" and (final.counts.declined, final.counts.cancelled) == (1, 0)
    with Session(engine) as s:
        row = s.get(WhitelistRow, row.id)
        assert (row.status, row.reason_code) == ("declined", "CUSTOMER_DECLINED")
