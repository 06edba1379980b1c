"""RFM scoring and the RFM segment map.

RFM (recency, frequency, monetary value) ranks customers on three facts of their purchase history:
how long ago they last bought, how often they bought, and how much they spent (Hughes 1994,
*Strategic Database Marketing*). Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430, show that the three
facts are sufficient statistics for the standard customer-base models, which is why kehu reports
both.

Scores
------
Each of R, F and M gets a quintile score 1..5 (5 is best: the most recent, the most frequent, the
largest spender). The score of a customer is

    score = 1 + floor(5 * b / n)

where ``n`` is the number of customers and ``b`` the number of customers whose value is strictly
*worse* (for recency: more days since the last purchase; for frequency and monetary: smaller).
This is the quintile of the customer's minimum rank (``rank(method="min") - 1``), computed in exact
integer arithmetic, so that

- identical values always share a score (ties are never split by row order);
- the worst value always scores 1, and without ties the scores are as-equal-as-possible quintiles
  (n = 10 gives 1,1,2,2,3,3,4,4,5,5);
- a heavy tie at the bottom (say 60% of customers with a single purchase day) all score 1, and the
  next value up starts at the quintile its position warrants (here 4): scores may skip values when
  ties are heavy, which is the honest answer -- the data do not separate those customers.

Segments
--------
The named segments follow the usual "RFM segment map" on the R score and the FM score, where
``FM = floor((F + M + 1) / 2)`` (the mean of F and M, halves rounded up)::

    R \\ FM  1               2                    3                    4          5
    5       new customers   potential loyalists  potential loyalists  champions  champions
    4       promising       potential loyalists  potential loyalists  loyal      loyal
    3       about to sleep  about to sleep       need attention       loyal      loyal
    2       hibernating     hibernating          at risk              at risk    cannot lose them
    1       lost            lost                 at risk              at risk    cannot lose them

("loyal" is the segment "loyal customers").

Every one of the 25 cells belongs to exactly one segment (see :data:`SEGMENT_MAP`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from kehu.analytics._base import as_float_array
from kehu.errors import ColumnsError, EmptyInputError, InputError

__all__ = [
    "SEGMENTS",
    "SEGMENT_MAP",
    "SEGMENT_NAMES",
    "fm_score",
    "quantile_scores",
    "rfm_from_transactions",
    "rfm_segment_codes",
    "rfm_segments",
    "rfm_table",
]

N_SCORES: Final = 5

#: Segment ids, best first (the order used by tables and charts).
SEGMENTS: Final[tuple[str, ...]] = (
    "champions",
    "loyal_customers",
    "potential_loyalists",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose_them",
    "hibernating",
    "lost",
)

#: Display names of the segments, English and Simplified Chinese.
SEGMENT_NAMES: Final[Mapping[str, Mapping[str, str]]] = {
    "champions": {"en": "Champions", "zh": "冠军客户"},
    "loyal_customers": {"en": "Loyal customers", "zh": "忠诚客户"},
    "potential_loyalists": {"en": "Potential loyalists", "zh": "潜力客户"},
    "new_customers": {"en": "New customers", "zh": "新客户"},
    "promising": {"en": "Promising", "zh": "有希望的客户"},
    "need_attention": {"en": "Need attention", "zh": "需要关注的客户"},
    "about_to_sleep": {"en": "About to sleep", "zh": "即将沉睡的客户"},
    "at_risk": {"en": "At risk", "zh": "有流失风险的客户"},
    "cannot_lose_them": {"en": "Cannot lose them", "zh": "不能失去的客户"},
    "hibernating": {"en": "Hibernating", "zh": "休眠客户"},
    "lost": {"en": "Lost", "zh": "已流失客户"},
}


def _build_segment_map() -> dict[tuple[int, int], str]:
    rows = {
        5: ("new_customers", "potential_loyalists", "potential_loyalists", "champions",
            "champions"),
        4: ("promising", "potential_loyalists", "potential_loyalists", "loyal_customers",
            "loyal_customers"),
        3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal_customers",
            "loyal_customers"),
        2: ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose_them"),
        1: ("lost", "lost", "at_risk", "at_risk", "cannot_lose_them"),
    }  # fmt: skip
    return {(r, fm): segment for r, row in rows.items() for fm, segment in enumerate(row, start=1)}


#: ``(R score, FM score) -> segment id`` for all 25 cells.
SEGMENT_MAP: Final[Mapping[tuple[int, int], str]] = _build_segment_map()


def quantile_scores(
    values: ArrayLike, *, higher_is_better: bool = True, n_scores: int = N_SCORES
) -> NDArray[np.int64]:
    """Score each value 1..``n_scores`` by its quantile; ties share a score.

    ``score = 1 + floor(n_scores * b / n)`` with ``b`` the number of values strictly worse than
    this one (smaller when ``higher_is_better``, larger otherwise). See the module docstring for the
    properties of this rule (Hughes 1994; Fader, Hardie & Lee 2005).

    Raises :class:`~kehu.errors.InputError` for NaN/inf or ``n_scores < 1``; an empty input gives
    an empty result.
    """
    if n_scores < 1:
        raise InputError(f"n_scores must be at least 1, got {n_scores}")
    array = as_float_array(values, "values")
    n = len(array)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    keys = array if higher_is_better else -array
    # number of values strictly smaller than each key, i.e. min-rank - 1
    low, high = float(keys.min()), float(keys.max())
    whole = high - low <= 8 * n + 1024 and bool(np.all(keys == np.floor(keys)))
    if whole:
        # whole numbers in a small range (days, counts): count them, no sort at all
        codes = (keys - low).astype(np.intp)
        counts = np.bincount(codes)
        worse = (np.cumsum(counts) - counts)[codes].astype(np.int64)
    else:
        # one sort; each tie group takes the position of its first member (no binary search
        # per value, whose random memory accesses cost more than the sort)
        order = np.argsort(keys)
        ordered = keys[order]
        group_start = np.ones(n, dtype=bool)
        group_start[1:] = ordered[1:] != ordered[:-1]
        first = np.where(group_start, np.arange(n, dtype=np.int64), 0)
        worse = np.empty(n, dtype=np.int64)
        worse[order] = np.maximum.accumulate(first)
    return 1 + (n_scores * worse) // n


def fm_score(f_score: ArrayLike, m_score: ArrayLike) -> NDArray[np.int64]:
    """The FM score: mean of the F and M scores, halves rounded up (``floor((F + M + 1) / 2)``)."""
    f = np.asarray(f_score, dtype=np.int64)
    m = np.asarray(m_score, dtype=np.int64)
    return (f + m + 1) // 2


def _segment_code_table() -> NDArray[np.int8]:
    table = np.zeros((N_SCORES + 1, N_SCORES + 1), dtype=np.int8)
    for (ri, fi), segment in SEGMENT_MAP.items():
        table[ri, fi] = SEGMENTS.index(segment)
    return table


#: ``SEGMENTS`` index of every (R, FM) cell of :data:`SEGMENT_MAP`.
_SEGMENT_CODES: Final[NDArray[np.int8]] = _segment_code_table()


def rfm_segment_codes(r_score: ArrayLike, fm: ArrayLike) -> NDArray[np.int8]:
    """Segment per customer as an index into :data:`SEGMENTS` (compact for millions of rows),
    from the R and FM scores (both 1..5), by :data:`SEGMENT_MAP`.

    Raises :class:`~kehu.errors.InputError` when a score is outside 1..5.
    """
    r = np.atleast_1d(np.asarray(r_score, dtype=np.int64))
    f = np.atleast_1d(np.asarray(fm, dtype=np.int64))
    if r.shape != f.shape:
        raise InputError(f"r_score and fm have different shapes {r.shape} and {f.shape}")
    for name, scores in (("r_score", r), ("fm", f)):
        bad = (scores < 1) | (scores > N_SCORES)
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{name} must be between 1 and {N_SCORES}",
                row=index + 1,
                column=name,
                value=int(scores[index]),
            )
    codes: NDArray[np.int8] = _SEGMENT_CODES[r, f]
    return codes


def rfm_segments(r_score: ArrayLike, fm: ArrayLike) -> NDArray[np.object_]:
    """Segment id per customer from the R and FM scores (see :func:`rfm_segment_codes`)."""
    names: NDArray[np.object_] = np.asarray(SEGMENTS, dtype=object)[rfm_segment_codes(r_score, fm)]
    return names


def rfm_table(
    recency_days: ArrayLike,
    frequency: ArrayLike,
    monetary: ArrayLike,
    *,
    index: ArrayLike | None = None,
) -> pd.DataFrame:
    """RFM scores and segment per customer.

    Parameters
    ----------
    recency_days:
        Days since the customer's last purchase at the end of observation (fewer is better).
    frequency:
        Number of distinct purchase days.
    monetary:
        Total spend.
    index:
        Customer ids for the rows of the result (default ``0..n-1``).

    Returns
    -------
    DataFrame with columns ``recency_days, frequency, monetary, r_score, f_score, m_score,
    fm_score, rfm_code`` (e.g. ``"545"``) ``, segment`` (an id of :data:`SEGMENTS`), one row per
    customer in input order.
    """
    recency = as_float_array(recency_days, "recency_days")
    freq = as_float_array(frequency, "frequency")
    money = as_float_array(monetary, "monetary")
    if not len(recency) == len(freq) == len(money):
        raise InputError(
            "recency_days, frequency and monetary must have the same length, got "
            f"{len(recency)}, {len(freq)} and {len(money)}"
        )
    for name, array in (("recency_days", recency), ("frequency", freq)):
        negative = array < 0
        if negative.any():
            i = int(np.flatnonzero(negative)[0])
            raise InputError(f"{name} must not be negative", row=i + 1, column=name, value=array[i])
    r = quantile_scores(recency, higher_is_better=False)
    f = quantile_scores(freq)
    m = quantile_scores(money)
    fm = fm_score(f, m)
    # "545"-style codes from a table of the 5^3 strings, not a string per row built in Python
    code_strings = np.array([f"{a}{b}{c}" for a in range(10) for b in range(10) for c in range(10)])
    codes = code_strings[r * 100 + f * 10 + m] if len(r) else np.array([], dtype=str)
    frame = pd.DataFrame(
        {
            "recency_days": recency,
            "frequency": freq,
            "monetary": money,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "fm_score": fm,
            "rfm_code": codes,
            "segment": rfm_segments(r, fm) if len(r) else np.array([], dtype=object),
        },
        index=None if index is None else pd.Index(np.asarray(index)),
    )
    return frame


def rfm_from_transactions(
    transactions: pd.DataFrame,
    observation_end: date | datetime | str,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pd.DataFrame:
    """Recency (days), frequency (purchase days) and monetary (total spend) from a transaction log,
    then :func:`rfm_table`. Transactions after ``observation_end`` are ignored.

    A small in-memory helper for analysis and tests; at scale the warehouse computes the same
    summary in the engine. Dates are compared as calendar days (times of day are dropped).
    """
    missing = [c for c in (customer_col, date_col, amount_col) if c not in transactions.columns]
    if missing:
        raise ColumnsError(
            f"missing columns {missing}; found {list(map(str, transactions.columns))}"
        )
    end = pd.Timestamp(observation_end).normalize()
    days = pd.to_datetime(transactions[date_col]).dt.normalize()
    keep = days <= end
    log = pd.DataFrame(
        {
            "customer": transactions.loc[keep, customer_col].to_numpy(),
            "day": days[keep].to_numpy(),
            "amount": transactions.loc[keep, amount_col].astype("float64").to_numpy(),
        }
    )
    if log.empty:
        raise EmptyInputError("no transactions on or before the observation end")
    grouped = log.groupby("customer", sort=True)
    last = grouped["day"].max()
    recency = (end - last).dt.days.to_numpy(dtype=np.float64)
    frequency = grouped["day"].nunique().to_numpy(dtype=np.float64)
    monetary = grouped["amount"].sum().to_numpy(dtype=np.float64)
    table = rfm_table(recency, frequency, monetary, index=last.index.to_numpy())
    table.index.name = customer_col
    return table
