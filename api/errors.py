"""Every error as one problem+json shape (RFC 9457 plus code, zh, en, field, errors), so refusals are never 500s."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.identity import IdProblem
from services.errors import ProblemError, field_error
from services.gateway import TemporalUnavailable
from services.temporal_errors import problem_from_temporal

__all__ = ["ProblemError", "install", "problem_for", "problem_response", "responses"]

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})

# zh/en for pydantic's own error types; our field types carry their own text (services.fields).
_PYDANTIC: dict[str, tuple[str, str]] = {
    "missing": ("必填字段", "this field is required"),
    "json_invalid": ("请求体不是有效的JSON", "the body is not valid JSON"),
    "extra_forbidden": ("不允许的字段", "this field is not allowed"),
    "literal_error": ("取值不在允许范围内", "the value is not one of the allowed values"),
    "enum": ("取值不在允许范围内", "the value is not one of the allowed values"),
    "int_parsing": ("须为整数", "must be an integer"),
    "int_type": ("须为整数", "must be an integer"),
    "int_from_float": ("须为整数", "must be an integer"),
    "bool_parsing": ("须为true或false", "must be true or false"),
    "bool_type": ("须为true或false", "must be true or false"),
    "string_type": ("须为文本", "must be a string"),
    "string_too_short": ("内容过短", "too short"),
    "string_too_long": ("内容过长", "too long"),
    "string_pattern_mismatch": ("格式不正确", "the format is wrong"),
    "too_short": ("条目过少", "too few items"),
    "too_long": ("条目过多", "too many items"),
    "greater_than": ("数值过小", "the value is too small"),
    "greater_than_equal": ("数值过小", "the value is too small"),
    "less_than": ("数值过大", "the value is too large"),
    "less_than_equal": ("数值过大", "the value is too large"),
    "date_parsing": ("日期格式应为YYYY-MM-DD", "dates are YYYY-MM-DD"),
    "date_from_datetime_parsing": ("日期格式应为YYYY-MM-DD", "dates are YYYY-MM-DD"),
    "model_type": ("须为对象", "must be an object"),
    "model_attributes_type": ("须为对象", "must be an object"),
    "dict_type": ("须为对象", "must be an object"),
    "list_type": ("须为数组", "must be an array"),
}


def problem_response(problem: ProblemError) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, headers=problem.headers, media_type=MEDIA_TYPE)


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'guarantors', 0, 'resident_id') -> 'guarantors[0].resident_id'."""
    parts = list(loc)
    if parts and parts[0] in LOCATIONS:
        parts = parts[1:] or parts
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in str(part) or str(part).startswith("function-"):
            continue  # pydantic's name for a validator, not a field
        else:
            path += f".{part}" if path else str(part)
    return path


def _validation_problem(exc: RequestValidationError) -> ProblemError:
    errors = []
    for err in exc.errors():
        kind = err.get("type", "value_error")
        ctx = err.get("ctx") or {}
        if "zh" in ctx:
            code, zh, en = kind.upper(), str(ctx["zh"]), str(err.get("msg", ""))
        else:
            zh, en = _PYDANTIC.get(kind, ("字段值无效", str(err.get("msg", "invalid value"))))
            code = f"FIELD_{kind.upper()}"
        errors.append(field_error(field_path(err.get("loc", ())), code, zh, en))
    first = errors[0] if errors else None
    return ProblemError(422, "VALIDATION_FAILED", "请求内容有误,请检查标出的字段", "some fields are invalid; see errors",
                        first["field"] if first else None, errors)


def _id_problem(exc: IdProblem) -> ProblemError:
    # Raised outside request validation, the code still tells which kind of identifier it was.
    field = "mobile" if exc.code.startswith("MOBILE") else "resident_id"
    return ProblemError(422, exc.code, exc.zh, exc.en, field, [field_error(field, exc.code, exc.zh, exc.en)])


def _http_problem(exc: StarletteHTTPException) -> ProblemError:
    known = {
        401: ("NOT_AUTHENTICATED", "请先登录", "authentication required"),
        403: ("FORBIDDEN", "无权执行此操作", "not allowed"),
        404: ("NOT_FOUND", "请求的地址不存在", "no such resource"),
        405: ("METHOD_NOT_ALLOWED", "不支持该请求方法", "method not allowed"),
    }
    code, zh, en = known.get(exc.status_code, ("HTTP_ERROR", "请求无法处理", str(exc.detail)))
    return ProblemError(exc.status_code, code, zh, en, headers=dict(exc.headers or {}))


def problem_for(exc: BaseException) -> ProblemError | None:
    """The problem an exception stands for, or None for a bug."""
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, RequestValidationError):
        return _validation_problem(exc)
    if isinstance(exc, IdProblem):
        return _id_problem(exc)
    if isinstance(exc, StarletteHTTPException):
        return _http_problem(exc)
    return problem_from_temporal(exc)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    problem = problem_for(exc)
    if problem is None:
        return await _unexpected(request, exc)
    return problem_response(problem)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Frames only: exception messages (e.g. SQL parameters) can carry personal data.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.url.path, frames)
    return problem_response(ProblemError(500, "INTERNAL_ERROR", "系统内部错误,请稍后重试", "internal error"))


def install(app: FastAPI) -> None:
    for exc_type in (ProblemError, RequestValidationError, IdProblem, StarletteHTTPException,
                     WorkflowUpdateFailedError, RPCError, TemporalUnavailable):
        app.add_exception_handler(exc_type, _handle)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


class FieldProblemModel(BaseModel):
    field: str
    code: str
    zh: str
    en: str


class ProblemModel(BaseModel):
    """The problem+json body, for the OpenAPI document."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    zh: str
    en: str
    field: str | None = None
    errors: list[FieldProblemModel] = []


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route may answer with."""
    return {s: {"model": ProblemModel, "content": {MEDIA_TYPE: {}}} for s in (*statuses, 401, 422)}
