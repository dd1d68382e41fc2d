"""The household archive's rules (农户建档): the form's vocabularies, values a collector may type, checks across
fields, the totals the archive derives from its items, and masking for the change history.

Pure: no I/O, no clock (callers pass `as_of`). Code tables that live in the database (villages, crops, livestock,
business kinds) arrive as a `CodeBook`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from domain.identity import mask_mobile, mask_name, mask_resident_id

RELATIONS: Mapping[str, str] = {"spouse": "配偶", "child": "子女", "parent": "父母", "sibling": "兄弟姐妹",
                                "grandchild": "孙辈", "other": "其他"}
MAIN_BUSINESS: Mapping[str, str] = {"crop": "种植", "livestock": "养殖", "aquaculture": "水产", "business": "个体经营",
                                    "wage": "务工", "other": "其他"}
PRODUCTION_KINDS: Mapping[str, str] = {"crop": "种植", "livestock": "养殖", "business": "经营"}
FINANCE_KINDS: Mapping[str, Mapping[str, str]] = {
    "income": {"crop": "种植收入", "livestock": "养殖收入", "business": "经营收入", "wage": "务工收入",
               "subsidy": "补贴收入", "other": "其他收入"},
    "expense": {"production": "生产支出", "living": "生活支出", "education": "教育支出", "medical": "医疗支出",
                "other": "其他支出"},
    "asset": {"house": "房产", "vehicle": "车辆", "machinery": "农机具", "livestock": "存栏牲畜", "deposit": "存款",
              "other": "其他资产"},
    "liability": {"bank_loan": "银行贷款", "private_loan": "民间借款", "credit_card": "信用卡", "other": "其他负债"},
}
IMAGE_KINDS: Mapping[str, str] = {"id_front": "身份证人像面", "id_back": "身份证国徽面", "house": "住房照片",
                                  "land": "土地照片", "livestock": "养殖照片", "business": "经营场所照片",
                                  "other": "其他影像"}

MAX_MEASURE = Decimal("100000000")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")
_TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    """One refused field: its path in the archive body, a stable code, Chinese and English text."""

    field: str
    code: str
    zh: str
    en: str


class ValueProblem(ValueError):
    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{code}: {en}")
        self.code, self.zh, self.en = code, zh, en


def parse_measure(raw: object, *, what: str = "数量") -> Decimal:
    """A non-negative quantity or acreage with at most two decimals, typed as text or a whole number.

    Floats are refused like amounts are: 12.3 as a JSON number may already have lost its exact value."""
    if isinstance(raw, bool) or isinstance(raw, float):
        raise ValueProblem("MEASURE_NOT_STRING", f"{what}请以字符串传递,例如 \"12.5\"", "send this value as a decimal string, e.g. \"12.5\"")
    text = unicodedata.normalize("NFKC", str(raw)).strip() if isinstance(raw, int | str) else None
    if text is None:
        raise ValueProblem("MEASURE_FORMAT", f"{what}须为数字", "this value must be a number")
    if text.startswith("-") and _PLAIN.match(text[1:]):
        raise ValueProblem("MEASURE_NEGATIVE", f"{what}不能为负数", "this value cannot be negative")
    if not _PLAIN.match(text):
        raise ValueProblem("MEASURE_FORMAT", f"{what}须为数字", "this value must be a number")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueProblem("MEASURE_FORMAT", f"{what}须为数字", "this value must be a number") from exc
    if value != value.quantize(_TWO_PLACES):
        raise ValueProblem("MEASURE_PRECISION", f"{what}最多两位小数", "at most two decimals")
    if value > MAX_MEASURE:
        raise ValueProblem("MEASURE_TOO_LARGE", f"{what}超出合理范围", "this value is implausibly large")
    return value.quantize(_TWO_PLACES)


def birth_date_problem(birth: date, as_of: date) -> ValueProblem | None:
    if birth > as_of:
        return ValueProblem("BIRTH_DATE_FUTURE", "出生日期不能晚于今天", "the birth date is in the future")
    if birth.year < as_of.year - 120:
        return ValueProblem("BIRTH_DATE_TOO_OLD", "出生日期早于120年前", "the birth date is more than 120 years ago")
    return None


@dataclass(frozen=True)
class CodeBook:
    """The code tables the archive form refers to, as loaded from the database."""

    villages: frozenset[str] = frozenset()
    production: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def unknown_production(self, kind: str, code: str) -> ValueProblem | None:
        if code in self.production.get(kind, frozenset()):
            return None
        what = {"crop": ("CROP_UNKNOWN", "作物代码不存在", "unknown crop code"),
                "livestock": ("LIVESTOCK_UNKNOWN", "畜禽代码不存在", "unknown livestock code"),
                "business": ("BUSINESS_KIND_UNKNOWN", "经营类别代码不存在", "unknown business kind code")}
        code_, zh, en = what.get(kind, ("PRODUCTION_KIND_UNKNOWN", "生产经营类别不存在", "unknown production kind"))
        return ValueProblem(code_, zh, en)

    def unknown_village(self, code: str) -> ValueProblem | None:
        if code in self.villages:
            return None
        return ValueProblem("VILLAGE_UNKNOWN", "行政村代码不存在", "unknown village code")


def unknown_finance_kind(category: str, kind: str) -> ValueProblem | None:
    if kind in FINANCE_KINDS.get(category, {}):
        return None
    return ValueProblem("FINANCE_KIND_UNKNOWN", "收支或资产负债类别不存在", "unknown kind for this category")


@dataclass(frozen=True)
class MemberFacts:
    resident_id: str | None
    is_labour: bool


def household_problems(*, member_count: int | None, labour_count: int | None, members: list[MemberFacts],
                       head_resident_id: str | None) -> list[Problem]:
    """Checks across fields: labourers within members, the listed members within the count, no person twice."""
    problems: list[Problem] = []
    if member_count is not None and labour_count is not None and labour_count > member_count:
        problems.append(Problem("labour_count", "LABOUR_EXCEEDS_MEMBERS", "劳动力人数不能多于家庭人口",
                                "the labour count cannot exceed the member count"))
    if member_count is not None and len(members) > member_count - 1:
        problems.append(Problem("members", "MEMBERS_EXCEED_COUNT", "列出的家庭成员(不含户主)多于家庭人口减一",
                                "more members are listed (besides the head) than the member count allows"))
    if labour_count is not None and sum(m.is_labour for m in members) > labour_count:
        problems.append(Problem("labour_count", "LABOUR_BELOW_LISTED", "劳动力人数少于标为劳动力的成员",
                                "fewer labourers than the members marked as labour"))
    seen = {head_resident_id} if head_resident_id else set()
    for i, m in enumerate(members):
        if m.resident_id is None:
            continue
        if m.resident_id in seen:
            problems.append(Problem(f"members[{i}].resident_id", "MEMBER_DUPLICATE_ID", "同一身份证号在档案中出现多次",
                                    "this resident ID appears twice in the archive"))
        seen.add(m.resident_id)
    return problems


@dataclass(frozen=True)
class ProductionFacts:
    kind: str
    quantity: Decimal
    acreage_mu: Decimal


@dataclass(frozen=True)
class FinanceFacts:
    category: str
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    """The household's aggregate columns, always the sums of its items."""

    acreage_mu: Decimal
    livestock_heads: int
    annual_income: Decimal
    annual_expenses: Decimal
    total_assets: Decimal
    total_liabilities: Decimal


def totals(production: Iterable[ProductionFacts], finance: Iterable[FinanceFacts]) -> Totals:
    production, finance = list(production), list(finance)

    def money(category: str) -> Decimal:
        return sum((f.amount for f in finance if f.category == category), Decimal("0.00"))

    heads = sum((p.quantity for p in production if p.kind == "livestock"), Decimal("0"))
    # Heads are whole animals; a fractional quantity of livestock is a unit problem the collector sees in the item.
    return Totals(acreage_mu=sum((p.acreage_mu for p in production), Decimal("0.00")),
                  livestock_heads=int(heads), annual_income=money("income"), annual_expenses=money("expense"),
                  total_assets=money("asset"), total_liabilities=money("liability"))


# ---- Masking personal data in the change history --------------------------------------------------------------

_PERSONAL_LEAVES = ("name", "resident_id", "mobile", "birth_date", "address")


def is_personal(path: str) -> bool:
    """Member and head identity fields; everything else in the archive is about the farm and its money."""
    leaf = path.rsplit(".", 1)[-1]
    return leaf in _PERSONAL_LEAVES


def mask_for_history(path: str, value: str | None) -> str | None:
    if not value or not is_personal(path):
        return value  # nothing to hide in an empty value
    leaf = path.rsplit(".", 1)[-1]
    if leaf == "name":
        return mask_name(value)
    if leaf == "resident_id":
        return mask_resident_id(value)
    if leaf == "mobile":
        return mask_mobile(value)
    if leaf == "birth_date":
        return value[:4] + "-**-**"
    return "***"


def diff(old: Mapping[str, str | None], new: Mapping[str, str | None]) -> list[tuple[str, str | None, str | None]]:
    """(path, old, new) for every path whose value changed, masked, in a stable order."""
    changes = []
    for path in sorted(set(old) | set(new), key=_path_key):
        before, after = old.get(path), new.get(path)
        if before != after:
            changes.append((path, mask_for_history(path, before), mask_for_history(path, after)))
    return changes


def _path_key(path: str) -> tuple:
    # members[10] after members[9]: compare the numbers inside brackets as numbers.
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[\[\]]", path))
