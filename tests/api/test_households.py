"""Household archives over HTTP: create, edit with optimistic locking, submit, images, search, history, scope."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from adapters.imaging.tables import ImgObject
from db.models import Customer, Household
from domain.identity import resident_id_for
from tests.api import archives, data
from tests.api.asserts import assert_problem

_img = itertools.count(1000)


@pytest.fixture(autouse=True)
def reference(engine):
    archives.ensure_reference(engine)


def _staff(engine, api_settings, role: str = "customer_manager", branch: str = data.BRANCH_A):
    user = data.add_staff(engine, role, branch=branch)
    return user, data.staff_headers(api_settings, user)


@pytest.fixture
def manager(engine, api_settings):
    return _staff(engine, api_settings)


def _create(client, headers, body=None, status=201):
    r = client.post("/v1/households", json=body or {**archives.form(), "head": archives.person()}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def _upload(client, headers, household_id: int, kind: str, content: bytes | None = None):
    content = content if content is not None else archives.png(next(_img))
    return client.post(f"/v1/households/{household_id}/images", headers=headers, data={"kind": kind},
                       files={"file": ("photo.png", content, "image/png")})


def test_create_registers_the_head_and_derives_the_totals_from_the_items(client, engine, manager):
    user, headers = manager
    head = archives.person("黄秀兰")
    view = _create(client, headers, {**archives.form(village_code=archives.VILLAGE_A_CREDIT), "head": head})
    assert (view["status"], view["version"], view["manager_staff_id"]) == ("draft", 1, user.id)
    assert view["head"]["resident_id"] == head["resident_id"] and view["head"]["customer_no"].startswith("CIF")
    assert view["branch_code"] == data.BRANCH_A and view["village_name"] == "甲二村"
    assert view["policy_tags"] == ["credit_village"]
    # Aggregates are the items' sums, never typed separately.
    assert Decimal(view["acreage_mu"]) == Decimal("11.75") and view["livestock_heads"] == 12
    assert Decimal(view["annual_income"]) == Decimal("100000.00")
    assert Decimal(view["annual_expenses"]) == Decimal("43000.00")
    assert Decimal(view["total_assets"]) == Decimal("345000.50")
    assert Decimal(view["total_liabilities"]) == Decimal("20000.00")
    assert [p["unit"] for p in view["production"]] == ["亩", "亩", "头"]
    assert view["members"][1]["birth_date"] == "2015-03-02"
    missing = {m["field"] for m in view["completeness"]["missing"]}
    assert missing == {"images.id_front", "images.id_back", "images.house"}
    assert view["completeness"]["score"] == 75
    with Session(engine) as s:
        row = s.get(Household, view["id"])
        assert (row.acreage_mu, row.total_assets) == (Decimal("11.75"), Decimal("345000.50"))
        assert s.exec(select(Customer).where(Customer.resident_id == head["resident_id"])).one().id == row.customer_id


def test_an_existing_customer_heads_one_archive_only(client, engine, manager):
    _, headers = manager
    customer = data.add_customer(engine)
    view = _create(client, headers, {**archives.form(), "customer_id": customer.id})
    assert view["head"]["customer_id"] == customer.id
    r = client.post("/v1/households", json={**archives.form(), "customer_id": customer.id}, headers=headers)
    body = assert_problem(r, 409, "HOUSEHOLD_EXISTS")
    assert body["household_id"] == view["id"]
    r = client.post("/v1/households", json=archives.form(), headers=headers)
    assert_problem(r, 422, "HEAD_REQUIRED", "head")
    elsewhere = data.add_customer(engine, branch=data.BRANCH_B)
    r = client.post("/v1/households", json={**archives.form(), "customer_id": elsewhere.id}, headers=headers)
    assert_problem(r, 422, "CUSTOMER_UNKNOWN", "customer_id")  # outside the manager's branch: as if absent
    with Session(engine) as s:
        known = s.get(Customer, elsewhere.id)
    person = {"name": known.name, "resident_id": known.resident_id, "mobile": known.mobile, "address": ""}
    r = client.post("/v1/households", json={**archives.form(), "head": person}, headers=headers)
    assert_problem(r, 422, "CUSTOMER_OTHER_BRANCH", "head.resident_id")


def _errors(r) -> dict[str, str]:
    body = assert_problem(r, 422, "VALIDATION_FAILED")
    for e in body["errors"]:
        assert e["zh"] and e["en"] and e["field"], e
    return {e["field"]: e["code"] for e in body["errors"]}


def test_every_bad_field_is_refused_in_one_answer(client, manager):
    _, headers = manager
    head = archives.person()
    good_id = head["resident_id"]
    head["resident_id"] = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    body = archives.form(village_code="990000009999", labour_count=5)
    body["members"][1]["birth_date"] = "2999-01-01"
    body["production"] = [
        {"kind": "crop", "code": "durian", "acreage_mu": "-2"},
        {"kind": "livestock", "code": "unicorn", "quantity": "3"},
        {"kind": "business", "code": "casino"},
        {"kind": "crop", "code": "tea", "acreage_mu": 2.5},
    ]
    body["finance"][0]["amount"] = "abc"
    body["finance"][1]["kind"] = "lottery"
    body["members"][0]["resident_id"] = resident_id_for("350102", datetime.now(UTC).date() + timedelta(days=400), 11)
    r = client.post("/v1/households", json={**body, "head": head}, headers=headers)
    assert _errors(r) == {
        "head.resident_id": "ID_CHECKSUM",
        "village_code": "VILLAGE_UNKNOWN",
        "labour_count": "LABOUR_EXCEEDS_MEMBERS",
        "members[1].birth_date": "BIRTH_DATE_FUTURE",
        "members[0].resident_id": "ID_BIRTH_DATE_FUTURE",
        "production[0].code": "CROP_UNKNOWN",
        "production[0].acreage_mu": "MEASURE_NEGATIVE",
        "production[1].code": "LIVESTOCK_UNKNOWN",
        "production[2].code": "BUSINESS_KIND_UNKNOWN",
        "production[3].acreage_mu": "MEASURE_NOT_STRING",
        "finance[0].amount": "AMOUNT_FORMAT",
        "finance[1].kind": "FINANCE_KIND_UNKNOWN",
    }


def test_type_errors_and_cross_field_errors_are_reported_together(client, manager):
    _, headers = manager
    head = archives.person()
    body = archives.form(member_count="three", labour_count=1, main_business="gambling")
    body["members"].append({"relation": "spouse", "name": "重复", "resident_id": head["resident_id"]})
    body["members"][0]["is_labour"] = True
    body["members"][2]["is_labour"] = True
    r = client.post("/v1/households", json={**body, "head": head, "colour": "red"}, headers=headers)
    assert _errors(r) == {"member_count": "FIELD_INT_PARSING", "main_business": "FIELD_LITERAL_ERROR",
                          "colour": "FIELD_EXTRA_FORBIDDEN", "members[2].resident_id": "MEMBER_DUPLICATE_ID",
                          "labour_count": "LABOUR_BELOW_LISTED"}


def test_nothing_is_written_when_the_form_is_refused(client, engine, manager):
    _, headers = manager
    head = archives.person()
    r = client.post("/v1/households", json={**archives.form(village_code="000"), "head": head}, headers=headers)
    assert r.status_code == 422
    with Session(engine) as s:
        assert s.exec(select(Customer).where(Customer.resident_id == head["resident_id"])).first() is None


def test_a_village_of_another_branch_is_refused(client, manager):
    _, headers = manager
    r = client.post("/v1/households", json={**archives.form(village_code=archives.VILLAGE_B), "head": archives.person()},
                    headers=headers)
    assert_problem(r, 422, "VILLAGE_OUT_OF_SCOPE", "village_code")


def _update_body(view: dict, **override) -> dict:
    body = archives.form(**override)
    body["members"][0]["resident_id"] = view["members"][0]["resident_id"]
    body["members"][0]["mobile"] = view["members"][0]["mobile"]
    return {**body, "version": view["version"]}


def test_edit_bumps_the_version_and_a_stale_version_is_refused(client, manager):
    _, headers = manager
    view = _create(client, headers)
    body = _update_body(view, labour_count=3, business_years=13)
    body["finance"][0]["amount"] = "80000.00"
    r = client.put(f"/v1/households/{view['id']}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["version"] == 2 and edited["labour_count"] == 3 and Decimal(edited["annual_income"]) == Decimal("110000")
    # A second tablet still holding version 1 must not overwrite the edit.
    r = client.put(f"/v1/households/{view['id']}", json={**body, "labour_count": 1}, headers=headers)
    problem = assert_problem(r, 409, "VERSION_CONFLICT", "version")
    assert problem["current_version"] == 2
    assert client.get(f"/v1/households/{view['id']}", headers=headers).json()["labour_count"] == 3


def test_history_names_who_changed_which_field_with_personal_data_masked(client, manager):
    user, headers = manager
    view = _create(client, headers)
    body = _update_body(view, business_years=20)
    body["members"][1]["name"] = "林大宝"
    body["finance"][0]["amount"] = "75000.00"
    assert client.put(f"/v1/households/{view['id']}", json=body, headers=headers).status_code == 200
    r = client.get(f"/v1/households/{view['id']}/history", headers=headers)
    assert r.status_code == 200
    edits = {(e["field"], e["old_value"], e["new_value"]) for e in r.json()["items"] if e["action"] == "edit"}
    assert edits == {("business_years", "12", "20"), ("members[1].name", "林**", "林**"),
                     ("finance[0].amount", "70000.00", "75000.00"), ("annual_income", "100000.00", "105000.00")}
    assert all(e["actor_staff_id"] == user.id for e in r.json()["items"])
    creates = {e["field"]: e["new_value"] for e in r.json()["items"] if e["action"] == "create"}
    assert creates["members[0].name"] == "陈**" and creates["village_code"] == archives.VILLAGE_A
    assert creates["members[0].resident_id"].count("*") == 11
    text = r.text
    for secret in ("陈美华", "林小宝", "林大宝", view["members"][0]["resident_id"], view["members"][0]["mobile"],
                   view["head"]["resident_id"], view["head"]["mobile"], view["head"]["name"]):
        assert secret not in text


def test_submission_requires_the_required_items_then_archives(client, engine, manager):
    _, headers = manager
    view = _create(client, headers)
    r = client.post(f"/v1/households/{view['id']}/submission", json={"version": 1}, headers=headers)
    body = assert_problem(r, 422, "ARCHIVE_INCOMPLETE")
    assert [e["field"] for e in body["errors"]] == ["images.id_front", "images.id_back"]
    for kind in ("id_front", "id_back"):
        assert _upload(client, headers, view["id"], kind).status_code == 201
    r = client.post(f"/v1/households/{view['id']}/submission", json={"version": 1}, headers=headers)
    assert r.status_code == 200, r.text
    archived = r.json()
    assert archived["status"] == "archived" and archived["version"] == 2 and archived["archived_at"]
    assert archived["completeness"]["missing"] == [
        {"field": "images.house", "zh": "住房照片", "en": "a photo of the house", "required": False}]
    r = client.post(f"/v1/households/{view['id']}/submission", json={"version": 2}, headers=headers)
    assert_problem(r, 409, "ALREADY_ARCHIVED")
    history = client.get(f"/v1/households/{view['id']}/history", headers=headers).json()["items"]
    assert history[0]["action"] == "submit" and (history[0]["old_value"], history[0]["new_value"]) == ("draft", "archived")
    # Archived, it can still be edited, but not lose a required item.
    url = f"/v1/households/{view['id']}"
    edited = client.put(url, json=_update_body(archived, business_years=15), headers=headers)
    assert edited.status_code == 200 and edited.json()["status"] == "archived" and edited.json()["version"] == 3
    body = assert_problem(client.put(url, json=_update_body(edited.json(), finance=[]), headers=headers), 422,
                          "ARCHIVE_INCOMPLETE")
    assert [e["field"] for e in body["errors"]] == ["finance.income", "finance.expense", "finance.asset"]
    id_front = next(i["id"] for i in archived["images"] if i["kind"] == "id_front")
    assert_problem(client.delete(f"{url}/images/{id_front}", headers=headers), 422, "ARCHIVE_INCOMPLETE")
    after = client.get(url, headers=headers).json()
    assert after["version"] == 3 and len(after["finance"]) == 7 and len(after["images"]) == 2


def test_images_go_through_the_imaging_platform(client, engine, manager):
    _, headers = manager
    view = _create(client, headers)
    content = archives.png(next(_img))
    r = _upload(client, headers, view["id"], "house", content)
    assert r.status_code == 201, r.text
    image = r.json()
    assert image["content_type"] == "image/png" and image["kind_zh"] == "住房照片" and image["size"] == len(content)
    with Session(engine) as s:
        assert bytes(s.get(ImgObject, image["sha256"]).data) == content
    got = client.get(f"/v1/households/{view['id']}/images/{image['id']}", headers=headers)
    assert got.status_code == 200 and got.content == content and got.headers["content-type"] == "image/png"
    assert_problem(_upload(client, headers, view["id"], "house", b"GIF89a not accepted"), 422, "IMAGE_FORMAT", "file")
    assert_problem(_upload(client, headers, view["id"], "selfie"), 422, "IMAGE_KIND_UNKNOWN", "kind")
    assert client.delete(f"/v1/households/{view['id']}/images/{image['id']}", headers=headers).status_code == 204
    assert client.get(f"/v1/households/{view['id']}", headers=headers).json()["images"] == []


def _search(client, headers, **body):
    r = client.post("/v1/households/search", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_search_by_name_id_mobile_and_village_masks_personal_data(client, manager):
    _, headers = manager
    head = archives.person("郭德胜")
    view = _create(client, headers, {**archives.form(village_code=archives.VILLAGE_A_CREDIT), "head": head})
    member_id = view["members"][0]["resident_id"]
    for q in ("郭德", head["resident_id"], head["mobile"], view["head"]["customer_no"], member_id):
        page = _search(client, headers, q=q)
        assert [i["id"] for i in page["items"]] == [view["id"]], q
        item = page["items"][0]
        assert (item["name"], item["resident_id"], item["mobile"]) == (
            "郭**", head["resident_id"][:3] + "*" * 11 + head["resident_id"][-4:], head["mobile"][:3] + "****" + head["mobile"][-4:])
    by_village = _search(client, headers, village_code=archives.VILLAGE_A_CREDIT)
    assert view["id"] in [i["id"] for i in by_village["items"]]
    listed = client.get("/v1/households", params={"village_code": archives.VILLAGE_A_CREDIT}, headers=headers)
    assert view["id"] in [i["id"] for i in listed.json()["items"]]
    everything = json.dumps([by_village, listed.json()], ensure_ascii=False)
    for secret in (head["name"], head["resident_id"], head["mobile"], member_id, "陈美华"):
        assert secret not in everything


def test_managers_see_their_own_archives_branch_staff_their_branch(client, engine, api_settings, manager):
    _, headers = manager
    view = _create(client, headers)
    url = f"/v1/households/{view['id']}"
    _, colleague = _staff(engine, api_settings)
    _, approver = _staff(engine, api_settings, "approver")
    _, other_branch = _staff(engine, api_settings, "approver", branch=data.BRANCH_B)
    _, ops = _staff(engine, api_settings, "ops")
    assert_problem(client.get(url, headers=colleague), 404, "HOUSEHOLD_NOT_FOUND")
    assert view["id"] not in [i["id"] for i in client.get("/v1/households", headers=colleague).json()["items"]]
    assert client.get(url, headers=approver).status_code == 200
    assert client.get(url, headers=ops).status_code == 200
    assert_problem(client.get(url, headers=other_branch), 404, "HOUSEHOLD_NOT_FOUND")
    assert_problem(client.put(url, json=_update_body(view), headers=approver), 403, "ROLE_FORBIDDEN")
    assert_problem(client.put(url, json=_update_body(view), headers=colleague), 404, "HOUSEHOLD_NOT_FOUND")
    customer = data.customer_headers(api_settings, data.add_customer(engine))
    assert_problem(client.get(url, headers=customer), 403, "ROLE_FORBIDDEN")


def test_code_tables_and_villages(client, engine, api_settings, manager):
    _, headers = manager
    codes = client.get("/v1/archive-codes", headers=headers).json()
    assert {"kind": "livestock", "code": "pig", "name_zh": "生猪", "name_en": "pigs", "unit": "头"} in codes["production"]
    assert codes["finance"]["liability"]["private_loan"] == "民间借款"
    villages = client.get("/v1/villages", headers=headers).json()
    assert {v["code"] for v in villages} >= {archives.VILLAGE_A, archives.VILLAGE_A_CREDIT}
    assert archives.VILLAGE_B not in {v["code"] for v in villages}


def test_the_heads_address_is_edited_with_the_archive_but_never_the_mobile(client, engine, manager):
    _, headers = manager
    customer = data.add_customer(engine, name="吴春生")  # registered without an address
    view = _create(client, headers, {**archives.form(), "customer_id": customer.id})
    assert "head.address" in {m["field"] for m in view["completeness"]["missing"]}
    # The mobile receives sign-in and signing codes: a manager must not be able to redirect them.
    body = {**_update_body(view), "head": {"mobile": data.mobile(), "address": "榜头镇紫泽村8号"}}
    r = client.put(f"/v1/households/{view['id']}", json=body, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "HEAD_MOBILE_LOCKED" and r.json()["field"] == "head.mobile"
    with Session(engine) as s:
        assert s.get(Customer, customer.id).mobile == customer.mobile
    body = {**_update_body(view), "head": {"mobile": customer.mobile, "address": "榜头镇紫泽村8号"}}
    r = client.put(f"/v1/households/{view['id']}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["head"]["mobile"], r.json()["head"]["address"]) == (customer.mobile, "榜头镇紫泽村8号")
    assert "head.address" not in {m["field"] for m in r.json()["completeness"]["missing"]}
    history = client.get(f"/v1/households/{view['id']}/history", headers=headers)
    edits = {e["field"]: (e["old_value"], e["new_value"]) for e in history.json()["items"] if e["action"] == "edit"}
    assert edits == {"head.address": ("", "***")}
    for secret in (customer.mobile, "紫泽村8号", "吴春生"):
        assert secret not in history.text


def test_the_openapi_page_shows_the_archive_form(client):
    spec = client.get("/v1/openapi.json").json()
    create = spec["paths"]["/v1/households"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"village_code", "members", "production", "finance", "head", "customer_id"} <= set(create["properties"])
    assert create["properties"]["production"]["items"]["properties"]["acreage_mu"]["type"] == "string"
    update = spec["paths"]["/v1/households/{household_id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert "version" in update["required"]
