"""kehu.analytics: the customer-base models, pure numpy/scipy (imports nothing of kehu but
:mod:`kehu.errors`).

Transaction models (recency-frequency summaries): :class:`BetaGeoModel` (BG/NBD),
:class:`ModifiedBetaGeoModel` (MBG/NBD), :class:`ParetoNBDModel` (Pareto/NBD) and, in discrete
time, :class:`BetaGeoBetaBinomModel` (BG/BB). Spend model: :class:`GammaGammaModel`. Value:
:func:`customer_lifetime_value` and :func:`per_period_discount_rate`. Reference data:
:func:`load_cdnow_summary`, :func:`load_cdnow_sample_transactions`, :func:`load_donations`.

Satisfaction (modules of their own, imported by name): scores with their intervals, ``n`` and a
small-sample flag, plain functions of answer arrays, in :mod:`kehu.analytics.satisfaction` (NPS,
its change between periods, CSAT, CES, ``by_group``), :mod:`kehu.analytics.servqual` (SERVQUAL
gaps) and :mod:`kehu.analytics.association` (correlation and effects linking the desk's records
to the answers), ``docs/satisfaction-statistics.md``; key drivers and the importance-performance
matrix in :mod:`kehu.analytics.drivers` (``docs/key-drivers.md``); the PLS path model of
satisfaction in :mod:`kehu.analytics.pls` (``docs/satisfaction-model.md``); the competitor value
map and customer delivered value in :mod:`kehu.analytics.value_map` (``docs/value-map.md``);
complaint themes in Chinese and English text in :mod:`kehu.analytics.themes`, with the words of a
text from :mod:`kehu.analytics.text` (``docs/complaint-themes.md``).

The names below are loaded on first use (PEP 562), not when the package is imported: importing
one light module such as :mod:`kehu.analytics.discounting` must not load scipy, so that a front
door can check its options and its input before the models' numerics are loaded.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kehu.analytics.bgbb import BetaGeoBetaBinomModel
    from kehu.analytics.bgnbd import BetaGeoModel
    from kehu.analytics.clv import customer_lifetime_value
    from kehu.analytics.datasets import (
        load_cdnow_sample_transactions,
        load_cdnow_summary,
        load_donations,
    )
    from kehu.analytics.discounting import per_period_discount_rate
    from kehu.analytics.gammagamma import GammaGammaModel
    from kehu.analytics.mbgnbd import ModifiedBetaGeoModel
    from kehu.analytics.paretonbd import ParetoNBDModel
    from kehu.analytics.simulate import simulate_bgnbd, simulate_gamma_gamma, simulate_mbgnbd

#: Each public name and the module that defines it.
_HOMES = {
    "BetaGeoBetaBinomModel": "bgbb",
    "BetaGeoModel": "bgnbd",
    "GammaGammaModel": "gammagamma",
    "ModifiedBetaGeoModel": "mbgnbd",
    "ParetoNBDModel": "paretonbd",
    "customer_lifetime_value": "clv",
    "load_cdnow_sample_transactions": "datasets",
    "load_cdnow_summary": "datasets",
    "load_donations": "datasets",
    "per_period_discount_rate": "discounting",
    "simulate_bgnbd": "simulate",
    "simulate_gamma_gamma": "simulate",
    "simulate_mbgnbd": "simulate",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kehu.analytics' has no attribute {name!r}")
    value = getattr(import_module(f"kehu.analytics.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
