"""Resident IDs (GB 11643), mobile numbers, masking and ages.

Check digits are computed here from the standard's weights, independently of python-stdnum, so a
regression in either our normalisation or the library shows up.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from domain.identity import (
    IdProblem,
    age_on,
    birth_date_of,
    mask_mobile,
    mask_name,
    mask_resident_id,
    normalise_mobile,
    normalise_resident_id,
    region_of,
)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def with_check(body17: str) -> str:
    assert len(body17) == 17 and body17.isdigit()
    return body17 + CHECK[sum(int(d) * w for d, w in zip(body17, WEIGHTS, strict=True)) % 11]


def problem_code(raw: str) -> str:
    with pytest.raises(IdProblem) as info:
        normalise_resident_id(raw)
    return info.value.code


# --- the helper itself, against check digits worked by hand -------------------------------------------

def test_check_digit_helper_matches_hand_computation():
    # 11010519491231002: 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167;
    # 167 % 11 = 2 -> "10X98765432"[2] = "X"
    assert with_check("11010519491231002") == "11010519491231002X"
    # 35058219850315001: 21+45+0+25+64+8+2+9+48+15+0+27+10+25+0+0+2 = 301; 301 % 11 = 4 -> "8"
    assert with_check("35058219850315001") == "350582198503150018"


# --- valid IDs and safe normalisation ------------------------------------------------------------------

def test_valid_id_with_x_check_digit():
    assert normalise_resident_id("11010519491231002X") == "11010519491231002X"


def test_lower_case_x_is_upper_cased():
    assert normalise_resident_id("11010519491231002x") == "11010519491231002X"


def test_full_width_digits_and_x_are_folded():
    assert normalise_resident_id("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"


def test_spaces_and_dashes_are_dropped():
    assert normalise_resident_id(" 350582 19850315 0018 ") == "350582198503150018"
    assert normalise_resident_id("350582-19850315-0018") == "350582198503150018"
    assert normalise_resident_id("350582\u300019850315\t0018") == "350582198503150018"  # ideographic space


def test_county_created_after_birth_is_accepted():
    """晋江 (350582) became a county-level city in 1992; a person born there in 1985 got that code when
    the ID was first issued. stdnum's full validate() refuses this real person; we must not."""
    number = "350582198503150018"
    with pytest.raises(InvalidComponent):
        ric.validate(number)  # the premise: the library's birth-year/county check refuses it
    assert normalise_resident_id(number) == number
    assert birth_date_of(number) == date(1985, 3, 15)
    assert region_of(number) == "350582"


def test_leap_day_birth_is_valid_in_a_leap_year():
    number = with_check("35058219840229002")
    assert normalise_resident_id(number) == number
    assert birth_date_of(number) == date(1984, 2, 29)


# --- refusals ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["3.50102E+17", "3.50102e+17", "3.50582E17", " 3.50582E+17 ", "３.５０５８２Ｅ＋１７"])
def test_excel_scientific_notation_is_refused(raw):
    assert problem_code(raw) == "ID_SCIENTIFIC_NOTATION"


@pytest.mark.parametrize("raw", ["", "35058219850315001", "3505821985031500181", "350582850315001"])
def test_wrong_length_is_refused(raw):
    # the last one is a first-generation 15-digit ID, which the product does not take
    assert problem_code(raw) == "ID_LENGTH"


@pytest.mark.parametrize("raw", ["35058219850315001Y", "3505821985O3150015", "35058219850315X015"])
def test_non_digits_are_refused_as_format(raw):
    assert problem_code(raw) == "ID_FORMAT"


def test_wrong_check_digit_is_refused():
    assert problem_code("350582198503150016") == "ID_CHECKSUM"  # correct check digit is 8
    assert problem_code("350582198503150010") == "ID_CHECKSUM"
    assert problem_code("110105194912310021") == "ID_CHECKSUM"  # correct is X


@pytest.mark.parametrize("body", ["35058219850230001", "35058219850229001", "35058219851301001",
                                  "35058219850100001", "35058219850431001"])
def test_impossible_birth_date_is_refused(body):
    # Feb 30; Feb 29 in a non-leap year; month 13; day 0; Apr 31 — all with a correct check digit
    assert problem_code(with_check(body)) == "ID_BIRTH_DATE"


def test_unknown_province_is_refused():
    assert problem_code(with_check("99010119850315001")) == "ID_REGION"


def test_unknown_county_in_a_known_province_is_refused():
    """359999: province 35 (Fujian) exists, county 9999 does not."""
    assert problem_code(with_check("35999919850315001")) == "ID_REGION"


@given(
    birth=st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)),
    region=st.sampled_from(["350582", "350102", "110101", "110105", "350526"]),
    seq=st.integers(min_value=0, max_value=999),
)
def test_any_well_formed_id_round_trips(birth, region, seq):
    number = with_check(f"{region}{birth:%Y%m%d}{seq:03d}")
    assert normalise_resident_id(number.lower()) == number
    assert birth_date_of(number) == birth
    assert region_of(number) == region


@given(
    birth=st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=16),
    shift=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_error_is_caught_by_the_check_digit(birth, seq, position, shift):
    number = with_check(f"350582{birth:%Y%m%d}{seq:03d}")
    typo = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1:]
    assert problem_code(typo) == "ID_CHECKSUM"


# --- mobile numbers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["13800138000", "+8613800138000", "+86 138 0013 8000", "008613800138000",
                                 "0086 138-0013-8000", "１３８００１３８０００", "＋８６ １３８ ００１３ ８０００",
                                 " 138 0013 8000 "])
def test_mobile_is_normalised(raw):
    assert normalise_mobile(raw) == "13800138000"


def test_mobile_keeps_valid_second_digits():
    assert normalise_mobile("19912345678") == "19912345678"
    assert normalise_mobile("+86 135 1234 5678") == "13512345678"


@pytest.mark.parametrize("raw", ["", "12800138000", "10800138000", "1380013800", "138001380001", "+85213800138000",
                                 "8613800138000", "1380013800a", "+86", "02161234567"])
def test_bad_mobile_is_refused(raw):
    with pytest.raises(IdProblem) as info:
        normalise_mobile(raw)
    assert info.value.code == "MOBILE_FORMAT"


# --- masking -------------------------------------------------------------------------------------------

def test_mask_resident_id_keeps_first_three_and_last_four():
    assert mask_resident_id("350582198503150018") == "350***********0018"
    assert mask_resident_id("11010519491231002X") == "110***********002X"
    assert len(mask_resident_id("350582198503150018")) == 18


def test_mask_resident_id_hides_everything_when_malformed():
    assert mask_resident_id("35058219850315") == "*" * 14
    assert mask_resident_id("") == ""


def test_mask_mobile():
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_mobile("1380013800") == "*" * 10


def test_mask_name():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("李") == "李*"  # a single character still shows that something is hidden
    assert mask_name("") == ""


# --- ages ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("birth", "as_of", "age"), [
    (date(1990, 6, 15), date(2025, 6, 14), 34),
    (date(1990, 6, 15), date(2025, 6, 15), 35),
    (date(1990, 6, 15), date(2025, 6, 16), 35),
    (date(1990, 12, 31), date(2025, 1, 1), 34),
    (date(1990, 1, 1), date(2024, 12, 31), 34),
    (date(2000, 2, 29), date(2018, 2, 28), 17),   # a leap-day baby turns 18 on Mar 1 in common years
    (date(2000, 2, 29), date(2018, 3, 1), 18),
    (date(2000, 2, 29), date(2024, 2, 28), 23),
    (date(2000, 2, 29), date(2024, 2, 29), 24),
    (date(2025, 5, 20), date(2025, 5, 20), 0),
])
def test_age_on(birth, as_of, age):
    assert age_on(birth, as_of) == age
