"""Drawdown notes (借款借据), with their repayment schedules, read back from the PDF."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from documents.models import LoanNoteData
from documents.render import DRAWDOWN_NOTE, RenderedDocument, render_drawdown_note
from domain.schedule import build_schedule
from tests.documents.contract_data import make_note_fields


def page_texts(doc: RenderedDocument) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(doc.pdf)).pages]


def cjk_fonts(doc: RenderedDocument) -> set[str]:
    found = set()
    for page in PdfReader(io.BytesIO(doc.pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            target = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            if any(k.startswith("/FontFile") for k in target["/FontDescriptor"].get_object()):
                found.add(str(target["/BaseFont"]))
    return {f for f in found if "CJK" in f}


@pytest.fixture(scope="module")
def note() -> LoanNoteData:
    return LoanNoteData(**make_note_fields())


def test_the_drawdown_note_reads_back(note: LoanNoteData) -> None:
    doc = render_drawdown_note(note)
    text = "".join(page_texts(doc))
    for expected in [
        "借款借据", "借据编号：CL2025061800012-001", "HT2025061800012", "CL2025061800012", "林秀英",
        "350582199503121238", "人民币贰万元整", "¥20,000.00", "自2025年7月1日起至2026年1月1日止",
        "LPR(一年期)3.00%+200个基点=年利率5.00%", "年化利率5.00%", "等额本息", "6229000000001234567",
        "共6期", "首期还款日2025年8月1日，应还¥3,382.11", "末期还款日2026年1月1日，应还¥3,382.13",
        "应付利息合计¥292.68", "本息合计¥20,292.68", "人民币贰万零贰佰玖拾贰元陆角捌分", "罚息", "复利",
        "https://nongedai.example.cn/v1/documents/CL2025061800012-001/verification",
    ]:
        assert expected in text, expected
    assert doc.template_version == DRAWDOWN_NOTE.version == "drawdown-note/4"
    assert cjk_fonts(doc)
    # The borrower signs it and the cooperative seals it: a box for each on the last page.
    assert set(doc.signature_boxes) == {"borrower", "lender_seal"}
    assert {box[0] for box in doc.signature_boxes.values()} == {doc.page_count - 1}


def test_the_note_lists_every_installment_with_the_principal_left(note: LoanNoteData) -> None:
    doc = render_drawdown_note(note)
    text = "".join(page_texts(doc))
    assert "每期还款日、还款金额以下列还款计划表为准" in text and "还款计划表》" not in text
    for row, left in zip(note.schedule, note.balances(), strict=True):
        line = f"{row.period}{row.due_date.year}年{row.due_date.month}月{row.due_date.day}日" \
               f"¥{row.principal:,.2f}¥{row.interest:,.2f}¥{row.total:,.2f}¥{left:,.2f}"
        assert line in text, line
    assert "合计¥20,000.00¥292.68¥20,292.68" in text
    assert note.balances()[-1] == Decimal("0.00")
    assert cjk_fonts(doc)


def test_a_long_schedule_runs_over_pages_each_numbered_with_the_note_number() -> None:
    fields = make_note_fields("equal_principal")
    rows = build_schedule(Decimal("20000.00"), Decimal("0.0500"), 60, "equal_principal", fields["start_date"])
    fields.update(term_months=60, maturity_date=rows[-1].due_date,
                  schedule=[dict(period=r.period, due_date=r.due_date, principal=r.principal, interest=r.interest)
                            for r in rows])
    doc = render_drawdown_note(LoanNoteData(**fields))
    pages = page_texts(doc)
    assert len(pages) >= 2 and doc.page_count == len(pages)
    for number, text in enumerate(pages, start=1):
        assert "借据编号：CL2025061800012-001" in text and f"第{number}页/共{len(pages)}页" in text
        if re.search(r"¥[\d,]+\.\d\d¥[\d,]+\.\d\d¥", text):  # installments on this page: so is the header
            assert "期数还款日应还本金应还利息本期合计剩余本金" in text
    assert sum("期数还款日应还本金" in t for t in pages) >= 2
    # The signatures come after the whole schedule, which they cover.
    assert {box[0] for box in doc.signature_boxes.values()} == {doc.page_count - 1}


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f["schedule"].pop(), "add up"),
    (lambda f: f.update(amount=Decimal("20000.01")), "add up"),
    (lambda f: f.update(annual_rate=Decimal("0.0510")), "annual_rate"),
    (lambda f: f["schedule"].reverse(), "periods"),
    (lambda f: f.update(maturity_date=f["start_date"]), "mature"),
])
def test_a_schedule_that_does_not_repay_the_note_refuses_to_render(change, message: str) -> None:
    fields = make_note_fields()
    change(fields)
    with pytest.raises(ValidationError, match=message):
        LoanNoteData(**fields)
