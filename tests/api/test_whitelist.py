"""Whitelist campaigns over HTTP: upload (CSV in GBK, XLSX), the per-row report, once per file, dry runs,
refusals with field and reason; then a campaign on a real worker: the customer accepts from the phone,
staff read progress and the funnel and cancel."""

from __future__ import annotations

import asyncio
import io

from openpyxl import Workbook
from sqlmodel import Session, select

from db.models import LoanApplication, WhitelistCampaign, WhitelistRow
from services.gateway import TemporalGateway, TemporalUnavailable
from tests.api import data
from tests.api.asserts import assert_problem
from tests.workflows.support import running_worker, until
from workflows import names
from workflows.messages import WhitelistCampaignInput

HEADER = ["身份证号", "姓名", "手机号", "预授信额度", "产品", "客户经理", "机构", "年收入", "总资产", "总负债"]


def _csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode(encoding)


def _good(staff, **over: str) -> list[str]:
    row = {"rid": data.resident_id(), "name": "黄大山", "mobile": data.mobile(), "limit": "50000",
           "product": "NONG_E_DAI", "manager": staff.username, "branch": data.BRANCH_A, "income": "120000",
           "assets": "600000", "liabilities": "20000", **over}
    return list(row.values())


def _upload(client, headers, content: bytes, name: str = "wl.csv", **params):
    return client.post("/v1/whitelist-campaigns", headers=headers, params=params,
                       files={"file": (name, content, "application/octet-stream")})


def test_upload_reports_every_row_stores_once_and_starts_once(client, engine, api_settings, workflows):
    manager = data.add_staff(engine, "customer_manager")
    other_branch = data.add_staff(engine, "customer_manager", branch=data.BRANCH_B)
    headers = data.staff_headers(api_settings, manager)
    rid = data.resident_id()
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in rid[:-1]) + rid[-1].lower()
    rows = [_good(manager, rid=f"{fullwidth[:6]} {fullwidth[6:]}"),
            _good(manager, rid="3.50102E+17"),
            _good(manager, rid=rid),  # the same person again
            _good(manager, branch=data.BRANCH_B, manager=other_branch.username),
            _good(manager, limit="500", mobile="12345")]
    content = _csv(rows, "gbk")

    dry = _upload(client, headers, content, dry_run="true")
    assert dry.status_code == 200 and dry.json()["dry_run"] and not workflows.starts

    response = _upload(client, headers, content)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["format"], body["encoding"], body["rows_total"], body["rows_valid"], body["rows_refused"]) == (
        "csv", "gbk", 5, 1, 4)
    report = {r["row_no"]: r for r in body["report"]}
    assert report[2]["ok"] and "resident_id" in report[2]["normalised"]
    assert [(p["field"], p["code"]) for p in report[3]["problems"]] == [("resident_id", "ID_SCIENTIFIC_NOTATION")]
    assert "3.50102E+17" in report[3]["problems"][0]["en"] and report[3]["problems"][0]["zh"]
    assert [(p["field"], p["code"]) for p in report[4]["problems"]] == [("resident_id", "DUPLICATE_IN_FILE")]
    assert [(p["field"], p["code"]) for p in report[5]["problems"]] == [("branch", "BRANCH_OUT_OF_SCOPE")]
    assert {(p["field"], p["code"]) for p in report[6]["problems"]} == {("limit", "LIMIT_OUT_OF_RANGE"),
                                                                         ("mobile", "MOBILE_FORMAT")}
    [start] = workflows.starts
    assert (start.name, start.workflow_id) == (names.WHITELIST_CAMPAIGN, body["workflow_id"])
    payload = start.arg.model_dump_json()
    assert rid not in payload and rid.upper() not in payload and "黄大山" not in payload
    assert isinstance(start.arg, WhitelistCampaignInput) and start.arg.rows_total == 1

    again = _upload(client, headers, content, name="renamed.csv")
    assert again.status_code == 200 and again.json()["duplicate"]
    assert again.json()["campaign_no"] == body["campaign_no"] and len(workflows.starts) == 1
    with Session(engine) as s:
        campaign = s.exec(select(WhitelistCampaign).where(WhitelistCampaign.campaign_no == body["campaign_no"])).one()
        [row] = s.exec(select(WhitelistRow).where(WhitelistRow.campaign_id == campaign.id)).all()
        assert (row.resident_id, row.offer_no, row.status) == (rid.upper(), f"{campaign.campaign_no}-{row.id}",
                                                               "pending")
        assert campaign.status == "running"

    # Uploading a second file with the same person while the first invitation is open: refused.
    second = _upload(client, headers, _csv([_good(manager, rid=rid)]))
    assert second.json()["report"][0]["problems"][0]["code"] == "ALREADY_INVITED"


def test_a_campaign_whose_start_failed_starts_when_the_same_file_comes_again(client, engine, api_settings,
                                                                             workflows):
    manager = data.add_staff(engine, "customer_manager")
    headers = data.staff_headers(api_settings, manager)
    content = _csv([_good(manager)])
    workflows.start_error = TemporalUnavailable("down")
    failed = assert_problem(_upload(client, headers, content), 503, "WORKFLOW_START_FAILED")
    workflows.start_error = None
    again = _upload(client, headers, content)
    assert again.status_code == 200 and again.json()["duplicate"], again.text
    assert again.json()["campaign_no"] == failed["campaign_no"] and again.json()["status"] == "running"
    assert [c.workflow_id for c in workflows.starts] == [again.json()["workflow_id"]] * 2
    third = _upload(client, headers, content)
    assert third.json()["duplicate"] and len(workflows.starts) == 2


def test_xlsx_upload_and_files_refused_whole(client, engine, api_settings, workflows):
    manager = data.add_staff(engine, "customer_manager")
    headers = data.staff_headers(api_settings, manager)
    book = Workbook()
    book.active.append(HEADER)
    book.active.append([3.50102198501011e17, "黄大山", 13900000001, 50000, "NONG_E_DAI", manager.username,
                        data.BRANCH_A, None, None, None])
    good = _good(manager)
    book.active.append([good[0], *good[1:3], 30000, *good[4:]])
    buf = io.BytesIO()
    book.save(buf)
    body = _upload(client, headers, buf.getvalue(), name="wl.xlsx").json()
    assert (body["format"], body["rows_valid"]) == ("xlsx", 1)
    assert body["report"][0]["problems"][0]["code"] == "ID_SCIENTIFIC_NOTATION"

    problem = assert_problem(_upload(client, headers, "身份证号,姓名\n1,2\n".encode()), 422, "HEADER_MISSING", "mobile")
    assert {e["field"] for e in problem["errors"]} == {"mobile", "limit", "product", "manager", "branch"}
    assert_problem(_upload(client, headers, b""), 422, "FILE_EMPTY", "file")
    approver = data.add_staff(engine, "approver")
    assert_problem(_upload(client, data.staff_headers(api_settings, approver), _csv([good])), 403, "ROLE_FORBIDDEN")


async def _get(client, url: str, **kw):
    # The worker runs on this test's event loop: HTTP calls go through a thread so the loop keeps running.
    return await asyncio.to_thread(client.get, url, **kw)


async def _post(client, url: str, **kw):
    return await asyncio.to_thread(client.post, url, **kw)


async def test_a_customer_accepts_an_invitation_from_the_phone(client, engine, api_settings, settings, dev_env):
    manager = data.add_staff(engine, "customer_manager")
    admin = data.add_staff(engine, "admin")
    customer = data.add_customer(engine, name="郑大海")
    with Session(engine) as s:
        on_file = s.get(type(customer), customer.id)
        on_file.annual_income, on_file.total_assets = 120000, 600000
        s.add(on_file)
        s.commit()
        mobile = on_file.mobile
    staff = data.staff_headers(api_settings, manager)
    me = data.customer_headers(api_settings, customer)
    content = _csv([_good(manager, rid=customer.resident_id, name="郑大海", mobile=mobile, income="", assets="",
                          liabilities=""), _good(manager)])
    async with running_worker(dev_env.client, engine, settings) as (queue, _):
        client.app.state.runtime.workflows = TemporalGateway(dev_env.client, task_queue=queue)
        body = (await asyncio.to_thread(_upload, client, staff, content)).json()
        campaign_no = body["campaign_no"]

        async def invited():
            offers = (await _get(client, "/v1/whitelist-offers/mine", headers=me)).json()
            return offers if offers and offers[0]["status"] == "invited" else None
        [offer] = await until(invited, timeout=60)
        assert offer["offer_limit"] == "50000.00"

        refused = await _post(client, f"/v1/whitelist-offers/{offer['offer_no']}/accept", headers=data.key(**me),
                              json={"amount": "50000.01", "term_months": 12, "purpose": "planting"})
        assert_problem(refused, 422, "AMOUNT_INVALID")
        other = data.add_customer(engine)
        assert_problem(await _post(client, f"/v1/whitelist-offers/{offer['offer_no']}/accept",
                                   headers=data.key(**data.customer_headers(api_settings, other)),
                                   json={"amount": "1000", "term_months": 12, "purpose": "planting"}),
                       404, "OFFER_NOT_FOUND")
        accepted = await _post(client, f"/v1/whitelist-offers/{offer['offer_no']}/accept", headers=data.key(**me),
                               json={"amount": "40000", "term_months": 12, "purpose": "planting"})
        assert accepted.status_code == 200, accepted.text
        app_no = accepted.json()["state"]["app_no"]
        assert accepted.json()["state"]["stage"] == "accepted" and app_no

        view = (await _get(client, f"/v1/whitelist-campaigns/{campaign_no}", headers=staff)).json()
        assert view["progress"]["counts"]["accepted"] == 1 and view["rows_by_status"]["accepted"] == 1
        funnel = (await _get(client, f"/v1/whitelist-campaigns/{campaign_no}/funnel", headers=staff)).json()
        assert funnel["total"]["rows"] == 2 and funnel["total"]["accepted"] == 1
        assert funnel["lines"][0]["manager"] == manager.username

        cancelled = await _post(client, f"/v1/whitelist-campaigns/{campaign_no}/actions",
                                headers=data.key(**data.staff_headers(api_settings, admin)), json={"action": "cancel"})
        assert cancelled.status_code == 200, cancelled.text

        async def ended():
            v = (await _get(client, f"/v1/whitelist-campaigns/{campaign_no}", headers=staff)).json()
            return v if v["status"] == "cancelled" else None
        final = await until(ended, timeout=60)
        assert final["rows_by_status"] == {"accepted": 1, "cancelled": 1}
        again = await _post(client, f"/v1/whitelist-campaigns/{campaign_no}/actions", headers=data.key(**staff),
                            json={"action": "pause"})
        assert again.status_code in (409,), again.text
    with Session(engine) as s:
        app = s.exec(select(LoanApplication).where(LoanApplication.app_no == app_no)).one()
        assert (app.channel, app.customer_id) == ("whitelist", customer.id)
