"""The MBG/NBD model: the BG/NBD with a chance of dropping out right after the first purchase.

Reference: Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical validation and
comparison of models for customer base analysis", *International Journal of Research in
Marketing* 24(3), 201-209 (also Hoppe & Wagner 2007, "Customer base analysis: the case for a
central variant of the Betageometric/NBD model", *Marketing — Journal of Research and Management*
3(2), 75-90, as the "central variant" CBG/NBD).

In the BG/NBD (Fader, Hardie & Lee 2005) a customer who never bought again is certainly alive,
however long ago she was acquired. The MBG/NBD adds a dropout opportunity at time 0, so that::

    L(r, α, a, b | x, t_x, T) = Γ(r+x) α^r / Γ(r) · B(a, b+x+1) / B(a, b)
                                · [ (α+T)^-(r+x) + a/(b+x) · (α+t_x)^-(r+x) ]

for every x (including x = 0), P(alive) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)), and the
expectations follow from the BG/NBD ones (FHL 2005 eqs. 8-10) with ``b+x+1`` for ``b+x`` and
``a+b+x`` for ``a+b+x-1``. The implementation is shared with
:class:`kehu.analytics.bgnbd.BetaGeometricNBDFamily`.
"""

from __future__ import annotations

from typing import ClassVar

from numpy.typing import ArrayLike

from kehu.analytics.bgnbd import BetaGeometricNBDFamily


class ModifiedBetaGeoModel(BetaGeometricNBDFamily):
    """MBG/NBD model (Batislam, Denizel & Filiztekin 2007, IJRM 24(3)).

    Same parameters (``r, alpha, a, b``), attributes and methods as
    :class:`~kehu.analytics.bgnbd.BetaGeoModel`. On the CDNOW sample (2,357 customers, weeks) the
    R package BTYDplus (``mbgnbd.EstimateParameters``) gets r = 0.525, alpha = 6.183, a = 0.891,
    b = 1.614 (as quoted by the lifetimes test suite).
    """

    alternative_models = "BG/NBD or Pareto/NBD"

    _dropout_at_start: ClassVar[bool] = True
    _model_label: ClassVar[str] = "MBG/NBD"

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
        initial_params: ArrayLike | None = None,
    ) -> ModifiedBetaGeoModel:
        super().fit(frequency, recency, T, weights, initial_params)
        return self
