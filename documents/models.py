"""The data each contract needs, validated so that a bad or missing term refuses to render."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from domain.identity import IdProblem, normalise_mobile, normalise_resident_id
from domain.products import GuaranteeType, RepaymentMethod

BP = Decimal("0.0001")
# DOMAIN.md allows a 30%..50% markup for overdue principal and 50%..100% for misused funds; the
# contract states the top of each range, the terms this product's cooperative signs.
PENALTY_FACTOR = Decimal("1.5")
MISUSE_FACTOR = Decimal("2")


def _no_float(value: Any) -> Any:
    # A float has already lost the exact figure; refuse it rather than print a rounded guess.
    if isinstance(value, float):
        raise ValueError("money and rates must be Decimal or str, never float")
    return value


def _canonical(normalise: Any) -> Any:
    def check(value: str) -> str:
        try:
            canonical = normalise(value)
        except IdProblem as exc:
            raise ValueError(f"{exc.code}: {exc.en}") from exc
        if canonical != value:
            raise ValueError(f"not in canonical form (expected {canonical!r})")
        return value

    return check


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Money = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, decimal_places=2)]
Rate = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, lt=1, decimal_places=6)]
ResidentId = Annotated[str, AfterValidator(_canonical(normalise_resident_id))]
Mobile = Annotated[str, AfterValidator(_canonical(normalise_mobile))]
# https in production; plain http is what a developer's machine serves the verification page on.
VerifyUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(_Frozen):
    """A natural person signing: borrower or guarantor. `address` is also the service address."""

    name: Text
    resident_id: ResidentId
    mobile: Mobile
    address: Text


class Lender(_Frozen):
    cooperative_name: Text
    branch_name: Text
    address: Text


class SpreadTerm(_Frozen):
    """One term of the spread as the customer's price breakdown shows it (e.g. 信用等级 AA 利率调整, -20 bp)."""

    label: Text
    bp: int = Field(ge=-2000, le=2000)


class LoanContractData(_Frozen):
    """Terms of one 借款合同. Rates are fractions (0.05 = 5%), as in domain.pricing."""

    contract_no: Text
    app_no: Text
    # None until signing: the contract then reads that the e-signature time is the signing date.
    signed_on: date | None
    lender: Lender
    borrower: Party
    amount: Money
    term_months: int = Field(ge=1, le=360)
    repayment_method: RepaymentMethod
    purpose: Text
    lpr: Rate
    lpr_tenor: Literal["1Y", "5Y"]
    lpr_date: date
    spread_bp: int = Field(ge=-1000, le=2000)
    # What the spread is made of (base spread by guarantee type, each adjustment, a floor or cap), when known.
    spread_terms: list[SpreadTerm] = Field(default_factory=list, max_length=12)
    repricing: Literal["fixed", "yearly"]
    annual_rate: Rate
    guarantee_type: GuaranteeType
    guarantors: list[Party] = Field(max_length=2)
    line_expiry: date
    # Revolving: repaid principal can be drawn again; else the line is used up by what was drawn.
    revolving: bool
    disbursement_account: Annotated[str, StringConstraints(pattern=r"^\d{12,30}$")]
    verify_url: VerifyUrl

    @model_validator(mode="after")
    def _consistent(self) -> LoanContractData:
        # The contract prints "LPR + spread = rate": the three figures must agree exactly.
        if self.lpr + self.spread_bp * BP != self.annual_rate:
            raise ValueError(f"lpr {self.lpr} + {self.spread_bp}bp != annual_rate {self.annual_rate}")
        if self.spread_terms and sum(t.bp for t in self.spread_terms) != self.spread_bp:
            raise ValueError(f"the spread's terms do not add up to {self.spread_bp}bp")
        if self.guarantee_type == "credit" and self.guarantors:
            raise ValueError("a credit loan has no guarantors")
        if self.guarantee_type == "guaranteed" and not self.guarantors:
            raise ValueError("a guaranteed loan needs at least one guarantor")
        if self.signed_on is not None and self.line_expiry <= self.signed_on:
            raise ValueError("the credit line must expire after the signing date")
        return self

    @property
    def penalty_rate(self) -> Decimal:
        return self.annual_rate * PENALTY_FACTOR

    @property
    def misuse_rate(self) -> Decimal:
        return self.annual_rate * MISUSE_FACTOR


class GuaranteeContractData(_Frozen):
    """Terms of one guarantor's 保证合同 (连带责任保证) for one main loan contract."""

    contract_no: Text
    loan_contract_no: Text
    signed_on: date | None
    lender: Lender
    guarantor: Party
    borrower_name: Text
    amount: Money
    term_months: int = Field(ge=1, le=360)
    annual_rate: Rate
    line_expiry: date
    guarantee_period_months: int = Field(ge=6, le=60)
    # Other guarantors of the same debt, named so each knows the guarantee is not theirs alone.
    co_guarantors: list[Text] = Field(max_length=1)
    # None: liable for the whole debt, jointly with any co-guarantor; else this guarantor's share.
    share: Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, lt=1, decimal_places=4)] | None
    verify_url: VerifyUrl

    @model_validator(mode="after")
    def _consistent(self) -> GuaranteeContractData:
        if self.share is not None and not self.co_guarantors:
            raise ValueError("a guarantee share needs a co-guarantor to carry the rest")
        return self


Amount = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, decimal_places=2)]


class ScheduleRow(_Frozen):
    """One installment as printed: what is due on which day."""

    period: int = Field(ge=1)
    due_date: date
    principal: Amount
    interest: Amount

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


class LoanNoteData(_Frozen):
    """One drawdown's 借款借据 and its 还款计划表: the note's own amount, dates, rate and schedule."""

    note_no: Text
    contract_no: Text
    line_no: Text
    lender: Lender
    borrower: Party
    amount: Money
    term_months: int = Field(ge=1, le=360)
    start_date: date
    maturity_date: date
    repayment_method: RepaymentMethod
    purpose: Text
    lpr: Rate
    lpr_tenor: Literal["1Y", "5Y"]
    lpr_date: date
    spread_bp: int = Field(ge=-1000, le=2000)
    # The spread as priced on the drawdown date, term by term (as on the contract), when known.
    spread_terms: list[SpreadTerm] = Field(default_factory=list, max_length=12)
    annual_rate: Rate
    disbursement_account: Annotated[str, StringConstraints(pattern=r"^\d{12,30}$")]
    schedule: list[ScheduleRow] = Field(min_length=1, max_length=360)
    verify_url: VerifyUrl

    @model_validator(mode="after")
    def _consistent(self) -> LoanNoteData:
        if self.lpr + self.spread_bp * BP != self.annual_rate:
            raise ValueError(f"lpr {self.lpr} + {self.spread_bp}bp != annual_rate {self.annual_rate}")
        if self.spread_terms and sum(t.bp for t in self.spread_terms) != self.spread_bp:
            raise ValueError(f"the spread's terms do not add up to {self.spread_bp}bp")
        if self.maturity_date <= self.start_date:
            raise ValueError("the note must mature after it starts")
        # The printed schedule must repay exactly the note, in order, ending on the maturity date.
        if [r.period for r in self.schedule] != list(range(1, len(self.schedule) + 1)):
            raise ValueError("schedule periods must run 1, 2, 3, ...")
        dues = [r.due_date for r in self.schedule]
        if dues != sorted(set(dues)) or dues[0] <= self.start_date:
            raise ValueError("due dates must be after the start and strictly increasing")
        if sum((r.principal for r in self.schedule), Decimal("0")) != self.amount:
            raise ValueError("the schedule's principal does not add up to the note's amount")
        if dues[-1] < self.maturity_date:
            raise ValueError("the last installment falls before the maturity date")
        return self

    @property
    def total_interest(self) -> Decimal:
        return sum((r.interest for r in self.schedule), Decimal("0"))

    @property
    def total_repayment(self) -> Decimal:
        return self.amount + self.total_interest

    def balances(self) -> list[Decimal]:
        """Principal still owed after each installment."""
        left, out = self.amount, []
        for row in self.schedule:
            left -= row.principal
            out.append(left)
        return out
