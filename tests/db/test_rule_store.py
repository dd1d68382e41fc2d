"""Rule-set lifecycle on PostgreSQL: versions, maker-checker activation, the version in force by effective
date, rollback, and the shipped default when a product has none. Each test uses a product code of its own."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from db import rule_store
from domain import rules

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
APPROVAL, TESTS = rule_store.shipped("NONG_E_DAI", "approval")
_codes = itertools.count(1)


@pytest.fixture
def product_code() -> str:
    return f"RS{next(_codes)}_{datetime.now(UTC):%H%M%S%f}"


def upload(s: Session, code: str, *, content=APPROVAL, by="staff:1", effective=date(2026, 1, 1)):
    return rule_store.upload(s, product_code=code, scenario="approval", content=content, tests=TESTS,
                             effective_from=effective, note="", by=by, now=NOW)


def test_without_a_rule_set_the_shipped_default_is_in_force(engine, product_code):
    with Session(engine) as s:
        # A product that ships no rule sets of its own decides by 农e贷's defaults (they read its terms).
        found = rule_store.in_force(s, product_code, "approval", date(2026, 6, 1))
        assert (found.rule_set_id, found.content) == (None, APPROVAL)
        assert found.version == f"{product_code}/approval@shipped-{rules.checksum(APPROVAL)[:8]}"
        with pytest.raises(LookupError):  # nothing ships for a scenario no step reads
            rule_store.in_force(s, product_code, "collections", date(2026, 6, 1))


def test_upload_numbers_versions_and_activation_needs_a_second_person(engine, product_code):
    with Session(engine) as s:
        first = upload(s, product_code)
        second = upload(s, product_code)
        assert (first.version, second.version, first.status) == (1, 2, "draft")
        with pytest.raises(rule_store.RuleSetRefused) as refused:
            rule_store.activate(s, first, by="staff:1", now=NOW)
        assert refused.value.code == "MAKER_CHECKER"
        rule_store.activate(s, first, by="staff:2", now=NOW)
        assert (first.status, first.activated_by) == ("active", "staff:2")
        with pytest.raises(rule_store.RuleSetRefused) as refused:
            rule_store.activate(s, first, by="staff:3", now=NOW)
        assert refused.value.code == "RULE_SET_NOT_DRAFT"
        in_force = rule_store.in_force(s, product_code, "approval", date(2026, 6, 1))
        assert (in_force.rule_set_id, in_force.version) == (first.id, f"{product_code}/approval@v1")
        s.rollback()


def test_a_failing_upload_stores_nothing(engine, product_code):
    bad = copy.deepcopy(APPROVAL)
    bad["nodes"][1]["content"]["statements"][0]["condition"] = "len(rating.prefilter_hits) >"
    with Session(engine) as s:
        with pytest.raises(rules.RuleProblem) as problem:
            upload(s, product_code, content=bad)
        assert problem.value.node == "gate"
        assert rule_store.listing(s, product_code=product_code, scenario=None, limit=10, offset=0) == []


def test_the_version_in_force_follows_effective_dates_and_rollback(engine, product_code):
    with Session(engine) as s:
        v1 = upload(s, product_code, effective=date(2026, 1, 1))
        rule_store.activate(s, v1, by="staff:2", now=NOW)
        v2 = upload(s, product_code, effective=date(2026, 7, 1))
        rule_store.activate(s, v2, by="staff:2", now=NOW)
        v3 = upload(s, product_code, effective=date(2026, 8, 1))  # a draft is never in force

        def version_on(day: date) -> str:
            return rule_store.in_force(s, product_code, "approval", day).version.rsplit("@", 1)[1]

        assert (version_on(date(2026, 6, 30)), version_on(date(2026, 7, 1)), version_on(date(2026, 9, 1))) == \
            ("v1", "v2", "v2")
        with pytest.raises(rule_store.RuleSetRefused) as refused:
            rule_store.rollback(s, v3, by="staff:3", now=NOW)
        assert refused.value.code == "RULE_SET_NEVER_ACTIVE"
        set_aside = rule_store.rollback(s, v1, by="staff:3", now=NOW)
        assert [r.version for r in set_aside] == [2] and v2.status == "rolled_back"
        assert version_on(date(2026, 9, 1)) == "v1"
        with pytest.raises(rule_store.RuleSetRefused) as refused:
            rule_store.rollback(s, v1, by="staff:3", now=NOW)
        assert refused.value.code == "RULE_SET_ALREADY_IN_FORCE"
        rule_store.rollback(s, v2, by="staff:3", now=NOW)  # forward again to a version once active
        assert version_on(date(2026, 9, 1)) == "v2"
        s.rollback()


def test_install_shipped_adds_version_one_once(engine, product_code):
    with Session(engine) as s:
        assert rule_store.install_shipped(s, product_code, NOW) == []  # nothing shipped for this product
        added = rule_store.install_shipped(s, "NONG_E_DAI", NOW)
        assert {r.scenario for r in added} <= set(rule_store.SCENARIOS_SHIPPED)
        assert rule_store.install_shipped(s, "NONG_E_DAI", NOW) == []
        s.rollback()
