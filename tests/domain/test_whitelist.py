"""Whitelist rows: normalisation, refusals with field and reason, duplicates in the file and on record."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.whitelist import (
    HeaderProblem,
    KnownCustomer,
    Manager,
    ProductBounds,
    Reference,
    check_file,
    check_row,
    map_header,
)
from tests.factories import resident_id

REF = Reference(products={"NONG_E_DAI": ProductBounds(Decimal("1000"), Decimal("200000"))},
                branches=frozenset({"350322101", "350322102"}),
                managers={"manager01": Manager(7, "350322101"), "approver01": Manager(8, "350322101", role="approver")})


def row(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"resident_id": resident_id(), "name": "陈建国", "mobile": "13900000001",
                               "limit": "50000", "product": "NONG_E_DAI", "manager": "manager01", "branch": "350322101"}
    return {**base, **over}


def codes(report) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in report.problems]


def test_a_clean_row_is_valid_and_normalised_where_safe():
    rid = resident_id()
    messy = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in rid[:-1]) + rid[-1].lower()
    report, entry = check_row(2, row(resident_id=f" {messy[:6]} {messy[6:]}", mobile="+86 139 0000 0001",
                                     limit="５０,０００.00元", name=" 陈建国 "), REF)
    assert report.ok and entry is not None, report
    assert entry.resident_id == rid.upper() and entry.mobile == "13900000001"
    assert entry.limit == Decimal("50000.00") and entry.manager_staff_id == 7
    assert {"resident_id", "mobile", "name"} <= set(report.normalised)


@pytest.mark.parametrize("raw", ["3.50102E+17", "3.50102e17", 3.50102198506151e17, 350102198506151000])
def test_an_id_a_spreadsheet_turned_into_a_number_is_refused_with_that_reason(raw):
    report, entry = check_row(3, row(resident_id=raw), REF)
    assert entry is None
    assert codes(report) == [("resident_id", "ID_SCIENTIFIC_NOTATION")]
    assert "科学计数法" in report.problems[0].zh or "数字" in report.problems[0].zh
    assert "3.50102E+17" in report.problems[0].en


def test_every_bad_field_is_reported_at_once_with_chinese_and_english():
    report, _ = check_row(4, row(resident_id="35032219850615001", name="1", mobile="12345", limit="abc",
                                 product="NOPE", manager="nobody", branch="999"), REF)
    assert set(codes(report)) == {("resident_id", "ID_LENGTH"), ("name", "NAME_FORMAT"), ("mobile", "MOBILE_FORMAT"),
                                  ("limit", "LIMIT_FORMAT"), ("product", "PRODUCT_UNKNOWN"),
                                  ("branch", "BRANCH_UNKNOWN"), ("manager", "MANAGER_UNKNOWN")}
    assert all(p.zh and p.en for p in report.problems)


def test_limits_outside_the_product_managers_of_other_branches_and_other_roles():
    assert codes(check_row(2, row(limit="500"), REF)[0]) == [("limit", "LIMIT_OUT_OF_RANGE")]
    assert codes(check_row(2, row(limit="200001"), REF)[0]) == [("limit", "LIMIT_OUT_OF_RANGE")]
    assert codes(check_row(2, row(limit="1000.005"), REF)[0]) == [("limit", "LIMIT_FORMAT")]
    assert codes(check_row(2, row(branch="350322102"), REF)[0]) == [("manager", "MANAGER_OTHER_BRANCH")]
    assert codes(check_row(2, row(manager="approver01"), REF)[0]) == [("manager", "MANAGER_UNKNOWN")]
    scoped = Reference(**{**REF.__dict__, "allowed_branches": frozenset({"350322102"})})
    assert ("branch", "BRANCH_OUT_OF_SCOPE") in codes(check_row(2, row(), scoped)[0])


def test_bad_checksum_and_optional_amounts():
    rid = resident_id()
    wrong = rid[:-1] + ("0" if rid[-1] != "0" else "1")
    assert codes(check_row(2, row(resident_id=wrong), REF)[0]) == [("resident_id", "ID_CHECKSUM")]
    report, entry = check_row(2, row(annual_income="96,000", total_assets="", total_liabilities="-1"), REF)
    assert codes(report) == [("total_liabilities", "AMOUNT_FORMAT")]
    _, entry = check_row(2, row(annual_income=96000.0, total_assets=None), REF)
    assert entry is not None and entry.annual_income == Decimal("96000.00") and entry.total_assets is None


def test_duplicates_within_the_file_refuse_the_later_rows():
    rid = resident_id()
    reports, entries = check_file([(2, row(resident_id=rid)), (3, row(resident_id=rid.lower(), mobile="13900000002")),
                                   (4, row(mobile="13900000001")), (5, row(mobile="13900000005"))], REF)
    assert [r.ok for r in reports] == [True, False, False, True]
    assert codes(reports[1]) == [("resident_id", "DUPLICATE_IN_FILE")] and "第2行" in reports[1].problems[0].zh
    assert codes(reports[2]) == [("mobile", "DUPLICATE_MOBILE_IN_FILE")]
    assert [e.row_no for e in entries] == [2, 5]


def test_duplicates_against_customers_on_file_and_open_applications():
    rid, other = resident_id(), resident_id()
    ref = Reference(**{**REF.__dict__,
                       "customers_by_id": {rid: KnownCustomer(11, "陈建国", "13900000001")},
                       "customer_ids_by_mobile": {"13900000001": frozenset({11}), "13900000009": frozenset({12})},
                       "open_application_customer_ids": frozenset({11}),
                       "already_offered_ids": frozenset({other})})
    assert codes(check_row(2, row(resident_id=rid), ref)[0]) == [("resident_id", "OPEN_APPLICATION_EXISTS")]
    ref.open_application_customer_ids = frozenset()
    report, entry = check_row(2, row(resident_id=rid), ref)
    assert report.ok and entry is not None  # the customer on file, same name and mobile: fine
    assert codes(check_row(2, row(resident_id=rid, name="陈建华"), ref)[0]) == [("name", "CUSTOMER_NAME_MISMATCH")]
    assert codes(check_row(2, row(resident_id=rid, mobile="13900000003"), ref)[0]) == [
        ("mobile", "CUSTOMER_MOBILE_MISMATCH")]
    assert codes(check_row(2, row(mobile="13900000009"), ref)[0]) == [("mobile", "MOBILE_IN_USE")]
    assert codes(check_row(2, row(resident_id=other, mobile="13900000007"), ref)[0]) == [("resident_id", "ALREADY_INVITED")]


def test_headers_in_chinese_or_english_and_missing_columns():
    cols = map_header(["身份证号", " 姓名", "手机号码", "预授信额度", "产品代码", "客户经理", "机构号", "年收入"])
    assert cols["resident_id"] == 0 and cols["branch"] == 6 and cols["annual_income"] == 7
    assert map_header(["RESIDENT_ID", "Name", "mobile", "limit", "product", "manager", "branch"])["name"] == 1
    with pytest.raises(HeaderProblem) as err:
        map_header(["身份证号", "姓名"])
    assert err.value.missing == ["mobile", "limit", "product", "manager", "branch"]
