"""How complete an archive is, and exactly what is missing (信息不完整提醒), in the order the form asks for it.

Each check is one item of the form; the score is the share of items present, 0-100. Items marked
`required` must be present before the archive can be submitted; the others only lower the score.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class ArchiveFacts:
    head_mobile: bool
    head_address: bool
    manager_assigned: bool
    member_count: int
    members_listed: int
    main_business: str
    business_years: int
    production_items: int
    income_items: int
    expense_items: int
    asset_items: int
    image_kinds: Collection[str]


@dataclass(frozen=True)
class Missing:
    field: str
    zh: str
    en: str
    required: bool


@dataclass(frozen=True)
class Completeness:
    score: int
    missing: list[Missing]

    @property
    def submittable(self) -> bool:
        return not any(m.required for m in self.missing)


def _checks(f: ArchiveFacts) -> list[tuple[bool, Missing]]:
    return [
        (f.head_mobile, Missing("head.mobile", "户主手机号", "the head's mobile number", True)),
        (f.head_address, Missing("head.address", "户主居住地址", "the head's residence address", False)),
        (f.manager_assigned, Missing("manager_staff_id", "管户客户经理", "the assigned customer manager", True)),
        (f.members_listed >= f.member_count - 1,
         Missing("members", "家庭成员信息(人数与家庭人口不符)", "the household members (fewer listed than the member count)",
                 True)),
        # Wage earners have no farm or business to list; everyone else does.
        (f.production_items > 0 or f.main_business == "wage",
         Missing("production", "生产经营信息", "production and operation items", True)),
        (f.business_years > 0 or f.main_business == "wage",
         Missing("business_years", "从业年限", "years in the current farm or business", False)),
        (f.income_items > 0, Missing("finance.income", "家庭收入", "family income", True)),
        (f.expense_items > 0, Missing("finance.expense", "家庭支出", "family expenses", True)),
        (f.asset_items > 0, Missing("finance.asset", "家庭资产", "family assets", True)),
        ("id_front" in f.image_kinds, Missing("images.id_front", "身份证人像面影像", "ID card photo (portrait side)", True)),
        ("id_back" in f.image_kinds, Missing("images.id_back", "身份证国徽面影像", "ID card photo (emblem side)", True)),
        ("house" in f.image_kinds, Missing("images.house", "住房照片", "a photo of the house", False)),
    ]


def completeness(facts: ArchiveFacts) -> Completeness:
    checks = _checks(facts)
    missing = [m for present, m in checks if not present]
    score = round(100 * (len(checks) - len(missing)) / len(checks))
    return Completeness(score=score, missing=missing)
