"""Rule sets and decision records: upload a validated draft, activate it (maker-checker), roll back, find the
version in force, record each decision. The shipped defaults live as JDM files under `rules/<product>/`."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import DecisionRecord, RuleSet
from domain import rules

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "rules"
SHIPPED_FROM = date(2000, 1, 1)
SCENARIOS_SHIPPED = ("admission", "acceptance", "approval", "drawdown", "pricing")
DEFAULT_PRODUCT = "NONG_E_DAI"
_CONTENT: dict[str, dict[str, Any]] = {}  # checksum -> JDM content, as read from rule_set


class RuleSetRefused(Exception):
    """A lifecycle step that is not allowed (activating one's own upload, rolling back to a draft...)."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


class InForce(BaseModel):
    rule_set_id: int | None
    version: str
    checksum: str
    content: dict[str, Any]


def label(product_code: str, scenario: str, version: int | str) -> str:
    """`NONG_E_DAI/approval@v2`, or `...@shipped-<checksum>` for a default not installed in the database."""
    return f"{product_code}/{scenario}@v{version}" if isinstance(version, int) else f"{product_code}/{scenario}@{version}"


def shipped(product_code: str, scenario: str) -> tuple[dict[str, Any], list[rules.RuleTestCase]] | None:
    """The default rule set shipped with the code for this product and scenario, with its test cases."""
    path = SHIPPED_DIR / product_code / f"{scenario}.json"
    if not path.exists():
        return None
    tests_path = path.with_name(f"{scenario}.tests.json")
    tests = json.loads(tests_path.read_text()) if tests_path.exists() else []
    return json.loads(path.read_text()), [rules.RuleTestCase.model_validate(t) for t in tests]


def install_shipped(session: Session, product_code: str, now: datetime) -> list[RuleSet]:
    """Version 1 of each shipped scenario, active from the start, where the product has none yet."""
    added = []
    for scenario in SCENARIOS_SHIPPED:
        found = shipped(product_code, scenario)
        if found is None or _latest_version(session, product_code, scenario):
            continue
        content, tests = found
        rules.check(content, tests)
        row = RuleSet(product_code=product_code, scenario=scenario, version=1, status="active",
                      effective_from=SHIPPED_FROM, content=content, tests=[t.model_dump() for t in tests],
                      checksum=rules.checksum(content), note="shipped default", created_by="system",
                      created_at=now, activated_by="system", activated_at=now)
        session.add(row)
        added.append(row)
    session.flush()
    return added


def in_force(session: Session, product_code: str, scenario: str, as_of: date) -> InForce:
    """The highest active version effective on `as_of`; without one, the shipped default (the product's, or
    the platform's 农e贷 defaults for a product that ships none).

    The graph itself is read once per checksum and process: a version's content never changes."""
    row = session.exec(select(RuleSet.id, RuleSet.version, RuleSet.checksum).where(
        RuleSet.product_code == product_code, RuleSet.scenario == scenario, RuleSet.status == "active",
        col(RuleSet.effective_from) <= as_of).order_by(col(RuleSet.version).desc()).limit(1)).first()
    if row is not None:
        rule_set_id, version, digest = row
        content = _CONTENT.get(digest)
        if content is None:
            content = session.exec(select(RuleSet.content).where(RuleSet.id == rule_set_id)).one()
            if len(_CONTENT) < 256:
                _CONTENT[digest] = content
        return InForce(rule_set_id=rule_set_id, version=label(product_code, scenario, version), checksum=digest,
                       content=content)
    # A product of its own without rule sets yet decides by the platform's defaults, which read its terms.
    found = shipped(product_code, scenario) or shipped(DEFAULT_PRODUCT, scenario)
    if found is None:
        raise LookupError(f"no {scenario} rule set for product {product_code}")
    content = found[0]
    digest = rules.checksum(content)
    return InForce(rule_set_id=None, version=label(product_code, scenario, f"shipped-{digest[:8]}"),
                   checksum=digest, content=content)


def upload(session: Session, *, product_code: str, scenario: str, content: dict[str, Any],
           tests: list[rules.RuleTestCase], effective_from: date, note: str, by: str, now: datetime) -> RuleSet:
    """Validate (raises rules.RuleProblem naming the node or test) and store as the next draft version."""
    rules.check(content, tests)
    version = _latest_version(session, product_code, scenario) + 1
    row = RuleSet(product_code=product_code, scenario=scenario, version=version, effective_from=effective_from,
                  content=content, tests=[t.model_dump() for t in tests], checksum=rules.checksum(content),
                  note=note, created_by=by, created_at=now)
    session.add(row)
    session.flush()
    return row


def activate(session: Session, row: RuleSet, *, by: str, now: datetime) -> RuleSet:
    if row.status != "draft":
        raise RuleSetRefused("RULE_SET_NOT_DRAFT", "只有草稿状态的规则集可以启用", "only a draft can be activated")
    if row.created_by == by:
        raise RuleSetRefused("MAKER_CHECKER", "规则集须由上传人以外的人员启用",
                             "a rule set is activated by someone other than its uploader")
    # Checked again: the engine may have changed since the upload.
    rules.check(row.content, [rules.RuleTestCase.model_validate(t) for t in row.tests])
    row.status, row.activated_by, row.activated_at = "active", by, now
    session.add(row)
    session.flush()
    return row


def rollback(session: Session, target: RuleSet, *, by: str, now: datetime) -> list[RuleSet]:
    """Put `target` (a version that was activated before) back in force; later active versions step aside."""
    if target.activated_at is None:
        raise RuleSetRefused("RULE_SET_NEVER_ACTIVE", "只能回退到曾经启用过的版本",
                             "only a version that was once active can be rolled back to")
    later = session.exec(select(RuleSet).where(
        RuleSet.product_code == target.product_code, RuleSet.scenario == target.scenario,
        RuleSet.status == "active", col(RuleSet.version) > target.version)).all()
    if not later and target.status == "active":
        raise RuleSetRefused("RULE_SET_ALREADY_IN_FORCE", "该版本已是最新启用版本", "this version is already the latest active one")
    for row in later:
        row.status, row.rolled_back_by, row.rolled_back_at = "rolled_back", by, now
        session.add(row)
    target.status = "active"
    session.add(target)
    session.flush()
    return list(later)


def get(session: Session, rule_set_id: int) -> RuleSet | None:
    return session.get(RuleSet, rule_set_id)


def listing(session: Session, *, product_code: str | None, scenario: str | None, limit: int,
            offset: int) -> list[RuleSet]:
    query = select(RuleSet)
    if product_code:
        query = query.where(RuleSet.product_code == product_code)
    if scenario:
        query = query.where(RuleSet.scenario == scenario)
    return list(session.exec(query.order_by(col(RuleSet.product_code), col(RuleSet.scenario),
                                            col(RuleSet.version).desc()).offset(offset).limit(limit)).all())


def record(session: Session, *, application_id: int | None, product_code: str, scenario: str, rule_set: InForce,
           outcome: str, reason_codes: list[str], inputs: dict[str, Any], result: dict[str, Any],
           trace: list[dict[str, Any]], now: datetime, error: str | None = None,
           error_node: str | None = None, key: str | None = None) -> DecisionRecord:
    """A new decision record. With `key`, a record already made under it (a concurrent attempt that won the
    race: the UNIQUE key keeps one) is returned instead; the caller looks the key up first (`by_key`). A lost
    race rolls the session back, so a keyed record goes in a transaction of its own."""
    row = DecisionRecord(application_id=application_id, product_code=product_code, scenario=scenario,
                         rule_set_id=rule_set.rule_set_id, rule_set_version=rule_set.version, outcome=outcome,
                         reason_codes=reason_codes, inputs=json.loads(rules.facts_json(inputs)), result=result,
                         trace=trace, error=error[:500] if error else None, error_node=error_node, decided_at=now,
                         decision_key=key)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        if key is None:
            raise
        session.rollback()
        found = by_key(session, key)
        if found is None:
            raise
        return found
    return row


def by_key(session: Session, key: str) -> DecisionRecord | None:
    return session.exec(select(DecisionRecord).where(DecisionRecord.decision_key == key)).first()


def decisions_of(session: Session, application_id: int) -> list[DecisionRecord]:
    return list(session.exec(select(DecisionRecord).where(DecisionRecord.application_id == application_id)
                             .order_by(col(DecisionRecord.id))).all())


def decision(session: Session, decision_id: int) -> DecisionRecord | None:
    return session.get(DecisionRecord, decision_id)


def recent_decisions(session: Session, product_code: str, scenario: str, limit: int) -> list[DecisionRecord]:
    """The latest decision of each of the last `limit` applications (errors left out), newest first."""
    latest = (select(func.max(DecisionRecord.id)).where(
        DecisionRecord.product_code == product_code, DecisionRecord.scenario == scenario,
        DecisionRecord.outcome != "error", col(DecisionRecord.application_id).is_not(None))
        .group_by(col(DecisionRecord.application_id)))
    return list(session.exec(select(DecisionRecord).where(col(DecisionRecord.id).in_(latest))
                             .order_by(col(DecisionRecord.id).desc()).limit(limit)).all())


def _latest_version(session: Session, product_code: str, scenario: str) -> int:
    found = session.exec(select(func.max(RuleSet.version)).where(
        RuleSet.product_code == product_code, RuleSet.scenario == scenario)).one()
    return int(found or 0)
