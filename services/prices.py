"""An application's price broken down: LPR of the product's tenor on the review date, spread by guarantee
type, grade adjustment, floor and cap, from the product version it is pinned to. LPR rates never take
effect in the past, so the breakdown is the one the review computed."""

from __future__ import annotations

from sqlmodel import Session

from db import lpr_store, product_store, rule_store
from domain import pricing, reasons
from services.application_views import visible
from services.clock import business_date
from services.errors import ProblemError
from services.principal import Principal
from services.schemas.prices import PriceTerm, PriceView

GUARANTEE_ZH = {"credit": "信用贷款", "guaranteed": "保证贷款"}


def price_of(session: Session, principal: Principal, app_no: str) -> PriceView:
    app = visible(session, principal, app_no)
    assert app.id is not None
    approvals = [d for d in rule_store.decisions_of(session, app.id) if d.scenario == "approval" and d.outcome != "error"]
    product = product_store.terms_of(session, app.product_code, app.product_version)
    if not approvals or app.grade is None or app.annual_rate is None or product is None:
        raise ProblemError(404, "PRICE_NOT_AVAILABLE", "该申请尚未定价", "this application has not been priced",
                           "app_no")
    priced_on = business_date(approvals[-1].decided_at)
    # The pricing rule set's adjustments recorded right after that approval decision (older applications
    # have none: the product's grade adjustment alone, as they were priced).
    recorded = [d for d in rule_store.decisions_of(session, app.id)
                if d.scenario == "pricing" and d.outcome == "priced" and (d.id or 0) > (approvals[-1].id or 0)]
    adjustments = pricing.adjustments_of(recorded[0].result) if recorded else None
    p = pricing.price(product, app.guarantee_type, app.grade, priced_on, lpr_store.table(session), adjustments)
    unclamped = p.lpr + (p.spread_bp + p.grade_adjust_bp) * pricing.BP
    terms_out = [
        PriceTerm(code="LPR", rate=p.lpr, zh=f"贷款市场报价利率(LPR){p.lpr_tenor} {p.lpr:.2%},{p.lpr_date} 起",
                  en=f"loan prime rate {p.lpr_tenor} {p.lpr:.2%}, published {p.lpr_date}"),
        PriceTerm(code="SPREAD", bp=p.spread_bp, zh=f"{GUARANTEE_ZH.get(app.guarantee_type, app.guarantee_type)}加点 "
                  f"{p.spread_bp:+d} 基点", en=f"spread for a {app.guarantee_type} loan {p.spread_bp:+d} bp"),
    ]
    for adjustment in p.adjustments:
        text = reasons.explain(adjustment.code, {})
        terms_out.append(PriceTerm(code=adjustment.code, bp=adjustment.bp, zh=f"{text.zh} {adjustment.bp:+d} 基点",
                                   en=f"{text.en} {adjustment.bp:+d} bp"))
    if unclamped != p.annual_rate:
        bound = "FLOOR" if p.annual_rate == product.floor_rate else "CAP"
        terms_out.append(PriceTerm(code=bound, rate=p.annual_rate,
                                   zh=f"按产品{'下限' if bound == 'FLOOR' else '上限'} {p.annual_rate:.2%} 执行",
                                   en=f"held at the product's {bound.lower()} of {p.annual_rate:.2%}"))
    terms_out.append(PriceTerm(code="ANNUAL_RATE", rate=p.annual_rate, zh=f"执行年利率(年化){p.annual_rate:.2%}",
                               en=f"annual (annualised) rate {p.annual_rate:.2%}"))
    return PriceView(app_no=app.app_no, product_code=app.product_code, product_version=app.product_version,
                     priced_on=priced_on, guarantee_type=app.guarantee_type, grade=app.grade, lpr_tenor=p.lpr_tenor,
                     lpr=p.lpr, lpr_date=p.lpr_date, spread_bp=p.spread_bp, grade_adjust_bp=p.grade_adjust_bp,
                     floor_rate=product.floor_rate, cap_rate=product.cap_rate, annual_rate=p.annual_rate,
                     terms=terms_out)
