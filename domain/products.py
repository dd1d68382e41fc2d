"""Product terms: the bounds and knobs a cooperative sets for a loan product (农e贷 by default)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from domain.servicing import parse_order

RepaymentMethod = Literal["equal_installment", "equal_principal", "interest_monthly", "interest_quarterly", "bullet"]
GuaranteeType = Literal["credit", "guaranteed"]
Channel = Literal["self_service", "staff_proxy", "whitelist"]
NonNegative = Annotated[Decimal, Field(ge=0)]
Fraction = Annotated[Decimal, Field(ge=0, le=1)]

REPAYMENT_METHOD_ZH: dict[str, str] = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_monthly": "按月付息到期还本",
    "interest_quarterly": "按季付息到期还本",
    "bullet": "利随本清",
}


class ProductTerms(BaseModel):
    code: str
    version: int = 1
    name: str
    min_amount: Decimal = Decimal("1000")
    max_amount: Decimal = Decimal("300000")
    min_term_months: int = 1
    max_term_months: int = 36
    repayment_methods: list[RepaymentMethod] = ["equal_installment", "equal_principal", "interest_monthly",
                                                "interest_quarterly", "bullet"]
    guarantee_types: list[GuaranteeType] = ["credit", "guaranteed"]
    max_guarantors: int = 2
    min_age: int = 18
    max_age: int = 65
    region_prefixes: list[str] = Field(default_factory=lambda: ["35"], description="residence region codes served")
    line_validity_months: int = 36
    revolving: bool = True
    limit_coefficient: Decimal = Decimal("1.0")
    credit_cap: Decimal = Decimal("200000")
    guaranteed_cap: Decimal = Decimal("300000")
    lpr_tenor: Literal["1Y", "5Y"] = "1Y"
    spread_bp: dict[str, int] = Field(default_factory=lambda: {"credit": 200, "guaranteed": 150})
    grade_adjust_bp: dict[str, int] = Field(default_factory=lambda: {"AAA": -30, "AA": -20, "A": 0, "B": 30})
    floor_rate: Decimal = Decimal("0.0300")
    cap_rate: Decimal = Decimal("0.1000")
    bullet_max_months: int = 12
    penalty_markup: Decimal = Field(default=Decimal("0.50"), ge=Decimal("0.30"), le=Decimal("0.50"),
                                    description="罚息 = contract rate x (1 + markup); 复利 at the same rate")
    allocation_order: str = Field(default="penalty,compound,interest,principal",
                                  description="how a repayment is split between what is owed")
    auto_approve_max: Decimal = Decimal("100000")
    auto_approve_grades: list[str] = ["AAA", "AA", "A"]
    approval_sla_hours: int = 24
    guarantor_deadline_hours: int = 72
    replacement_deadline_hours: int = 168
    confirmation_deadline_hours: int = 24
    signing_deadline_hours: int = 72
    # The borrower signs each drawdown's note (借据) before the money moves; unsigned by then, it is cancelled.
    note_signing_deadline_hours: int = 24
    referral_deadline_hours: int = 168
    # Issue 3: who the product serves, how far each role may approve, and the limit formula's knobs
    # (min(cap, (net assets x asset weight + income x income weight) x grade factor x coefficient)).
    customer_types: list[str] = Field(default_factory=lambda: ["farmer", "individual_business", "salaried"],
                                      description="customer types served; admission refuses the others")
    approval_authority: dict[str, NonNegative] = Field(
        default_factory=lambda: {"customer_manager": Decimal("0"), "approver": Decimal("100000"),
                                 "county_approver": Decimal("300000")},
        description="the most each role may approve on this product; a staff member's own limit may be lower")
    grade_factors: dict[str, Fraction] = Field(default_factory=lambda: {
        "AAA": Decimal("1.0"), "AA": Decimal("0.8"), "A": Decimal("0.6"), "B": Decimal("0.3"), "C": Decimal("0")})
    limit_asset_weight: Decimal = Field(default=Decimal("0.3"), ge=0, le=10)
    limit_income_weight: Decimal = Field(default=Decimal("1.0"), ge=0, le=10)
    # Pricing adjustments in basis points, read by the pricing rule set: customer type, contribution stars
    # ("5": five stars) and policy tags (e.g. credit_village); a customer without stars gets no star term.
    customer_type_adjust_bp: dict[str, int] = Field(default_factory=dict)
    star_adjust_bp: dict[str, int] = Field(default_factory=lambda: {"4": -10, "5": -20, "6": -30, "7": -40})
    tag_adjust_bp: dict[str, int] = Field(default_factory=lambda: {"credit_village": -20})

    @field_validator("allocation_order")
    @classmethod
    def _known_buckets(cls, order: str) -> str:
        return ",".join(parse_order(order))

    def cap_for(self, guarantee_type: str) -> Decimal:
        return self.guaranteed_cap if guarantee_type == "guaranteed" else self.credit_cap

    def authority_limit(self, role: str, staff_limit: Decimal | None) -> Decimal | None:
        """The lower of a staff member's own limit and the product's for their role (`county_approver` for an
        approver of the county branch); None when the staff limit is unknown."""
        if staff_limit is None:
            return None
        return min(staff_limit, self.approval_authority.get(role, staff_limit))


def nongedai_default() -> ProductTerms:
    """The seeded 农e贷 product (illustrative defaults from DOMAIN.md)."""
    return ProductTerms(code="NONG_E_DAI", name="农e贷")
