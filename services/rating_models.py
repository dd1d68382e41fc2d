"""Rating models as versioned data: upload a scorecard or contribution model with its test cases (validated
field by field, every case must pass), activate it as a second person, and `active_models` — the one place
the real-time rating and the quarterly batch get the models in force from.

Until someone installs or uploads a version, the shipped defaults (domain.rating.model, with the test cases
in rules/NONG_E_DAI/) are in force; they are installed as version 1 by the seed or by the first upload.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from db.models import RatingModel
from db.repositories import rating_models as store
from domain.rating.checks import (
    CaseFailure,
    ContributionCase,
    ScorecardCase,
    check_contribution,
    check_scorecard,
)
from domain.rating.model import ContributionModel, CreditScorecard, default_scorecard
from services.clock import utcnow
from services.errors import ProblemError, field_error, not_found
from services.principal import Principal
from services.schemas.ratings import RatingModelIn, RatingModelSummary, RatingModelView

SCORECARD_CODE = "NONG_E_DAI_CREDIT"
CONTRIBUTION_CODE = "NONG_E_DAI_CONTRIBUTION"
KINDS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "scorecard": (CreditScorecard, ScorecardCase), "contribution": (ContributionModel, ContributionCase)}
CODE = re.compile(r"[A-Z][A-Z0-9_]{0,23}")  # so "CODE@v<version>" fits the records' 32 characters
ZH = {"missing": "必填字段", "int_parsing": "须为整数", "int_type": "须为整数", "decimal_parsing": "须为数字",
      "decimal_type": "须为数字", "bool_parsing": "须为true或false", "literal_error": "取值不在允许范围内",
      "list_type": "须为数组", "dict_type": "须为对象", "model_type": "须为对象", "string_too_long": "内容过长",
      "string_too_short": "内容过短", "greater_than_equal": "数值过小", "too_short": "条目过少", "extra_forbidden": "不允许的字段"}
_PARSED: dict[str, BaseModel] = {}  # checksum -> parsed model: a version's content never changes


def active_models(session: Session) -> tuple[CreditScorecard, ContributionModel]:
    """The credit scorecard and contribution model in force (the shipped defaults when none is installed)."""
    card = _active(session, SCORECARD_CODE, CreditScorecard) or default_scorecard()
    contrib = _active(session, CONTRIBUTION_CODE, ContributionModel) or ContributionModel()
    assert isinstance(card, CreditScorecard) and isinstance(contrib, ContributionModel)
    return card, contrib


def _active(session: Session, code: str, kind: type[BaseModel]) -> BaseModel | None:
    head = store.active_head(session, code)
    if head is None:
        return None
    model_id, digest = head
    parsed = _PARSED.get(digest)
    if parsed is None or not isinstance(parsed, kind):
        parsed = kind.model_validate(store.content(session, model_id))
        if len(_PARSED) < 256:
            _PARSED[digest] = parsed
    return parsed


def install_shipped(session: Session) -> int:
    return store.install_shipped(session, utcnow())


def upload(session: Session, principal: Principal, body: RatingModelIn) -> RatingModelView:
    model_type, _ = KINDS[body.kind]
    unknown = sorted(set(body.content) - set(model_type.model_fields))
    if unknown:  # e.g. a scorecard sent as a contribution model: its fields would be dropped silently
        raise _model_problem([field_error(f"content.{k}", "FIELD_EXTRA_FORBIDDEN", "不允许的字段",
                                          f"not a field of a {body.kind} model") for k in unknown])
    try:
        model = model_type.model_validate(body.content)
    except ValidationError as err:
        raise _model_problem(_field_errors(err, "content")) from err
    code = model.code  # type: ignore[attr-defined]
    if not CODE.fullmatch(code):
        raise _model_problem([field_error("content.code", "MODEL_CODE_FORMAT", "模型代码须为大写字母、数字和下划线,至多24位",
                                          "a model code is capital letters, digits and underscores, at most 24")])
    install_shipped(session)  # so an upload never takes a shipped model's code or version number
    if store.kind_of(session, code) not in (None, body.kind):
        raise _model_problem([field_error("content.code", "MODEL_CODE_KIND", "该模型代码已用于另一类模型",
                                          "this model code belongs to the other kind of model")])
    tests = _check(body.kind, model, body.tests)
    version = store.latest_version(session, code) + 1
    content = model.model_copy(update={"version": version}).model_dump(mode="json")
    row = store.insert(session, kind=body.kind, code=code, version=version, content=content, tests=tests,
                       note=body.note, by=principal.subject, now=utcnow())
    view = RatingModelView.of(row)
    session.commit()  # the view first: a session that expires on commit would leave it empty
    return view


def activate(session: Session, principal: Principal, model_id: int) -> RatingModelView:
    row = _model(session, model_id, lock=True)
    if row.status != "draft":
        raise ProblemError(409, "RATING_MODEL_NOT_DRAFT", "只有草稿状态的评级模型可以启用", "only a draft can be activated")
    if row.created_by == principal.subject:
        raise ProblemError(409, "MAKER_CHECKER", "评级模型须由上传人以外的人员启用",
                           "a rating model is activated by someone other than its uploader")
    model_type, _ = KINDS[row.kind]
    _check(row.kind, model_type.model_validate(row.content), row.tests)  # again: the engine may have changed
    store.activate(session, row, by=principal.subject, now=utcnow())
    view = RatingModelView.of(row)
    session.commit()  # the view first: a session that expires on commit would leave it empty
    return view


def listing(session: Session, *, kind: str | None, code: str | None, limit: int, offset: int) -> list[RatingModelSummary]:
    return [RatingModelSummary.of(r) for r in store.listing(session, kind=kind, code=code, limit=limit, offset=offset)]


def get(session: Session, model_id: int) -> RatingModelView:
    return RatingModelView.of(_model(session, model_id))


def _check(kind: str, model: BaseModel, tests: list[Any]) -> list[dict[str, Any]]:
    """Parse the test cases (422 naming `tests[i]...`) and run them; a failing case is a 422 naming it."""
    _, case_type = KINDS[kind]
    if not tests:
        raise ProblemError(422, "RATING_TESTS_MISSING", "评级模型须附带测试用例", "a rating model needs test cases", "tests",
                           [field_error("tests", "RATING_TESTS_MISSING", "至少需要一个测试用例", "at least one test case")])
    try:
        cases = [case_type.model_validate(t) for t in tests]
    except ValidationError as err:
        index = next(i for i, t in enumerate(tests) if not _valid(case_type, t))
        raise _invalid(err, f"tests[{index}]", "RATING_TEST_INVALID", "测试用例格式有误,请检查标出的字段",
                       "a test case is malformed; see errors") from err
    failures: list[CaseFailure]
    if isinstance(model, CreditScorecard):
        failures = check_scorecard(model, cases)  # type: ignore[arg-type]
    else:
        assert isinstance(model, ContributionModel)
        failures = check_contribution(model, cases)  # type: ignore[arg-type]
    if failures:
        errors = [field_error(f"tests[{f.index}]", "RATING_TEST_FAILED", f"测试用例「{f.name}」未通过:期望 {f.expected},实际 {f.got}",
                              f"test '{f.name}' failed: expected {f.expected}, got {f.got}") for f in failures]
        first = failures[0]
        raise ProblemError(422, "RATING_TEST_FAILED", f"测试用例「{first.name}」未通过", f"test '{first.name}' failed",
                           errors[0]["field"], errors, extra={"test": first.name})
    return [c.model_dump(mode="json", exclude_defaults=False) for c in cases]


def _valid(case_type: type[BaseModel], data: Any) -> bool:
    try:
        case_type.model_validate(data)
        return True
    except ValidationError:
        return False


def _model_problem(errors: list[dict[str, str]]) -> ProblemError:
    return ProblemError(422, "RATING_MODEL_INVALID", "评级模型有误,请检查标出的字段", "the rating model is invalid; see errors",
                        errors[0]["field"] if errors else "content", errors)


def _invalid(err: ValidationError, prefix: str, code: str, zh: str, en: str) -> ProblemError:
    errors = _field_errors(err, prefix)
    return ProblemError(422, code, zh, en, errors[0]["field"] if errors else prefix, errors)


def _field_errors(err: ValidationError, prefix: str) -> list[dict[str, str]]:
    # A validator's own message (bins out of order...) is the clearest reason; it is English only.
    return [field_error(_path(prefix, e["loc"]), f"FIELD_{e['type'].upper()}",
                        ZH.get(e["type"], "取值无效") + f"({e['msg']})", e["msg"]) for e in err.errors()]


def _path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).startswith(("function-", "tuple[", "list[", "dict[")) or "[" in str(part):
            continue  # pydantic's name for a validator or container, not a field
        else:
            path += f".{part}"
    return path


def _model(session: Session, model_id: int, *, lock: bool = False) -> RatingModel:
    row = store.get(session, model_id, lock=lock)
    if row is None:
        raise not_found("RATING_MODEL", "未找到该评级模型", "rating model not found", "model_id")
    return row
