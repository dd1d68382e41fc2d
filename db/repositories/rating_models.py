"""Rating model versions (scorecards, contribution models): store a validated draft, activate it as a second
person (the code's previous active version retires), find the version in force."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import RatingModel
from domain.rating.checks import ContributionCase, ScorecardCase, check_contribution, check_scorecard
from domain.rating.model import ContributionModel, CreditScorecard, default_scorecard

SHIPPED_TESTS = Path(__file__).resolve().parents[2] / "rules" / "NONG_E_DAI"


def checksum(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def latest_version(session: Session, code: str) -> int:
    return session.exec(select(func.max(RatingModel.version)).where(RatingModel.code == code)).one() or 0


def kind_of(session: Session, code: str) -> str | None:
    return session.exec(select(RatingModel.kind).where(RatingModel.code == code).limit(1)).first()


def active_head(session: Session, code: str) -> tuple[int, str] | None:
    """(id, checksum) of the active version, read without its content (the parsed model is cached by checksum)."""
    row = session.exec(select(RatingModel.id, RatingModel.checksum).where(
        RatingModel.code == code, RatingModel.status == "active")).first()
    return (row[0], row[1]) if row else None


def content(session: Session, model_id: int) -> dict[str, Any]:
    return session.exec(select(RatingModel.content).where(RatingModel.id == model_id)).one()


def insert(session: Session, *, kind: str, code: str, version: int, content: dict[str, Any], tests: list[Any],
           note: str, by: str, now: datetime, active: bool = False) -> RatingModel:
    row = RatingModel(kind=kind, code=code, version=version, content=content, tests=tests, checksum=checksum(content),
                      note=note, created_by=by, created_at=now, status="active" if active else "draft",
                      activated_by=by if active else None, activated_at=now if active else None)
    session.add(row)
    session.flush()
    return row


def get(session: Session, model_id: int, *, lock: bool = False) -> RatingModel | None:
    return session.get(RatingModel, model_id, with_for_update=lock)


def activate(session: Session, row: RatingModel, *, by: str, now: datetime) -> list[RatingModel]:
    """Put `row` in force; the code's other active versions (at most one) retire. Returns those."""
    others = session.exec(select(RatingModel).where(RatingModel.code == row.code, RatingModel.status == "active",
                                                    RatingModel.id != row.id).with_for_update()).all()
    for other in others:
        other.status = "retired"
        session.add(other)
    session.flush()  # the retirement before the activation, so one code never has two active rows
    row.status, row.activated_by, row.activated_at = "active", by, now
    session.add(row)
    session.flush()
    return list(others)


def listing(session: Session, *, kind: str | None, code: str | None, limit: int, offset: int) -> Sequence[RatingModel]:
    query = select(RatingModel)
    if kind:
        query = query.where(RatingModel.kind == kind)
    if code:
        query = query.where(RatingModel.code == code)
    return session.exec(query.order_by(col(RatingModel.code), col(RatingModel.version).desc())
                        .offset(offset).limit(limit)).all()


def shipped() -> list[tuple[str, CreditScorecard | ContributionModel, list[dict[str, Any]]]]:
    """(kind, default model, its test cases as shipped in rules/NONG_E_DAI/)."""
    return [("scorecard", default_scorecard(), json.loads((SHIPPED_TESTS / "scorecard.tests.json").read_text())),
            ("contribution", ContributionModel(), json.loads((SHIPPED_TESTS / "contribution.tests.json").read_text()))]


def install_shipped(session: Session, now: datetime) -> int:
    """Version 1 of each default model, active, where its code has no version yet. Returns how many it added."""
    added = 0
    for kind, model, tests in shipped():
        if latest_version(session, model.code):
            continue
        if isinstance(model, CreditScorecard):
            failures = check_scorecard(model, [ScorecardCase.model_validate(t) for t in tests])
        else:
            failures = check_contribution(model, [ContributionCase.model_validate(t) for t in tests])
        if failures:
            raise ValueError(f"the shipped {kind} fails its own test cases: {failures}")
        insert(session, kind=kind, code=model.code, version=1, content=model.model_dump(mode="json"), tests=tests,
               note="shipped default", by="system", now=now, active=True)
        added += 1
    return added
