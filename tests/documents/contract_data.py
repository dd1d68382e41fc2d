"""Realistic contract data: a tea farmer in Jinjiang borrowing 50,000 with one guarantor."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from documents.models import Lender, Party

LENDER = Lender(cooperative_name="福建省晋江农村商业银行股份有限公司", branch_name="安海支行",
                address="福建省晋江市安海镇成功街88号")
BORROWER = Party(name="林秀英", resident_id="350582199503121238", mobile="13905951234",
                 address="福建省晋江市安海镇前蔡村三组45号")
GUARANTOR = Party(name="陈建国", resident_id="350582199308062041", mobile="13805956789",
                  address="福建省晋江市安海镇前蔡村二组12号")


def make_loan_fields() -> dict:
    return dict(
        contract_no="HT2025061800012", app_no="AP2025061800012", signed_on=None, lender=LENDER,
        borrower=BORROWER, amount=Decimal("50000.00"), term_months=12, repayment_method="equal_installment",
        purpose="购买茶苗及有机肥，扩大茶园种植", lpr=Decimal("0.0300"), lpr_tenor="1Y",
        lpr_date=date(2025, 5, 20), spread_bp=200, repricing="fixed", annual_rate=Decimal("0.0500"),
        guarantee_type="guaranteed", guarantors=[GUARANTOR], line_expiry=date(2027, 6, 17), revolving=True,
        disbursement_account="6229000000001234567",
        verify_url="https://nongedai.example.cn/v1/documents/HT2025061800012/verification",
    )


def make_guarantee_fields() -> dict:
    return dict(
        contract_no="HT2025061800012-G1", loan_contract_no="HT2025061800012", signed_on=None, lender=LENDER,
        guarantor=GUARANTOR, borrower_name="林秀英", amount=Decimal("50000.00"), term_months=12,
        annual_rate=Decimal("0.0500"), line_expiry=date(2027, 6, 17), guarantee_period_months=6,
        co_guarantors=[], share=None,
        verify_url="https://nongedai.example.cn/v1/documents/HT2025061800012-G1/verification",
    )


def make_note_fields(method: str = "equal_installment") -> dict:
    """A 20,000 drawdown over 6 months at 5.00%, its schedule from the domain's schedule engine."""
    from documents.models import ScheduleRow
    from domain.schedule import build_schedule

    start = date(2025, 7, 1)
    rows = build_schedule(Decimal("20000.00"), Decimal("0.0500"), 6, method, start)
    return dict(
        note_no="CL2025061800012-001", contract_no="HT2025061800012", line_no="CL2025061800012", lender=LENDER,
        borrower=BORROWER, amount=Decimal("20000.00"), term_months=6, start_date=start,
        maturity_date=rows[-1].due_date, repayment_method=method, purpose="购买茶苗及有机肥",
        lpr=Decimal("0.0300"), lpr_tenor="1Y", lpr_date=date(2025, 6, 20), spread_bp=200,
        annual_rate=Decimal("0.0500"), disbursement_account="6229000000001234567",
        schedule=[ScheduleRow(period=r.period, due_date=r.due_date, principal=r.principal, interest=r.interest)
                  for r in rows],
        verify_url="https://nongedai.example.cn/v1/documents/CL2025061800012-001/verification",
    )
