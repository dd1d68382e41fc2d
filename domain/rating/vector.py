"""The set-based scorer: domain.rating.scoring.score for a whole chunk of households at once, in numpy.

Same scores, grades, stars, contribution points, pre-filter hits and reason codes as the reference
scorer for every household (tests/domain/test_rating_vector.py holds them together). Exactness comes
from integers, never floats: money arrives in fen (int64), acreage in hundredths of a mu, and each bin
bound is turned into the integer threshold that gives the same answer as the reference's Decimal `>=`.
The debt ratio is compared as liabilities x den >= assets x num, never divided. Where an int64 product
could overflow (absurd amounts or bounds with many decimals), that comparison runs on Python integers.

Two implementations of those rules: compiled passes (vector_kernel.py, numba), used for a chunk whenever
numba loads and every product fits in int64, and the numpy code here, which takes every other chunk.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import ModuleType

import numpy as np

from domain.rating.model import STARS, ContributionModel, CreditScorecard, Feature, ScoredFeature
from domain.rating.scoring import HouseholdFacts

# The household columns the scorer reads, all 1-d arrays of one length.
INT_COLUMNS = ("customer_id", "age", "livestock_heads", "business_years", "labour_count", "settlement_txns")
FEN_COLUMNS = ("annual_income", "annual_expenses", "total_assets", "total_liabilities", "avg_daily_assets",
               "avg_loan_balance")
BOOL_COLUMNS = ("house_owned", "credit_village", "blacklisted", "currently_overdue", "bad_history", "court_dishonest")
# acreage_mu in hundredths of a mu (the column has two decimals)
CENTI_COLUMNS = ("acreage_centi",)
_INT64_MAX = 2**63 - 1


@dataclass
class HouseholdArrays:
    """A chunk of households as columns: money in fen, acreage in 1/100 mu, flags as bool."""

    columns: dict[str, np.ndarray]
    _magnitudes: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.columns["customer_id"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def magnitude(self, name: str) -> int:
        """The column's largest absolute value, worked out once per chunk: the overflow checks of both
        scorers ask for the same columns (assets and liabilities by net assets and the debt ratio)."""
        if name not in self._magnitudes:
            self._magnitudes[name] = _magnitude(self.columns[name])
        return self._magnitudes[name]


@dataclass
class ScoredArrays:
    """The chunk's results. `bin_columns[j]` holds the bin index chosen for card.features[j]; `hit_bits` the
    card.prefilters hits as bits (first pre-filter highest); `contribution_total / contribution_unit` is the
    contribution points exactly. Rows with any hit have score 0, grade C and their bins are not reasons."""

    score: np.ndarray
    grade: np.ndarray  # index into GRADES
    stars: np.ndarray
    contribution_total: np.ndarray
    contribution_unit: int
    bin_columns: list[np.ndarray]
    hit_bits: np.ndarray
    prefilter_count: int
    combination: np.ndarray | None = None  # the bins in mixed radix, when the numpy path made score tables
    codes: np.ndarray | None = None  # the reason codes, when the compiled pass made them
    compiled: bool = False  # which scorer ran: the compiled pass or the numpy one

    @property
    def any_hit(self) -> np.ndarray:
        return self.hit_bits != 0

    @functools.cached_property
    def hit_columns(self) -> list[np.ndarray]:
        """One bool column per card.prefilters entry."""
        k = self.prefilter_count
        return [((self.hit_bits >> (k - 1 - p)) & 1).astype(bool) for p in range(k)]

    @property
    def contribution_cents(self) -> np.ndarray:
        """Contribution points x 100, quantized as the reference does; computed when asked (the batch
        stores stars, not points)."""
        return cents_of(self.contribution_total, self.contribution_unit)


GRADES = ("AAA", "AA", "A", "B", "C")


def _ceil(value: Fraction) -> int:
    return math.ceil(value)


def _threshold(lower: Decimal, unit: int) -> int:
    """The smallest integer v (value x unit) with v / unit >= lower: then `v >= threshold` is exact."""
    return _ceil(Fraction(lower) * unit)


def _unit(feature: Feature) -> int:
    """What the feature's integer values count in: fen, 1/100 mu, or whole numbers (flags as 0 or 1)."""
    return 100 if feature in ("net_income", "net_assets", "acreage_mu") else 1


_DIFFERENCES = {"net_income": ("annual_income", "annual_expenses"), "net_assets": ("total_assets", "total_liabilities")}


def _difference_fits(arrays: HouseholdArrays, feature: Feature) -> bool:
    """Whether plus - minus of a difference feature fits in int64 for every household of the chunk."""
    plus, minus = _DIFFERENCES[feature]
    return arrays.magnitude(plus) + arrays.magnitude(minus) <= _INT64_MAX


def _feature_codes(arrays: HouseholdArrays, feature: Feature) -> np.ndarray:
    """The feature's integer values, in _unit(feature); a difference that could overflow int64 is taken on
    Python integers."""
    if feature in _DIFFERENCES:
        plus, minus = (arrays[name] for name in _DIFFERENCES[feature])
        if not _difference_fits(arrays, feature):
            return plus.astype(object) - minus.astype(object)
        return plus - minus
    if feature == "acreage_mu":
        return arrays["acreage_centi"]
    return arrays[feature]  # whole numbers and flags (a flag compares as 0 or 1: no copy needed)


def _magnitude(values: np.ndarray) -> int:
    """The largest absolute value, without an |x| temporary the size of the chunk."""
    return max(int(values.max(initial=0)), -int(values.min(initial=0)))  # -(-2^63) needs a Python integer


def _at_least_ratio(liabilities: np.ndarray, assets: np.ndarray, lower: Decimal, biggest: int,
                    positive: np.ndarray) -> np.ndarray:
    """liabilities / assets >= lower, with no assets counting as a ratio of 1 (the reference's rule);
    `biggest` bounds both amounts' magnitude, `positive` is assets > 0."""
    ratio = Fraction(lower)
    num, den = ratio.numerator, ratio.denominator
    if biggest * max(abs(num), den) <= _INT64_MAX:
        reached = liabilities * den >= assets * num
    else:  # exact on Python integers; only absurd amounts or bounds with many decimals come here
        reached = (liabilities.astype(object) * den >= assets.astype(object) * num).astype(bool)
    return reached & positive if 1 < ratio else reached | ~positive


def _bin_column(arrays: HouseholdArrays, scored: ScoredFeature) -> np.ndarray:
    """Bin indices of one feature: how many of its lower bounds (after the first) the value reaches. Bounds
    ascend, so that count is the index of the last bin reached, as in the reference. A few comparisons
    beat a binary search here: cards have a handful of bins."""
    lowers = [b.lower for b in scored.bins[1:]]
    out = np.zeros(len(arrays), dtype=np.int8)
    if scored.feature == "debt_ratio":
        liabilities, assets = arrays["total_liabilities"], arrays["total_assets"]
        biggest = max(arrays.magnitude("total_liabilities"), arrays.magnitude("total_assets"))
        positive = assets > 0
        for lower in lowers:
            out += _at_least_ratio(liabilities, assets, lower, biggest, positive)  # type: ignore[arg-type]
        return out
    values, unit = _feature_codes(arrays, scored.feature), _unit(scored.feature)
    for threshold in (_threshold(lo, unit) for lo in lowers):  # type: ignore[arg-type]
        if values.dtype == object:  # Python integers (a difference beyond int64): any threshold compares
            out += (values >= threshold).astype(bool)
        elif threshold > _INT64_MAX:
            continue  # reached by no value
        elif threshold < -_INT64_MAX:
            out += 1  # reached by every value
        else:
            out += values >= threshold
    return out


def feature_bins(arrays: HouseholdArrays, card: CreditScorecard) -> list[np.ndarray]:
    """One column of bin indices per card feature."""
    return [_bin_column(arrays, scored) for scored in card.features]


def contribution(arrays: HouseholdArrays, model: ContributionModel) -> tuple[np.ndarray, int, np.ndarray]:
    """(P, unit, stars) where contribution points = P / unit exactly. P is an integer: amounts are fen, the
    weights are decimals scaled by 10^k, transactions count x 100,000."""
    (aw, lw, sw), unit, floors = _contribution_terms(model)
    terms = [(arrays["avg_daily_assets"], aw), (arrays["avg_loan_balance"], lw), (arrays["settlement_txns"], sw)]
    wide = not _contribution_fits(arrays, [aw, lw, sw], floors)
    kind = object if wide else np.int64
    total = sum(v.astype(kind) * w for v, w in terms if w)
    if isinstance(total, int):  # every weight zero
        total = np.zeros(len(arrays), dtype=kind)
    # For an integer total, total >= floor is total >= ceil(floor). The reference keeps the last band
    # reached in list order: with floors ascending that is the number of floors reached.
    lows = [f for f, _ in floors]
    if not wide and lows == sorted(set(lows)):
        reached = np.zeros(len(arrays), dtype=np.int8)
        for low in lows:
            reached += total >= low
        stars = np.array([0, *(s for _, s in floors)], dtype=np.int8)[reached]
    else:
        stars = np.zeros(len(arrays), dtype=np.int8)
        for low, band_stars in floors:
            stars = np.where(total >= low, np.int8(band_stars), stars)
    return total, unit, stars.astype(np.int8)


def cents_of(total: np.ndarray, unit: int) -> np.ndarray:
    """total / unit x 100, rounded half-even (Decimal.quantize's default), exactly."""
    per_cent = unit // 100
    quotient, remainder = np.divmod(total, per_cent)
    twice = remainder * 2
    up = (twice > per_cent) | ((twice == per_cent) & (quotient % 2 == 1))
    if total.dtype == object:
        return np.array([int(q) + bool(u) for q, u in zip(quotient, up, strict=True)], dtype=object)
    return (quotient + up).astype(np.int64)


def prefilter_hits(arrays: HouseholdArrays, card: CreditScorecard) -> list[np.ndarray]:
    """One bool column per card.prefilters entry."""
    age = arrays["age"]
    checks = {"BLACKLIST": lambda: arrays["blacklisted"], "CURRENT_OVERDUE": lambda: arrays["currently_overdue"],
              "BAD_HISTORY": lambda: arrays["bad_history"], "COURT_DISHONEST": lambda: arrays["court_dishonest"],
              "AGE_OUT_OF_RANGE": lambda: (age < card.min_age) | (age > card.max_age)}
    return [checks[code]().astype(bool, copy=False) for code in card.prefilters]


_STAR_LEVELS = max(STARS) + 1
_TABLE_LIMIT = 1 << 16  # bin combinations x star levels small enough for one score table


def _combination(bin_columns: list[np.ndarray], radices: list[int], n: int) -> np.ndarray:
    """The bins of every feature as one mixed-radix number per household (first feature most significant)."""
    code = np.zeros(n, dtype=np.int32)
    for radix, column in zip(radices, bin_columns, strict=True):
        code *= radix
        code += column
    return code


def _grade_by_score(card: CreditScorecard) -> np.ndarray:
    """Grade index for every possible score: the first band (highest first) reached, else C."""
    return np.array([next((GRADES.index(b.grade) for b in card.grade_bands if score >= b.min_score),
                          GRADES.index("C")) for score in range(max(card.max_score, 0) + 1)], dtype=np.int8)


def _star_points(card: CreditScorecard) -> np.ndarray:
    out = np.zeros(_STAR_LEVELS, dtype=np.int32)
    for stars, points in card.contribution_points.items():
        out[stars] = points
    return out


def _tables(card: CreditScorecard, radices: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Score and grade at every index `bin combination x 8 + stars`: base + bin points + star points, at most
    max_score, then at least 0 (the reference's order), and the grade band of that score."""
    rest = np.arange(math.prod(radices), dtype=np.int64)
    points = np.zeros(len(rest), dtype=np.int64)
    for scored, radix in zip(reversed(card.features), reversed(radices), strict=True):
        rest, digit = np.divmod(rest, radix)
        points += np.array([b.points for b in scored.bins], dtype=np.int64)[digit]
    total = (points[:, None] + _star_points(card)[None, :] + card.base_score).ravel()
    total = np.maximum(np.minimum(total, card.max_score), 0)
    return total.astype(np.int32), _grade_by_score(card)[total]


def _hit_bits(hit_columns: list[np.ndarray], n: int) -> np.ndarray:
    """The pre-filter hits as bits, the first pre-filter highest (there are at most five: one byte)."""
    bits = np.zeros(n, dtype=np.uint8)
    for column in hit_columns:
        bits <<= 1
        bits |= column
    return bits


def score_arrays(arrays: HouseholdArrays, card: CreditScorecard, contrib: ContributionModel, *,
                 compiled: bool = True) -> ScoredArrays:
    """Score a chunk: with the compiled pass (vector_kernel) when every product fits in int64 and the
    reason codes do too, else (or when `compiled` is False) with numpy."""
    if compiled:
        scored = _score_compiled(arrays, card, contrib)
        if scored is not None:
            return scored
    return _score_numpy(arrays, card, contrib)


def _score_numpy(arrays: HouseholdArrays, card: CreditScorecard, contrib: ContributionModel) -> ScoredArrays:
    n = len(arrays)
    contribution_total, unit, stars = contribution(arrays, contrib)
    bin_columns = feature_bins(arrays, card)
    hit_bits = _hit_bits(prefilter_hits(arrays, card), n)
    any_hit = hit_bits != 0
    radices = [len(f.bins) for f in card.features]
    combination = None
    if math.prod(radices) * _STAR_LEVELS <= _TABLE_LIMIT:
        # One lookup per household instead of one per feature: each (bins, stars) pair is scored once, in
        # the table; the combination is also the reason code's first part.
        combination = _combination(bin_columns, radices, n)
        index = combination * _STAR_LEVELS
        index += stars
        index = index.astype(np.intp)
        score_table, grade_table = _tables(card, radices)
        total, grade = np.take(score_table, index), np.take(grade_table, index)
    else:
        total = np.take(_star_points(card), stars) + np.int32(card.base_score)
        for scored, column in zip(card.features, bin_columns, strict=True):
            total += np.take(np.array([b.points for b in scored.bins], dtype=np.int32), column)
        np.minimum(total, card.max_score, out=total)  # then at least 0, as the reference (not np.clip, which
        np.maximum(total, 0, out=total)              # gives max_score when it is below 0)
        grade = np.take(_grade_by_score(card), total)
    total[any_hit] = 0
    grade[any_hit] = GRADES.index("C")
    return ScoredArrays(score=total, grade=grade, stars=stars, contribution_total=contribution_total,
                        contribution_unit=unit, bin_columns=bin_columns, hit_bits=hit_bits,
                        prefilter_count=len(card.prefilters), combination=combination)


def _contribution_terms(contrib: ContributionModel) -> tuple[list[int], int, list[tuple[int, int]]]:
    """([asset, loan, per-transaction] integer weights, unit, [(integer floor, stars)]): contribution points
    = (avg_daily_assets x w0 + avg_loan_balance x w1 + settlement_txns x w2) / unit, exactly; a band is
    reached when that integer is at least its floor."""
    weights = [Fraction(contrib.asset_weight), Fraction(contrib.loan_weight), Fraction(contrib.settlement_weight)]
    scale = math.lcm(*(w.denominator for w in weights))
    aw, lw, sw = (int(w * scale) for w in weights)
    floors = [(_ceil(Fraction(floor) * 100_000 * scale), stars) for floor, stars in contrib.star_bands]
    return [aw, lw, sw * 100_000], 100_000 * scale, floors


def _contribution_fits(arrays: HouseholdArrays, weights: list[int], floors: list[tuple[int, int]]) -> bool:
    """Whether the contribution total and its floors fit in int64 for every household of the chunk."""
    money = ("avg_daily_assets", "avg_loan_balance", "settlement_txns")
    bound = sum(arrays.magnitude(name) * abs(w) for name, w in zip(money, weights, strict=True))
    return bound <= _INT64_MAX // 2 and all(abs(f) <= _INT64_MAX for f, _ in floors)


def _encoded_bounds(arrays: HouseholdArrays, card: CreditScorecard, group: int) -> tuple[np.ndarray, ...] | None:
    """The card's bin bounds as the compiled pass takes them, one row per feature padded to whole groups:
    (thresholds, counts, always reached, debt-ratio numerators, denominators, above-one flags, points); None
    when a debt-ratio product could overflow int64 for this chunk."""
    width, depth = len(card.features), max(len(f.bins) for f in card.features)
    padded = group * max(1, -(-(depth - 1) // group))
    thresholds, counts, always = (np.zeros((width, padded), dtype=np.int64), np.zeros(width, dtype=np.int64),
                                  np.zeros(width, dtype=np.int64))
    ratio_num, ratio_den = np.zeros((width, padded), dtype=np.int64), np.ones((width, padded), dtype=np.int64)
    above_one = np.zeros((width, padded), dtype=np.bool_)
    points = np.zeros((width, depth), dtype=np.int32)
    for j, scored in enumerate(card.features):
        points[j, :len(scored.bins)] = [b.points for b in scored.bins]
        lowers = [b.lower for b in scored.bins[1:]]
        if scored.feature == "debt_ratio":
            biggest = max(arrays.magnitude("total_liabilities"), arrays.magnitude("total_assets"), 1)
            for t, lower in enumerate(Fraction(lo) for lo in lowers):  # type: ignore[arg-type]
                if biggest * max(abs(lower.numerator), lower.denominator) > _INT64_MAX:
                    return None
                ratio_num[j, t], ratio_den[j, t], above_one[j, t] = lower.numerator, lower.denominator, 1 < lower
            counts[j] = len(lowers)
            continue
        for threshold in (_threshold(lo, _unit(scored.feature)) for lo in lowers):  # type: ignore[arg-type]
            if threshold < -_INT64_MAX:
                always[j] += 1  # reached by every value
            elif threshold <= _INT64_MAX:  # above it: reached by no value
                thresholds[j, counts[j]] = threshold
                counts[j] += 1
    return thresholds, counts, always, ratio_num, ratio_den, above_one, points


@functools.cache
def _kernel() -> ModuleType | None:
    """The compiled pass, or None (with a warning, once) when it cannot load: numba missing, or no writable
    place for its cache (NUMBA_CACHE_DIR; docs/operations.md). Chunks are then scored by numpy, slower."""
    try:
        from domain.rating import vector_kernel
    except (ImportError, RuntimeError) as exc:
        warnings.warn(f"the compiled batch scorer is unavailable, scoring with numpy: {exc}", RuntimeWarning,
                      stacklevel=2)
        return None
    return vector_kernel


def _score_compiled(arrays: HouseholdArrays, card: CreditScorecard,
                    contrib: ContributionModel) -> ScoredArrays | None:
    """The compiled pass, or None when numba is unavailable, a product could overflow int64 (absurd
    amounts, bounds with many decimals) or the reason codes would not fit: the numpy path handles those,
    on Python integers where needed."""
    kernel = _kernel()
    if kernel is None:
        return None
    weights, unit, floors = _contribution_terms(contrib)
    radices = [len(f.bins) for f in card.features]
    space = math.prod(radices) << len(card.prefilters)
    # (Scores, bin counts and ages fit their arrays by the model's own limits: MAX_POINTS, MAX_BINS.)
    if space > _INT64_MAX or len(floors) > kernel.STAR_BANDS or not _contribution_fits(arrays, weights, floors) \
            or not all(_difference_fits(arrays, f.feature) for f in card.features if f.feature in _DIFFERENCES):
        return None
    bounds = _encoded_bounds(arrays, card, kernel.GROUP)
    if bounds is None:
        return None
    n = len(arrays)
    out = {"score": np.empty(n, dtype=np.int32), "grade": np.empty(n, dtype=np.int8),
           "stars": np.empty(n, dtype=np.int8), "total": np.empty(n, dtype=np.int64),
           "bits": np.empty(n, dtype=np.uint8), "bins": np.empty((len(radices), n), dtype=np.uint8),
           "code": np.empty(n, dtype=np.int32 if space < 2**31 else np.int64)}
    a = arrays.columns
    kernel.score_chunk(a["age"], a["annual_income"], a["annual_expenses"], a["total_assets"], a["total_liabilities"],
                a["acreage_centi"], a["livestock_heads"], a["business_years"], a["labour_count"], a["house_owned"],
                a["credit_village"], a["blacklisted"], a["currently_overdue"], a["bad_history"], a["court_dishonest"],
                a["avg_daily_assets"], a["avg_loan_balance"], a["settlement_txns"],
                np.array([kernel.FEATURE_IDS[f.feature] for f in card.features], dtype=np.int64), *bounds,
                np.array(radices, dtype=np.int64),
                np.array([kernel.PREFILTER_IDS[p] for p in card.prefilters], dtype=np.int64), card.min_age, card.max_age,
                np.array(weights, dtype=np.int64),
                np.array([f for f, _ in floors] + [0] * (kernel.STAR_BANDS - len(floors)), dtype=np.int64), len(floors),
                np.array([0, *(s for _, s in floors)], dtype=np.int64), _star_points(card).astype(np.int64),
                card.base_score, card.max_score, _grade_by_score(card), GRADES.index("C"),
                out["score"], out["grade"], out["stars"], out["total"], out["bits"], out["bins"], out["code"])
    return ScoredArrays(score=out["score"], grade=out["grade"], stars=out["stars"], contribution_total=out["total"],
                        contribution_unit=unit, bin_columns=list(out["bins"]), hit_bits=out["bits"],
                        prefilter_count=len(card.prefilters), codes=out["code"], compiled=True)


def reasons_of(scored: ScoredArrays, card: CreditScorecard, row: int) -> list[str]:
    """One row's reason codes: its pre-filter hits, or else each feature's bin reason (as the reference)."""
    hit = [code for code, column in zip(card.prefilters, scored.hit_columns, strict=True) if column[row]]
    if hit:
        return hit
    return [f.bins[int(column[row])].reason for f, column in zip(card.features, scored.bin_columns, strict=True)]


def reason_codes(scored: ScoredArrays, card: CreditScorecard) -> np.ndarray:
    """A number per household that determines its reason list: the bins in mixed radix (0 when a
    pre-filter hit), then the hits as bits. Lists are built once per distinct number (reason_lists), at
    most a few thousand, not once per household."""
    if scored.codes is not None:
        return scored.codes
    radices = [len(f.bins) for f in card.features]
    space = math.prod(radices) << len(card.prefilters)
    if space > _INT64_MAX:
        raise ValueError("the scorecard has too many bin combinations for reason codes")
    dtype = np.int32 if space < 2**31 else np.int64
    if scored.combination is not None:
        code = scored.combination.astype(dtype)
    else:
        code = np.zeros(len(scored.score), dtype=dtype)
        for radix, column in zip(radices, scored.bin_columns, strict=True):
            code *= radix
            code += column
    code[scored.any_hit] = 0
    code <<= len(card.prefilters)
    code += scored.hit_bits
    return code


def distinct_codes(codes: np.ndarray) -> np.ndarray:
    """The distinct reason codes present."""
    if len(codes) and 0 <= int(codes.min()) and int(codes.max()) < 4 * len(codes) + 65536:
        return np.flatnonzero(np.bincount(codes))  # linear, where sorting would be n log n
    return np.unique(codes)


def reason_lists(codes: np.ndarray, card: CreditScorecard) -> list[list[str]]:
    """The reason list of each distinct reason code, decoded."""
    k = len(card.prefilters)
    out = []
    for code in (int(c) for c in codes):
        hits = [card.prefilters[k - 1 - i] for i in range(k) if code >> i & 1]
        if hits:
            out.append([p for p in card.prefilters if p in hits])
            continue
        rest, digits = code >> k, []
        for f in reversed(card.features):
            rest, digit = divmod(rest, len(f.bins))
            digits.append(digit)
        out.append([f.bins[d].reason for f, d in zip(card.features, reversed(digits), strict=True)])
    return out


def arrays_from_facts(facts: list[HouseholdFacts]) -> HouseholdArrays:
    """Columns from reference inputs (tests, the bench); money must be whole fen, acreage whole 1/100 mu."""

    def whole(value: Decimal, unit: int, name: str) -> int:
        scaled = value * unit
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{name}={value} is not a whole multiple of 1/{unit}")
        return int(scaled)

    columns: dict[str, np.ndarray] = {}
    for name in INT_COLUMNS:
        columns[name] = np.array([getattr(f, name) for f in facts], dtype=np.int64)
    for name in FEN_COLUMNS:
        columns[name] = np.array([whole(getattr(f, name), 100, name) for f in facts], dtype=np.int64)
    for name in BOOL_COLUMNS:
        columns[name] = np.array([getattr(f, name) for f in facts], dtype=bool)
    columns["acreage_centi"] = np.array([whole(f.acreage_mu, 100, "acreage_mu") for f in facts], dtype=np.int64)
    return HouseholdArrays(columns)


def ages_on(births: np.ndarray, as_of: date) -> np.ndarray:
    """Completed years on `as_of` for datetime64[D] birth dates: domain.identity.age_on, set-based."""
    years = births.astype("datetime64[Y]").astype(np.int64) + 1970
    # Compare (month, day) pairs, not days of the year: leap years shift the day number after February.
    months = births.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (births - births.astype("datetime64[M]")).astype(np.int64) + 1
    before_birthday = (as_of.month < months) | ((as_of.month == months) & (as_of.day < days))
    return as_of.year - years - before_birthday.astype(np.int64)


# ---- rows that cannot be rated ----
# The batch reports these per household with every reason, and rates the rest (issue 4, point 7).

MAX_AMOUNT_FEN = 10**10 * 100  # ten billion yuan: no household has it; beyond this a figure is a typo
MAX_AGE = 130
PROBLEMS: dict[str, tuple[str, str]] = {
    "BIRTH_DATE_IN_FUTURE": ("出生日期晚于评级日期", "the birth date is after the rating date"),
    "AGE_IMPOSSIBLE": (f"年龄超过{MAX_AGE}岁,出生日期有误", f"older than {MAX_AGE}: the birth date is wrong"),
    "NEGATIVE_VALUE": ("数值不能为负", "the value may not be negative"),
    "AMOUNT_TOO_LARGE": ("金额超过一百亿元,疑似录入错误", "the amount exceeds ten billion yuan: a typing error"),
    "NOT_A_NUMBER": ("不是有效数字", "not a number"),
    "TOO_MANY_DECIMALS": ("金额最多两位小数", "amounts have at most two decimals"),
    "LABOUR_EXCEEDS_MEMBERS": ("劳动力人数超过家庭人口", "more labourers than household members"),
    "MISSING_CONTRIBUTION_FACTS": ("缺少数仓贡献度数据,无法计算贡献星级",
                                   "no contribution facts from the data warehouse: stars cannot be computed"),
}
NON_NEGATIVE = ("annual_income", "annual_expenses", "total_assets", "total_liabilities", "avg_daily_assets",
                "avg_loan_balance", "livestock_heads", "business_years", "labour_count", "settlement_txns")


def problem(code: str, field: str) -> dict[str, str]:
    zh, en = PROBLEMS[code]
    return {"code": code, "field": field, "zh": zh, "en": en}


def row_problems(arrays: HouseholdArrays, births: np.ndarray, as_of: date) -> list[tuple[np.ndarray, str, str]]:
    """(mask, code, field) for every check a household can fail; checks on decoded numbers only (the
    reader reports what would not decode)."""
    age = arrays["age"]
    out = [(births > np.datetime64(as_of, "D"), "BIRTH_DATE_IN_FUTURE", "birth_date"),
           (age > MAX_AGE, "AGE_IMPOSSIBLE", "birth_date")]
    for name in NON_NEGATIVE:
        out.append((arrays[name] < 0, "NEGATIVE_VALUE", name))
    out.append((arrays["acreage_centi"] < 0, "NEGATIVE_VALUE", "acreage_mu"))
    for name in FEN_COLUMNS:
        out.append((arrays[name] > MAX_AMOUNT_FEN, "AMOUNT_TOO_LARGE", name))
    if "member_count" in arrays.columns:
        out.append((arrays["labour_count"] > arrays["member_count"], "LABOUR_EXCEEDS_MEMBERS", "labour_count"))
    return out
