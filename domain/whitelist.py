"""Whitelist rows (批量白名单): the columns a cooperative uploads and the per-row validation report.

Pure: the file is already decoded into header and cell values (services/whitelist_files.py), and what
the database knows (products, branches, managers, customers, open applications) arrives as plain data.
Every refusal names its field and says why in Chinese and English; messy but safe input (full-width
digits, spaces, a lower-case x, thousands separators) is normalised and the report says which fields were.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel

from domain.identity import IdProblem, normalise_mobile, normalise_resident_id

# Canonical column -> the headers accepted for it (compared after NFKC, lower case, no spaces).
COLUMNS: dict[str, tuple[str, ...]] = {
    "resident_id": ("resident_id", "身份证号", "身份证号码", "证件号码", "id"),
    "name": ("name", "姓名", "客户姓名"),
    "mobile": ("mobile", "phone", "手机号", "手机号码", "联系电话"),
    "limit": ("limit", "pre_approved_limit", "preapproved_limit", "预授信额度", "授信额度", "额度"),
    "product": ("product", "product_code", "产品", "产品代码"),
    "manager": ("manager", "客户经理", "客户经理工号"),
    "branch": ("branch", "branch_code", "机构", "机构号", "网点", "网点号"),
}
# Optional: what the cooperative knows of a household it has not yet on file, for the rating.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "annual_income": ("annual_income", "年收入", "家庭年收入"),
    "total_assets": ("total_assets", "总资产", "家庭总资产"),
    "total_liabilities": ("total_liabilities", "总负债", "家庭总负债"),
}
FIELD_ZH = {"resident_id": "身份证号", "name": "姓名", "mobile": "手机号", "limit": "预授信额度", "product": "产品",
            "manager": "客户经理", "branch": "机构", "annual_income": "年收入", "total_assets": "总资产",
            "total_liabilities": "总负债"}

_NAME = re.compile(r"^[\u3400-\u9fff·A-Za-z]{2,32}$")


class RowProblem(BaseModel):
    field: str
    code: str
    zh: str
    en: str


class RowReport(BaseModel):
    """One line of the validation report: refused with every problem, or valid (possibly normalised)."""

    row_no: int
    ok: bool
    problems: list[RowProblem] = []
    normalised: list[str] = []


class WhitelistEntry(BaseModel):
    """A valid row, normalised. Personal data: it is stored in whitelist_row and never leaves the database."""

    row_no: int
    resident_id: str
    name: str
    mobile: str
    limit: Decimal
    product_code: str
    manager_staff_id: int
    branch_code: str
    annual_income: Decimal | None = None
    total_assets: Decimal | None = None
    total_liabilities: Decimal | None = None


class HeaderProblem(Exception):
    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"missing columns: {missing}")
        self.missing = missing


@dataclass(frozen=True)
class Manager:
    staff_id: int
    branch_code: str
    active: bool = True
    role: str = "customer_manager"


@dataclass(frozen=True)
class ProductBounds:
    min_amount: Decimal
    max_amount: Decimal


@dataclass(frozen=True)
class KnownCustomer:
    customer_id: int
    name: str
    mobile: str


@dataclass
class Reference:
    """What the database knows, as plain data."""

    products: Mapping[str, ProductBounds]
    branches: frozenset[str]
    managers: Mapping[str, Manager]  # by username
    customers_by_id: Mapping[str, KnownCustomer] = field(default_factory=dict)  # by resident ID
    customer_ids_by_mobile: Mapping[str, frozenset[int]] = field(default_factory=dict)
    open_application_customer_ids: frozenset[int] = frozenset()
    already_offered_ids: frozenset[str] = frozenset()  # resident IDs in another campaign's open rows
    allowed_branches: frozenset[str] | None = None  # None: every branch (ops, admin)


def _key(header: object) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", str(header or ""))).lower()


def map_header(header: Iterable[object]) -> dict[str, int]:
    """Canonical column -> cell index. Raises HeaderProblem with the missing required columns."""
    cells = [_key(h) for h in header]
    out: dict[str, int] = {}
    for name, aliases in {**COLUMNS, **OPTIONAL_COLUMNS}.items():
        wanted = {_key(a) for a in aliases}
        for i, cell in enumerate(cells):
            if cell in wanted:
                out[name] = i
                break
    missing = [c for c in COLUMNS if c not in out]
    if missing:
        raise HeaderProblem(missing)
    return out


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _problem(field_name: str, code: str, zh: str, en: str) -> RowProblem:
    return RowProblem(field=field_name, code=code, zh=zh, en=en)


def parse_amount(raw: object) -> Decimal:
    """Yuan, whole fen; thousands separators, full-width digits and a trailing 元 are tolerated."""
    if isinstance(raw, float):
        raw = repr(raw)
    text = _text(raw).replace(",", "").replace(" ", "").removesuffix("元")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError("not whole fen")
    return value.quantize(Decimal("0.01"))


def _resident_id(raw: object) -> str:
    # A number in the ID column means the spreadsheet stored the ID as a number: 15 significant
    # digits at most, so the last ones are gone, whatever the cell shows.
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise IdProblem("ID_SCIENTIFIC_NOTATION", "身份证号被表格软件存成了数字(如3.50102E+17),末几位已丢失,请将该列设为文本后重新导出",
                        "the spreadsheet stored the ID as a number (e.g. 3.50102E+17); its last digits are lost")
    return normalise_resident_id(_text(raw))


def check_row(row_no: int, cells: Mapping[str, object], ref: Reference) -> tuple[RowReport, WhitelistEntry | None]:
    """Validate one row on its own (duplicates are `check_file`'s job)."""
    problems: list[RowProblem] = []
    normalised: list[str] = []
    raw_id = cells.get("resident_id")
    resident_id = mobile = ""
    try:
        resident_id = _resident_id(raw_id)
        if resident_id != str(raw_id or ""):
            normalised.append("resident_id")
    except IdProblem as p:
        if p.code == "ID_SCIENTIFIC_NOTATION":
            p = IdProblem(p.code, "身份证号被表格软件转成了科学计数法(如3.50102E+17),末几位已丢失,请将该列设为文本后重新导出",
                          "a spreadsheet turned the ID into scientific notation (e.g. 3.50102E+17); its last digits are lost")
        problems.append(_problem("resident_id", p.code, p.zh, p.en))
    name = re.sub(r"\s", "", _text(cells.get("name")))
    if not _NAME.match(name):
        problems.append(_problem("name", "NAME_FORMAT", "姓名须为2至32个汉字或字母", "a name is 2-32 Chinese characters or letters"))
    elif name != str(cells.get("name")):
        normalised.append("name")
    try:
        mobile = normalise_mobile(_text(cells.get("mobile")))
        if mobile != str(cells.get("mobile")):
            normalised.append("mobile")
    except IdProblem as p:
        problems.append(_problem("mobile", p.code, p.zh, p.en))
    product_code = _text(cells.get("product")).upper()
    bounds = ref.products.get(product_code)
    if bounds is None:
        problems.append(_problem("product", "PRODUCT_UNKNOWN", "该贷款产品不存在或已停办", "no such active product"))
    limit: Decimal | None = None
    try:
        limit = parse_amount(cells.get("limit"))
    except ValueError:
        problems.append(_problem("limit", "LIMIT_FORMAT", "预授信额度须为金额(元,最多两位小数)",
                                 "the pre-approved limit is an amount in yuan with at most two decimals"))
    if limit is not None and bounds is not None and not bounds.min_amount <= limit <= bounds.max_amount:
        problems.append(_problem("limit", "LIMIT_OUT_OF_RANGE",
                                 f"预授信额度须在{bounds.min_amount:,.0f}元至{bounds.max_amount:,.0f}元之间",
                                 f"the pre-approved limit must be {bounds.min_amount:,.0f}-{bounds.max_amount:,.0f} yuan"))
    branch = _text(cells.get("branch"))
    if branch not in ref.branches:
        problems.append(_problem("branch", "BRANCH_UNKNOWN", "机构号不存在", "no such branch"))
    elif ref.allowed_branches is not None and branch not in ref.allowed_branches:
        problems.append(_problem("branch", "BRANCH_OUT_OF_SCOPE", "只能上传本机构的白名单", "you may upload rows of your own branch only"))
    manager = ref.managers.get(_text(cells.get("manager")))
    if manager is None or not manager.active or manager.role != "customer_manager":
        problems.append(_problem("manager", "MANAGER_UNKNOWN", "客户经理工号不存在", "no such customer manager"))
    elif manager.branch_code != branch:
        problems.append(_problem("manager", "MANAGER_OTHER_BRANCH", "该客户经理不属于所填机构",
                                 "the customer manager belongs to another branch"))
    extras: dict[str, Decimal | None] = {}
    for col in OPTIONAL_COLUMNS:
        raw = cells.get(col)
        if raw is None or _text(raw) == "":
            extras[col] = None
            continue
        try:
            extras[col] = parse_amount(raw)
            if extras[col] < 0:
                raise ValueError("negative")
        except ValueError:
            problems.append(_problem(col, "AMOUNT_FORMAT", f"{FIELD_ZH[col]}须为不小于零的金额",
                                     f"{col} must be an amount of zero or more"))
    if resident_id and not any(p.field == "resident_id" for p in problems):
        problems += _against_records(resident_id, name, mobile, ref)
    if problems:
        return RowReport(row_no=row_no, ok=False, problems=problems, normalised=normalised), None
    assert limit is not None and manager is not None
    entry = WhitelistEntry(row_no=row_no, resident_id=resident_id, name=name, mobile=mobile, limit=limit,
                           product_code=product_code, manager_staff_id=manager.staff_id, branch_code=branch, **extras)
    return RowReport(row_no=row_no, ok=True, normalised=normalised), entry


def _against_records(resident_id: str, name: str, mobile: str, ref: Reference) -> list[RowProblem]:
    out: list[RowProblem] = []
    known = ref.customers_by_id.get(resident_id)
    if known is not None and name and known.name != name:
        out.append(_problem("name", "CUSTOMER_NAME_MISMATCH", "姓名与该身份证号的客户档案不一致",
                            "the name does not match the customer on file for this resident ID"))
    if mobile:
        others = ref.customer_ids_by_mobile.get(mobile, frozenset()) - ({known.customer_id} if known else set())
        if others:
            out.append(_problem("mobile", "MOBILE_IN_USE", "该手机号已登记在其他客户名下",
                                "this mobile number belongs to another customer on file"))
        elif known is not None and known.mobile != mobile:
            out.append(_problem("mobile", "CUSTOMER_MOBILE_MISMATCH", "手机号与客户档案不一致,请先更新客户资料",
                                "the mobile differs from the customer on file; update the customer first"))
    if known is not None and known.customer_id in ref.open_application_customer_ids:
        out.append(_problem("resident_id", "OPEN_APPLICATION_EXISTS", "该客户已有在办的贷款申请",
                            "the customer already has an open application"))
    if resident_id in ref.already_offered_ids:
        out.append(_problem("resident_id", "ALREADY_INVITED", "该客户已在其他白名单批次中邀请,尚未结束",
                            "the customer has an open invitation from another whitelist campaign"))
    return out


def check_file(rows: Iterable[tuple[int, Mapping[str, object]]], ref: Reference) -> tuple[list[RowReport], list[WhitelistEntry]]:
    """Every row checked; a resident ID or mobile seen on an earlier row refuses the later row."""
    reports: list[RowReport] = []
    entries: list[WhitelistEntry] = []
    first_id: dict[str, int] = {}
    first_mobile: dict[str, tuple[int, str]] = {}
    for row_no, cells in rows:
        report, entry = check_row(row_no, cells, ref)
        if entry is not None:
            dup: list[RowProblem] = []
            if entry.resident_id in first_id:
                earlier = first_id[entry.resident_id]
                dup.append(_problem("resident_id", "DUPLICATE_IN_FILE", f"身份证号与第{earlier}行重复",
                                    f"the same resident ID as row {earlier}"))
            seen = first_mobile.get(entry.mobile)
            if seen is not None and seen[1] != entry.resident_id:
                dup.append(_problem("mobile", "DUPLICATE_MOBILE_IN_FILE", f"手机号与第{seen[0]}行重复",
                                    f"the same mobile number as row {seen[0]}"))
            first_id.setdefault(entry.resident_id, row_no)
            first_mobile.setdefault(entry.mobile, (row_no, entry.resident_id))
            if dup:
                report = RowReport(row_no=row_no, ok=False, problems=dup, normalised=report.normalised)
                entry = None
        reports.append(report)
        if entry is not None:
            entries.append(entry)
    return reports, entries
