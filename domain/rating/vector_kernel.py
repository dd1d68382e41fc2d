"""The batch scorer's compiled passes, in machine code (numba).

The numpy scorer in domain/rating/vector.py makes a pass over the chunk per bound of each feature, and each
numpy step writes a temporary the size of the chunk and reads it back: on a million households that
memory traffic is where its time goes. Here each pass is a loop the compiler turns into SIMD
instructions, adding straight into the feature's bin column with no temporaries, four bounds per pass. A
single loop over households with everything inside was tried first: its inner loops over a feature's
bounds are not vectorized, and it was slower than numpy itself. Same integer rules as the numpy
scorer (its thresholds, the debt ratio cross-multiplied), so the results are identical; vector.py only
calls this when every product fits in int64 and keeps its numpy path for the rest.

Imported only when a chunk is scored: importing numba costs half a second, compiling this the first time
a few more (cached on disk afterwards, `cache=True`).
"""

from __future__ import annotations

from typing import get_args

import numba
import numpy as np

from domain.rating.model import Feature, Prefilter

# Feature and pre-filter numbers, in the order model.Feature and model.Prefilter list them: vector.py
# encodes the card with them and the kernel switches on them (numba reads these globals as constants).
FEATURE_IDS = {name: i for i, name in enumerate(get_args(Feature))}
PREFILTER_IDS = {name: i for i, name in enumerate(get_args(Prefilter))}
_AGE, _NET_INCOME, _NET_ASSETS, _DEBT_RATIO = (FEATURE_IDS[f] for f in ("age", "net_income", "net_assets", "debt_ratio"))
_ACREAGE, _LIVESTOCK, _BUSINESS_YEARS = (FEATURE_IDS[f] for f in ("acreage_mu", "livestock_heads", "business_years"))
_HOUSE_OWNED, _CREDIT_VILLAGE = FEATURE_IDS["house_owned"], FEATURE_IDS["credit_village"]
_BLACKLIST, _OVERDUE, _BAD_HISTORY, _AGE_OUT_OF_RANGE = (
    PREFILTER_IDS[p] for p in ("BLACKLIST", "CURRENT_OVERDUE", "BAD_HISTORY", "AGE_OUT_OF_RANGE"))

STAR_BANDS = 5  # a contribution model has at most five bands (stars 3 to 7, each once)
# Bounds are compared four at a time, in one pass: the loop body has a fixed shape, so it is still
# vectorized, and a feature with up to four bounds reads its columns once.
GROUP = 4


@numba.njit(cache=True, nogil=True)
def _add_reached(plus: np.ndarray, minus: np.ndarray, subtract: bool, thresholds: np.ndarray, first: int,
                 count: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """out[i] += how many of thresholds[first:first + count] (count <= GROUP) value i reaches; the value is
    plus - minus when `subtract`, else plus. `thresholds` is padded to whole groups."""
    t0, t1, t2, t3 = thresholds[first], thresholds[first + 1], thresholds[first + 2], thresholds[first + 3]
    use1, use2, use3 = count > 1, count > 2, count > 3
    for i in range(plus.shape[0]):
        x = np.int64(plus[i]) - np.int64(minus[i]) if subtract else np.int64(plus[i])
        out[i] += (x >= t0) + ((x >= t1) & use1) + ((x >= t2) & use2) + ((x >= t3) & use3)


@numba.njit(cache=True, nogil=True)
def _add_ratio_reached(liabilities: np.ndarray, assets: np.ndarray, num: np.ndarray, den: np.ndarray,
                       above_one: np.ndarray, first: int, count: int, out: np.ndarray) -> None:  # pragma: no cover
    """As _add_reached for liabilities / assets >= num / den, no assets counting as a ratio of 1
    (vector._at_least_ratio): a bound above 1 needs assets, one at most 1 is reached without them."""
    n0, n1, n2, n3 = num[first], num[first + 1], num[first + 2], num[first + 3]
    d0, d1, d2, d3 = den[first], den[first + 1], den[first + 2], den[first + 3]
    a0, a1, a2, a3 = above_one[first], above_one[first + 1], above_one[first + 2], above_one[first + 3]
    use1, use2, use3 = count > 1, count > 2, count > 3
    for i in range(liabilities.shape[0]):
        owed, held = liabilities[i], assets[i]
        positive = held > 0
        r0 = owed * d0 >= held * n0
        r1 = owed * d1 >= held * n1
        r2 = owed * d2 >= held * n2
        r3 = owed * d3 >= held * n3
        out[i] += (((r0 & positive) if a0 else (r0 | ~positive))
                   + (((r1 & positive) if a1 else (r1 | ~positive)) & use1)
                   + (((r2 & positive) if a2 else (r2 | ~positive)) & use2)
                   + (((r3 & positive) if a3 else (r3 | ~positive)) & use3))


@numba.njit(cache=True, nogil=True)
def _contribution(avg_daily_assets, avg_loan_balance, txns, weights, star_floors, star_count, star_values,
                  star_points, base_score, out_total, out_stars, out_score):  # pragma: no cover - compiled
    """Contribution total and stars; the score starts at base + the stars' points."""
    w0, w1, w2 = weights[0], weights[1], weights[2]
    f0, f1, f2, f3, f4 = star_floors[0], star_floors[1], star_floors[2], star_floors[3], star_floors[4]  # STAR_BANDS
    use1, use2, use3, use4 = star_count > 1, star_count > 2, star_count > 3, star_count > 4
    for i in range(avg_daily_assets.shape[0]):
        total = avg_daily_assets[i] * w0 + avg_loan_balance[i] * w1 + txns[i] * w2
        # floors ascend: the bands reached are the first few, and the last of them gives the stars
        reached = (total >= f0) + ((total >= f1) & use1) + ((total >= f2) & use2) + ((total >= f3) & use3) \
            + ((total >= f4) & use4)
        stars = star_values[np.uint8(reached)]
        out_total[i] = total
        out_stars[i] = stars
        out_score[i] = base_score + star_points[np.uint8(stars)]


@numba.njit(cache=True, nogil=True)
def _add_hit(flags, age, min_age, max_age, by_age, out_bits):  # pragma: no cover - compiled
    """Shift the hit bits left and add one pre-filter's hits: a flag column, or the age out of range."""
    for i in range(out_bits.shape[0]):
        hit = ((age[i] < min_age) | (age[i] > max_age)) if by_age else flags[i]
        out_bits[i] = (out_bits[i] << 1) | hit


@numba.njit(cache=True, nogil=True)
def _add_points(bins, radix, bin_points, out_score, out_code):  # pragma: no cover - compiled
    """Add a feature's points to the score and its bin to the mixed-radix combination."""
    for i in range(bins.shape[0]):
        out_score[i] += bin_points[bins[i]]
        out_code[i] = out_code[i] * radix + bins[i]


@numba.njit(cache=True, nogil=True)
def _finish(out_bits, shift, max_score, grade_by_score, grade_c, out_score, out_grade,
            out_code):  # pragma: no cover - compiled
    """Cap the score, grade it, and zero both for a household any pre-filter hit; the reason code is the
    combination (0 when hit) followed by the hit bits."""
    for i in range(out_bits.shape[0]):
        clear = out_bits[i] == 0
        capped = max(min(out_score[i], max_score), 0)  # at most max_score, then at least 0, as the reference
        out_score[i] = capped * clear
        out_grade[i] = grade_by_score[np.uint64(capped)] if clear else grade_c
        out_code[i] = ((out_code[i] * clear) << shift) | out_bits[i]


@numba.njit(cache=True, nogil=True)
def score_chunk(
        # household columns (int64 unless a flag)
        age, income, expenses, assets, liabilities, acreage, livestock, business_years, labour, house_owned,
        credit_village, blacklisted, overdue, bad_history, court, avg_daily_assets, avg_loan_balance, txns,
        # the card, encoded by vector.py (per-feature rows padded to whole groups of bounds)
        feature_ids, thresholds, threshold_counts, always, ratio_num, ratio_den, ratio_above_one, points, radices,
        prefilter_ids, min_age, max_age, weights, star_floors, star_count, star_values, star_points, base_score,
        max_score, grade_by_score, grade_c,
        # results, one slot per household (bins: one row per feature)
        out_score, out_grade, out_stars, out_total, out_bits, out_bins, out_code):  # pragma: no cover - compiled
    # Results are built in the output arrays themselves: every fresh array of a million households costs
    # page faults on first touch, a noticeable share of the whole. Indexes are cast to unsigned (they are
    # counts): numba then skips its negative-index check, which otherwise stops a loop being vectorized.
    _contribution(avg_daily_assets, avg_loan_balance, txns, weights, star_floors, star_count, star_values,
                  star_points, base_score, out_total, out_stars, out_score)
    out_bits[:] = 0
    for p in range(prefilter_ids.shape[0]):
        pid = prefilter_ids[p]
        flags = blacklisted if pid == _BLACKLIST else overdue if pid == _OVERDUE \
            else bad_history if pid == _BAD_HISTORY else court
        _add_hit(flags, age, min_age, max_age, pid == _AGE_OUT_OF_RANGE, out_bits)
    out_code[:] = 0
    for j in range(feature_ids.shape[0]):
        fid = feature_ids[j]
        bins = out_bins[j]
        bins[:] = always[j]
        count = threshold_counts[j]
        for first in range(0, count, GROUP):
            group = min(GROUP, count - first)
            if fid == _DEBT_RATIO:
                _add_ratio_reached(liabilities, assets, ratio_num[j], ratio_den[j], ratio_above_one[j], first, group,
                                   bins)
            elif fid == _NET_INCOME:
                _add_reached(income, expenses, True, thresholds[j], first, group, bins)
            elif fid == _NET_ASSETS:
                _add_reached(assets, liabilities, True, thresholds[j], first, group, bins)
            elif fid == _HOUSE_OWNED or fid == _CREDIT_VILLAGE:
                flag = house_owned if fid == _HOUSE_OWNED else credit_village
                _add_reached(flag, flag, False, thresholds[j], first, group, bins)
            else:
                column = age if fid == _AGE else acreage if fid == _ACREAGE else livestock if fid == _LIVESTOCK \
                    else business_years if fid == _BUSINESS_YEARS else labour
                _add_reached(column, column, False, thresholds[j], first, group, bins)
        _add_points(bins, radices[j], points[j], out_score, out_code)
    _finish(out_bits, prefilter_ids.shape[0], max_score, grade_by_score, grade_c, out_score, out_grade, out_code)
