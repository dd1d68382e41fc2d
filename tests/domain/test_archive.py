"""The archive's pure rules: values a collector types, checks across fields, totals, completeness, birthdays,
and masking in the change history."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.archive import (
    CodeBook,
    FinanceFacts,
    MemberFacts,
    ProductionFacts,
    ValueProblem,
    birth_date_problem,
    diff,
    household_problems,
    mask_for_history,
    parse_measure,
    totals,
)
from domain.archive_care import birthday_within, next_birthday
from domain.archive_completeness import ArchiveFacts, completeness

TWO_PLACES = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


@given(TWO_PLACES)
def test_a_measure_typed_as_text_reads_back_exactly(value):
    assert parse_measure(str(value)) == value
    assert parse_measure(f" {value} ") == value


@given(st.integers(min_value=0, max_value=100_000_000))
def test_whole_numbers_are_measures(n):
    assert parse_measure(n) == Decimal(n)


@given(TWO_PLACES.filter(lambda d: d > 0))
def test_negative_measures_are_refused(value):
    with pytest.raises(ValueProblem) as caught:
        parse_measure(f"-{value}")
    assert caught.value.code == "MEASURE_NEGATIVE"


@given(st.one_of(st.text(max_size=12), st.floats(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)))
def test_anything_else_is_a_value_problem_or_a_valid_measure(raw):
    # Never an unexpected exception: the form reports it as a field error.
    try:
        value = parse_measure(raw)
    except ValueProblem as p:
        assert p.code.startswith("MEASURE_") and p.zh and p.en
    else:
        assert value >= 0 and value == value.quantize(Decimal("0.01"))


@pytest.mark.parametrize(("raw", "code"), [
    ("abc", "MEASURE_FORMAT"), ("1e3", "MEASURE_FORMAT"), ("12.345", "MEASURE_PRECISION"), (2.5, "MEASURE_NOT_STRING"),
    (True, "MEASURE_NOT_STRING"), ("-0.5", "MEASURE_NEGATIVE"), ("100000001", "MEASURE_TOO_LARGE"), ("", "MEASURE_FORMAT"),
])
def test_bad_measures_name_their_reason(raw, code):
    with pytest.raises(ValueProblem) as caught:
        parse_measure(raw)
    assert caught.value.code == code


def test_full_width_digits_are_read():
    assert parse_measure("１２.５") == Decimal("12.50")


def test_birth_dates_in_the_future_or_beyond_120_years_are_refused():
    today = date(2026, 12, 6)
    assert birth_date_problem(today, today) is None
    assert birth_date_problem(today + timedelta(days=1), today).code == "BIRTH_DATE_FUTURE"
    assert birth_date_problem(date(1900, 1, 1), today).code == "BIRTH_DATE_TOO_OLD"


def test_unknown_codes_are_named_by_kind():
    book = CodeBook(villages=frozenset({"350322101201"}), production={"crop": frozenset({"tea"}),
                                                                       "livestock": frozenset({"pig"})})
    assert book.unknown_village("350322101201") is None and book.unknown_village("1").code == "VILLAGE_UNKNOWN"
    assert book.unknown_production("crop", "tea") is None
    assert book.unknown_production("crop", "pig").code == "CROP_UNKNOWN"
    assert book.unknown_production("livestock", "tea").code == "LIVESTOCK_UNKNOWN"
    assert book.unknown_production("business", "shop").code == "BUSINESS_KIND_UNKNOWN"


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=30))
def test_labour_may_not_exceed_members(members, labour):
    codes = [p.code for p in household_problems(member_count=members, labour_count=labour, members=[],
                                                head_resident_id=None)]
    assert ("LABOUR_EXCEEDS_MEMBERS" in codes) == (labour > members)


def test_listed_members_fit_the_count_and_no_one_appears_twice():
    listed = [MemberFacts("A", True), MemberFacts(None, True), MemberFacts("A", False)]
    problems = household_problems(member_count=3, labour_count=1, members=listed, head_resident_id="H")
    assert {(p.field, p.code) for p in problems} == {
        ("members", "MEMBERS_EXCEED_COUNT"), ("labour_count", "LABOUR_BELOW_LISTED"),
        ("members[2].resident_id", "MEMBER_DUPLICATE_ID")}
    head_again = household_problems(member_count=2, labour_count=1, members=[MemberFacts("H", False)],
                                    head_resident_id="H")
    assert [(p.field, p.code) for p in head_again] == [("members[0].resident_id", "MEMBER_DUPLICATE_ID")]
    # Unknown counts (refused elsewhere) are not guessed at.
    assert household_problems(member_count=None, labour_count=None, members=listed[:2], head_resident_id=None) == []


production_items = st.lists(st.builds(ProductionFacts, kind=st.sampled_from(["crop", "livestock", "business"]),
                                      quantity=st.integers(min_value=0, max_value=5000).map(Decimal),
                                      acreage_mu=TWO_PLACES), max_size=8)
finance_items = st.lists(st.builds(FinanceFacts, category=st.sampled_from(["income", "expense", "asset", "liability"]),
                                   amount=TWO_PLACES), max_size=12)


@given(production_items, finance_items)
def test_totals_are_the_sums_of_the_items(production, finance):
    t = totals(production, finance)
    assert t.acreage_mu == sum((p.acreage_mu for p in production), Decimal(0))
    assert t.livestock_heads == sum(int(p.quantity) for p in production if p.kind == "livestock")
    for category, total in (("income", t.annual_income), ("expense", t.annual_expenses), ("asset", t.total_assets),
                            ("liability", t.total_liabilities)):
        assert total == sum((f.amount for f in finance if f.category == category), Decimal(0))


facts = st.builds(ArchiveFacts, head_mobile=st.booleans(), head_address=st.booleans(), manager_assigned=st.booleans(),
                  member_count=st.integers(min_value=1, max_value=8), members_listed=st.integers(min_value=0, max_value=8),
                  main_business=st.sampled_from(["crop", "wage", "business"]),
                  business_years=st.integers(min_value=0, max_value=3), production_items=st.integers(0, 2),
                  income_items=st.integers(0, 2), expense_items=st.integers(0, 2), asset_items=st.integers(0, 2),
                  image_kinds=st.frozensets(st.sampled_from(["id_front", "id_back", "house", "land"])))


@given(facts)
def test_completeness_is_a_percentage_and_only_missing_required_items_block_submission(f):
    c = completeness(f)
    assert 0 <= c.score <= 100
    assert (c.score == 100) == (c.missing == [])
    assert c.submittable == all(not m.required for m in c.missing)
    assert len({m.field for m in c.missing}) == len(c.missing) and all(m.zh and m.en for m in c.missing)


def test_completeness_lists_exactly_what_is_missing():
    bare = ArchiveFacts(head_mobile=True, head_address=False, manager_assigned=True, member_count=3, members_listed=1,
                        main_business="crop", business_years=0, production_items=0, income_items=1, expense_items=0,
                        asset_items=1, image_kinds={"id_front"})
    c = completeness(bare)
    assert [m.field for m in c.missing] == ["head.address", "members", "production", "business_years",
                                            "finance.expense", "images.id_back", "images.house"]
    assert c.score == 42 and not c.submittable
    wage = completeness(ArchiveFacts(True, True, True, 1, 0, "wage", 0, 0, 1, 1, 1, {"id_front", "id_back", "house"}))
    assert (wage.score, wage.missing) == (100, [])


@given(st.dates(min_value=date(1920, 1, 1), max_value=date(2025, 12, 31)),
       st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)))
def test_the_next_birthday_is_within_a_year_and_on_the_birth_day(birth, today):
    day = next_birthday(birth, today)
    assert today <= day < today + timedelta(days=366)
    assert (day.month, day.day) == (birth.month, birth.day) or (birth.month, birth.day, day.month, day.day) == (2, 29, 2, 28)


def test_birthdays_within_the_window():
    assert birthday_within(date(1980, 12, 9), date(2026, 12, 6), 3) == date(2026, 12, 9)
    assert birthday_within(date(1980, 12, 10), date(2026, 12, 6), 3) is None
    assert birthday_within(date(1980, 1, 2), date(2026, 12, 30), 7) == date(2027, 1, 2)
    assert birthday_within(date(1988, 2, 29), date(2027, 2, 27), 1) == date(2027, 2, 28)


PERSONAL = st.text(alphabet="陈林黄郑吴王李张刘赵", min_size=2, max_size=4)


@given(PERSONAL, st.from_regex(r"\A1[3-9]\d{9}\Z"), st.from_regex(r"\A\d{17}[0-9X]\Z"))
def test_history_never_holds_personal_data_in_clear(name, mobile, resident_id):
    old = {"members[0].name": None, "members[0].mobile": None, "members[0].resident_id": None, "village_code": "1"}
    new = {"members[0].name": name, "members[0].mobile": mobile, "members[0].resident_id": resident_id,
           "members[0].birth_date": "1990-05-06", "village_code": "2"}
    changes = {path: (before, after) for path, before, after in diff(old, new)}
    assert changes["village_code"] == ("1", "2")
    assert changes["members[0].name"] == (None, name[0] + "*" * (len(name) - 1))
    assert changes["members[0].mobile"] == (None, mobile[:3] + "****" + mobile[-4:])
    assert changes["members[0].resident_id"] == (None, resident_id[:3] + "*" * 11 + resident_id[-4:])
    assert changes["members[0].birth_date"] == (None, "1990-**-**")
    assert mask_for_history("head.address", "榜头镇坝下村12号") == "***"


def test_history_paths_keep_the_form_order():
    old = {f"members[{i}].occupation": "a" for i in range(11)}
    new = {f"members[{i}].occupation": "b" for i in range(11)}
    assert [p for p, _, _ in diff(old, new)] == [f"members[{i}].occupation" for i in range(11)]
