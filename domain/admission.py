"""Admission (准入): may this customer borrow on this product at all, whatever they ask for?

Customer-level eligibility, decided before acceptance looks at the application itself: the customer type
the product serves, the age window, the region served, the blacklist and the court's list of dishonest
debtors, a valid resident ID, no other open application. The conditions are the product's admission rule
set (by default `rules/NONG_E_DAI/admission.json`); this module gives it the facts it reads and turns its
refusal codes into Chinese and English text with the product's figures.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from domain import acceptance, rules
from domain.identity import age_on
from domain.products import ProductTerms
from domain.refusals import Refusal


class CustomerFacts(BaseModel):
    customer_type: str
    birth_date: date
    residence_region: str
    blacklisted: bool = False
    court_dishonest: bool = False
    id_problem: str | None = None  # the resident ID check's code (e.g. ID_CHECKSUM), None when valid
    other_open_applications: int = 0


def rule_facts(facts: CustomerFacts, product: ProductTerms, as_of: date) -> dict[str, Any]:
    """What the admission rule set reads: flags and codes, never the ID number or the name."""
    future = facts.birth_date > as_of
    return {
        "customer_type": facts.customer_type,
        "age": 0 if future else max(age_on(facts.birth_date, as_of), 0),
        "birth_in_future": future,
        "residence_region": facts.residence_region,
        "blacklisted": facts.blacklisted,
        "court_dishonest": facts.court_dishonest,
        "id_problem": facts.id_problem,
        "other_open_applications": facts.other_open_applications,
        "product": {"customer_types": list(product.customer_types), "min_age": product.min_age,
                    "max_age": product.max_age, "region_prefixes": list(product.region_prefixes)},
    }


TEXTS: dict[str, tuple[str, str]] = {
    "CUSTOMER_TYPE_NOT_SERVED": ("本产品不面向该类客户", "the product does not serve this type of customer"),
    "ADMISSION_BLACKLIST": ("已列入本社黑名单", "on the cooperative's blacklist"),
    "ADMISSION_COURT_LIST": ("已被列入失信被执行人名单", "on the court's list of dishonest judgment debtors"),
}


def refusal(code: str, facts: dict[str, Any], field: str | None = None) -> Refusal | None:
    """Text for an admission-only code; None for codes acceptance shares (age, region, ID, open application)."""
    if code not in TEXTS:
        return None
    zh, en = TEXTS[code]
    if code == "CUSTOMER_TYPE_NOT_SERVED" and facts.get("customer_type"):
        en += f" ({facts['customer_type']})"
    return Refusal(code=code, zh=zh, en=en, field=field)


def refusals(result: dict[str, Any], facts: dict[str, Any]) -> list[Refusal]:
    """The rule set's refusals, in its order, with text; `facts` are the ones it was given."""
    out = []
    for r in result.get("refusals", []):
        code, field = str(r["code"]), r.get("field")
        out.append(refusal(code, facts, field) or acceptance.refusal(code, facts, field))
    return out


def check_admission(facts: CustomerFacts, product: ProductTerms, as_of: date, *,
                    rule_set: dict[str, Any]) -> list[Refusal]:
    """Every admission refusal that applies, by the given rule set."""
    inputs = rule_facts(facts, product, as_of)
    return refusals(rules.evaluate(rule_set, inputs).result, inputs)


def outcome(result: dict[str, Any]) -> tuple[str, list[str]]:
    """(admit | reject, reason codes) from the rule set's result."""
    codes = [str(r["code"]) for r in result["refusals"]]
    return ("reject" if codes else "admit"), codes
