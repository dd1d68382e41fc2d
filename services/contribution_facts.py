"""The data warehouse's contribution feed (数仓同步): ops upload the warehouse's CSV or XLSX extract; every row
is checked field by field, refused rows come back in the report with each reason, and the valid rows replace
the customers' contribution facts in one transaction (all of them or, on a failure, none)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session

from db.repositories import ratings as store
from domain.rating.warehouse import COLUMNS, HeaderMissing, cell_text, check_file, map_header, stale
from domain.whitelist import RowReport
from services import whitelist_files
from services.clock import business_date
from services.errors import ProblemError, field_error

MAX_ROWS = 200_000


class ContributionLoadReport(BaseModel):
    filename: str
    format: str
    encoding: str | None
    dry_run: bool
    rows_total: int
    rows_loaded: int
    rows_refused: int
    refused: list[RowReport]


def load(session: Session, *, data: bytes, filename: str, dry_run: bool, now: datetime) -> ContributionLoadReport:
    sheet = whitelist_files.read(data, max_rows=MAX_ROWS)
    try:
        columns = map_header(sheet.header)
    except HeaderMissing as problem:
        raise ProblemError(422, "HEADER_MISSING", "缺少必需的列:" + "、".join(COLUMNS[c] for c in problem.missing),
                           "missing columns: " + ", ".join(problem.missing), problem.missing[0],
                           errors=[field_error(c, "COLUMN_MISSING", f"缺少“{COLUMNS[c]}”列", f"no {c} column")
                                   for c in problem.missing]) from problem
    rows = [(row_no, {name: (cells[i] if i < len(cells) else None) for name, i in columns.items()})
            for row_no, cells in sheet.rows]
    numbers = sorted({cell_text(cells["customer_no"]) for _, cells in rows} - {""})
    customers = store.customer_ids_by_number(session, numbers)
    stored = store.contribution_as_of(session, list(customers.values()))
    reports, entries = check_file(rows, customers=customers, stored_as_of=stored, today=business_date(now))
    if not dry_run and entries:
        written = store.replace_contribution_facts(session, [e.model_dump(exclude={"row_no"}) for e in entries])
        lost = [e for e in entries if e.customer_id not in written]
        if lost:  # another feed stored newer facts after they were read above: refused as the check would have
            newer = store.contribution_as_of(session, [e.customer_id for e in lost])
            late = {e.row_no: RowReport(row_no=e.row_no, ok=False, problems=[stale(newer[e.customer_id])])
                    for e in lost}
            reports = [late.get(r.row_no, r) for r in reports]
            entries = [e for e in entries if e.customer_id in written]
        session.commit()
    refused = [r for r in reports if not r.ok]
    return ContributionLoadReport(filename=filename[:200], format=sheet.format, encoding=sheet.encoding, dry_run=dry_run,
                                  rows_total=len(reports), rows_loaded=0 if dry_run else len(entries),
                                  rows_refused=len(refused), refused=refused)
