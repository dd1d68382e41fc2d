"""The data warehouse's contribution file (数仓 → contribution_facts), checked row by row and field by field:
every refused row is reported with each reason, never dropped silently. Customers are named by their
customer number (ECIF), which the warehouse knows; no personal data is in the file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from domain.whitelist import RowProblem, RowReport, parse_amount

COLUMNS: dict[str, str] = {
    "customer_no": "客户号", "as_of": "数据日期", "avg_daily_assets": "近12个月日均资产",
    "avg_daily_assets_prev": "前12个月日均资产", "avg_loan_balance": "日均贷款余额", "settlement_txns": "结算笔数",
    "months_as_customer": "开户月数", "products_held": "持有产品数"}
MONEY = ("avg_daily_assets", "avg_daily_assets_prev", "avg_loan_balance")
COUNTS = ("settlement_txns", "months_as_customer", "products_held")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class HeaderMissing(Exception):
    def __init__(self, missing: list[str]) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing


class FactsEntry(BaseModel):
    row_no: int
    customer_id: int
    as_of: date
    avg_daily_assets: Decimal
    avg_daily_assets_prev: Decimal
    avg_loan_balance: Decimal
    settlement_txns: int
    months_as_customer: int
    products_held: int


# Far above any household, and inside what the columns hold (NUMERIC(18,2), INTEGER): a larger value is a
# broken export, refused by field rather than failing the whole upload in the database.
MAX_AMOUNT = Decimal("10000000000")
MAX_COUNT = 1_000_000

def map_header(header: Iterable[object]) -> dict[str, int]:
    """Column name (English or the Chinese heading) -> position; every column is required."""
    names = {v: k for k, v in COLUMNS.items()} | {k: k for k in COLUMNS}
    found = {}
    for i, cell in enumerate(header):
        key = names.get(cell_text(cell)) or names.get(cell_text(cell).lower())
        if key and key not in found:
            found[key] = i
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise HeaderMissing(missing)
    return found


def check_row(row_no: int, cells: Mapping[str, object], *, customers: Mapping[str, int],
              stored_as_of: Mapping[int, date], today: date) -> tuple[RowReport, FactsEntry | None]:
    problems: list[RowProblem] = []
    values: dict[str, object] = {}
    customer_no = cell_text(cells.get("customer_no"))
    customer_id = customers.get(customer_no)
    if not customer_no:
        problems.append(_problem("customer_no", "REQUIRED", "客户号必填", "the customer number is required"))
    elif customer_id is None:
        problems.append(_problem("customer_no", "CUSTOMER_UNKNOWN", "没有该客户号的客户", "no customer has this number"))
    raw_date = cell_text(cells.get("as_of"))
    as_of = None
    try:
        as_of = date.fromisoformat(raw_date) if _DATE.match(raw_date) else None
    except ValueError:
        as_of = None
    if as_of is None:
        problems.append(_problem("as_of", "DATE_INVALID", "数据日期须为有效日期YYYY-MM-DD", "as_of is a real date, YYYY-MM-DD"))
    elif as_of > today:
        problems.append(_problem("as_of", "DATE_IN_FUTURE", "数据日期不能晚于今天", "as_of is in the future"))
    elif customer_id is not None and customer_id in stored_as_of and as_of < stored_as_of[customer_id]:
        problems.append(stale(stored_as_of[customer_id]))
    for name in MONEY:
        try:
            amount = parse_amount(cells.get(name))
        except ValueError:
            problems.append(_problem(name, "AMOUNT_INVALID", f"{COLUMNS[name]}须为金额(元,最多两位小数)",
                                     f"{name} is an amount in yuan with at most two decimals"))
            continue
        if amount < 0:
            problems.append(_problem(name, "AMOUNT_NEGATIVE", f"{COLUMNS[name]}不能为负数", f"{name} cannot be negative"))
        elif amount > MAX_AMOUNT:
            problems.append(_problem(name, "AMOUNT_TOO_LARGE", f"{COLUMNS[name]}超出上限(一百亿元)",
                                     f"{name} is above the limit of ten billion yuan"))
        values[name] = amount
    for name in COUNTS:
        text = cell_text(cells.get(name))
        if not text.isdigit():
            problems.append(_problem(name, "COUNT_INVALID", f"{COLUMNS[name]}须为非负整数", f"{name} is a whole number >= 0"))
            continue
        if int(text) > MAX_COUNT:
            problems.append(_problem(name, "COUNT_TOO_LARGE", f"{COLUMNS[name]}超出上限", f"{name} is implausibly large"))
            continue
        values[name] = int(text)
    if problems:
        return RowReport(row_no=row_no, ok=False, problems=problems), None
    assert customer_id is not None and as_of is not None
    return RowReport(row_no=row_no, ok=True), FactsEntry(row_no=row_no, customer_id=customer_id, as_of=as_of, **values)


def check_file(rows: Iterable[tuple[int, Mapping[str, object]]], *, customers: Mapping[str, int],
               stored_as_of: Mapping[int, date], today: date) -> tuple[list[RowReport], list[FactsEntry]]:
    """Each row checked; a customer twice in one file is refused the second time (which one would win?)."""
    reports, entries, seen = [], [], set()
    for row_no, cells in rows:
        report, entry = check_row(row_no, cells, customers=customers, stored_as_of=stored_as_of, today=today)
        if entry is not None and entry.customer_id in seen:
            report, entry = RowReport(row_no=row_no, ok=False, problems=[_problem(
                "customer_no", "DUPLICATE", "该客户在文件中出现多次", "this customer is in the file more than once")]), None
        if entry is not None:
            seen.add(entry.customer_id)
            entries.append(entry)
        reports.append(report)
    return reports, entries


def stale(stored: date) -> RowProblem:
    """Newer facts are on file: an older extract never replaces them."""
    return _problem("as_of", "STALE", f"已有更新的数据(数据日期 {stored})", f"newer facts are on file (as of {stored})")


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _problem(field: str, code: str, zh: str, en: str) -> RowProblem:
    return RowProblem(field=field, code=code, zh=zh, en=en)
