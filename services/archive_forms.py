"""Reading an archive form: every refused field in one 422, whether its type, its value, its code or its
relation to other fields is wrong, so a collector on a tablet fixes the form in one pass."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.archive import CodeBook, MemberFacts, Problem, household_problems
from domain.identity import IdProblem, normalise_resident_id
from services.errors import ProblemError, field_error

M = TypeVar("M", bound=BaseModel)

# zh for pydantic's own error types that an archive form can produce; our field types carry their own text.
_PYDANTIC_ZH = {
    "missing": "必填字段", "extra_forbidden": "不允许的字段", "literal_error": "取值不在允许范围内",
    "int_parsing": "须为整数", "int_type": "须为整数", "int_from_float": "须为整数",
    "bool_parsing": "须为true或false", "bool_type": "须为true或false", "string_type": "须为文本",
    "string_too_short": "内容过短", "string_too_long": "内容过长", "too_long": "条目过多",
    "greater_than_equal": "数值过小", "less_than_equal": "数值过大", "date_parsing": "日期格式应为YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为YYYY-MM-DD", "date_type": "日期格式应为YYYY-MM-DD",
    "model_type": "须为对象", "model_attributes_type": "须为对象", "dict_type": "须为对象", "list_type": "须为数组",
}


def path_of(loc: tuple[Any, ...]) -> str:
    """('members', 0, 'resident_id') -> 'members[0].resident_id'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).startswith("function-"):
            continue  # pydantic's name for a validator, not a field
        else:
            path += f".{part}" if path else str(part)
    return path


def _entry(err: Mapping[str, Any]) -> dict[str, str]:
    ctx = err.get("ctx") or {}
    kind = str(err.get("type", "value_error"))
    if "zh" in ctx:
        return field_error(path_of(err["loc"]), kind.upper(), str(ctx["zh"]), str(err.get("msg", "")))
    return field_error(path_of(err["loc"]), f"FIELD_{kind.upper()}", _PYDANTIC_ZH.get(kind, "字段值无效"),
                       str(err.get("msg", "invalid value")))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _member_facts(raw: object) -> list[MemberFacts]:
    facts = []
    for m in raw if isinstance(raw, list) else []:
        rid = m.get("resident_id") if isinstance(m, dict) else None
        try:
            rid = normalise_resident_id(rid) if isinstance(rid, str) else None
        except IdProblem:
            rid = None  # already refused field by field
        facts.append(MemberFacts(resident_id=rid, is_labour=isinstance(m, dict) and m.get("is_labour") is True))
    return facts


def cross_field(raw: Mapping[str, Any], head_resident_id: str | None) -> list[Problem]:
    """Checks across fields, read leniently from the raw body so they run even when other fields are refused."""
    return household_problems(member_count=_int(raw.get("member_count")), labour_count=_int(raw.get("labour_count")),
                              members=_member_facts(raw.get("members")), head_resident_id=head_resident_id)


def parse(model: type[M], raw: object, *, today: date, codes: CodeBook, head_resident_id: str | None = None) -> M:
    """The validated body, or a ProblemError listing every refused field (path, code, zh, en)."""
    if not isinstance(raw, dict):
        raise ProblemError(422, "VALIDATION_FAILED", "请求体须为JSON对象", "the body must be a JSON object", None,
                           [field_error("", "FIELD_MODEL_TYPE", "须为对象", "must be an object")])
    errors: list[dict[str, str]] = []
    parsed: M | None = None
    try:
        parsed = model.model_validate(raw, context={"today": today, "codes": codes})
    except ValidationError as exc:
        errors.extend(_entry(e) for e in exc.errors(include_url=False))
    errors.extend(field_error(p.field, p.code, p.zh, p.en) for p in cross_field(raw, head_resident_id))
    if errors or parsed is None:
        raise ProblemError(422, "VALIDATION_FAILED", "档案内容有误,请检查标出的字段", "some fields are invalid; see errors",
                           errors[0]["field"] if errors else None, errors)
    return parsed
