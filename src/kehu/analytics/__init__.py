"""kehu.analytics: the customer-base models, pure numpy/scipy (imports nothing of kehu but
:mod:`kehu.errors`).

Transaction models (recency-frequency summaries): :class:`BetaGeoModel` (BG/NBD),
:class:`ModifiedBetaGeoModel` (MBG/NBD), :class:`ParetoNBDModel` (Pareto/NBD) and, in discrete
time, :class:`BetaGeoBetaBinomModel` (BG/BB). Spend model: :class:`GammaGammaModel`. Value:
:func:`customer_lifetime_value` and :func:`per_period_discount_rate`. Reference data:
:func:`load_cdnow_summary`, :func:`load_cdnow_sample_transactions`, :func:`load_donations`.

Satisfaction scores with their intervals, ``n`` and a small-sample flag (plain functions of answer
arrays): :mod:`kehu.analytics.satisfaction` (NPS, its change between periods, CSAT, CES,
``by_group``), :mod:`kehu.analytics.servqual` (SERVQUAL gaps) and
:mod:`kehu.analytics.association` (correlation and effects linking the desk's records to the
answers); ``docs/satisfaction-statistics.md`` states their formulas.
"""

from kehu.analytics.bgbb import BetaGeoBetaBinomModel
from kehu.analytics.bgnbd import BetaGeoModel
from kehu.analytics.clv import customer_lifetime_value, per_period_discount_rate
from kehu.analytics.datasets import (
    load_cdnow_sample_transactions,
    load_cdnow_summary,
    load_donations,
)
from kehu.analytics.gammagamma import GammaGammaModel
from kehu.analytics.mbgnbd import ModifiedBetaGeoModel
from kehu.analytics.paretonbd import ParetoNBDModel
from kehu.analytics.simulate import simulate_bgnbd, simulate_gamma_gamma, simulate_mbgnbd

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "customer_lifetime_value",
    "load_cdnow_sample_transactions",
    "load_cdnow_summary",
    "load_donations",
    "per_period_discount_rate",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "simulate_mbgnbd",
]
