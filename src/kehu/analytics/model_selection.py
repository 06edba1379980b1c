"""Choosing the purchase model on evidence: fit BG/NBD, MBG/NBD and Pareto/NBD on the same
calibration data and pick one by holdout error, else by BIC.

The rules, in order:

1. **A model that fails to fit** (no convergence, nothing to identify it) stays a candidate with
   its reason and advice; it cannot be chosen. If every candidate fails, nothing is chosen.
2. **Too short to judge**: with fewer than ``min_repeat_buyers`` (30) repeat buyers, or a
   calibration period (the longest ``T``) shorter than ``min_spans`` (3) typical
   inter-purchase times (the weighted median of ``recency / frequency`` over repeat buyers),
   neither a holdout nor BIC tells the models apart reliably. Then the first model of
   :data:`PREFERENCE` that fitted is taken, and the reason says so.
3. **With a holdout**: the lowest mean absolute error of per-customer holdout purchases
   (conditional expectations, FHL 2005 eq. 10 and its analogues) wins. Candidates within
   ``mae_tolerance`` (1%) of the lowest are a near tie, broken by the smaller absolute tracking
   error: the relative error of the cohorts' expected cumulative repeat purchases over the holdout
   (:func:`kehu.analytics.tracking.expected_holdout_repeat_purchases`, FHL 2005 Figure 3).
4. **Without a holdout**: the lowest BIC among the purchase models (a spend model is not
   comparable). All three have four parameters and see the same customers, so BIC ranks them by
   log-likelihood. A difference below ``bic_tolerance`` (2) is "not worth more than a bare
   mention" (Kass & Raftery 1995, "Bayes Factors", *JASA* 90(430), 773-795, the scale of
   Section 3.2), so such a near tie goes to the first of :data:`PREFERENCE` among them.

:data:`PREFERENCE` puts MBG/NBD first: unlike BG/NBD it lets one-time buyers drop out (BG/NBD
gives every one-time buyer P(alive) = 1 however long ago she bought; Batislam, Denizel & Filiztekin
2007, "Empirical validation and comparison of models for customer base analysis", *IJRM* 24(3),
201-209), and its likelihood is in closed form, so it fits faster and more reliably than
Pareto/NBD (Schmittlein, Morrison & Colombo 1987, *Management Science* 33(1)), which comes
second.

References: Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way", *Marketing
Science* 24(2), 275-284 ("FHL 2005"): the 39-week calibration / 39-week holdout validation on CDNOW.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike

from kehu.analytics._base import as_float_array, check_recency_frequency, check_weights
from kehu.analytics.bgnbd import BetaGeoModel
from kehu.analytics.holdout import holdout_errors
from kehu.analytics.mbgnbd import ModifiedBetaGeoModel
from kehu.analytics.paretonbd import ParetoNBDModel
from kehu.analytics.tracking import expected_holdout_repeat_purchases
from kehu.errors import InputError, ModelError, NotFittedError

__all__ = ["CANDIDATES", "LABELS", "PREFERENCE", "CandidateFit", "ModelSelector"]

#: The purchase models ``--model auto`` compares, by their short names.
CANDIDATES: dict[str, type[Any]] = {
    "bgnbd": BetaGeoModel,
    "mbgnbd": ModifiedBetaGeoModel,
    "pnbd": ParetoNBDModel,
}
LABELS = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pnbd": "Pareto/NBD"}
#: Who wins a near tie, and who is taken when the data are too short to judge (see above).
PREFERENCE = ("mbgnbd", "pnbd", "bgnbd")


def _plain_values(values: dict[str, Any]) -> dict[str, str | float | int]:
    """A message's values as JSON keeps them: numbers stay numbers (a template may format
    them, ``%(q).4g``), anything else becomes its text."""
    return {
        key: value if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
        for key, value in values.items()
    }


def _figure(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


@dataclass
class CandidateFit:
    """One candidate: the fitted model, or why it failed; its holdout figures when there was a
    holdout."""

    name: str
    model: Any = None
    failure: str | None = None
    failure_type: str | None = None
    advice: str | None = None
    #: the failure's and the advice's message templates and values (kehu.errors.ModelError), so
    #: that a page or a report can show them in its reader's language
    failure_template: str | None = None
    failure_values: dict[str, Any] = field(default_factory=dict)
    advice_template: str | None = None
    advice_values: dict[str, Any] = field(default_factory=dict)
    holdout_mae: float | None = None
    holdout_rmse: float | None = None
    holdout_predicted: float | None = None
    holdout_actual: float | None = None
    #: (unconditional expected - actual) / actual repeat purchases over the holdout
    tracking_error: float | None = None
    chosen: bool = False

    @property
    def fitted(self) -> bool:
        return self.model is not None

    @property
    def bic(self) -> float:
        return float(self.model.bic_) if self.model is not None else float("inf")

    def as_record(self) -> dict[str, Any]:
        """The candidate's figures for a run's stored JSON (finite numbers or None)."""
        record: dict[str, Any] = {
            "name": self.name,
            "label": LABELS.get(self.name, self.name),
            "model": CANDIDATES[self.name].__name__ if self.name in CANDIDATES else self.name,
            "fitted": self.fitted,
            "chosen": self.chosen,
            "failure": self.failure,
            "failure_type": self.failure_type,
            "advice": self.advice,
            "failure_template": self.failure_template,
            "failure_values": _plain_values(self.failure_values),
            "advice_template": self.advice_template,
            "advice_values": _plain_values(self.advice_values),
            "holdout_mae": _figure(self.holdout_mae),
            "holdout_rmse": _figure(self.holdout_rmse),
            "holdout_predicted": _figure(self.holdout_predicted),
            "holdout_actual": _figure(self.holdout_actual),
            "tracking_error": _figure(self.tracking_error),
        }
        if self.model is not None:
            summary = self.model.summary()
            record.update(
                params={k: float(v) for k, v in summary["params"].items()},
                standard_errors={
                    k: _figure(float(v)) for k, v in summary["standard_errors"].items()
                },
                log_likelihood=_figure(float(summary["log_likelihood"])),
                bic=_figure(float(summary["bic"])),
                converged=bool(summary["converged"]),
            )
        else:
            record.update(
                params={}, standard_errors={}, log_likelihood=None, bic=None, converged=False
            )
        return record


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


@dataclass
class _Evidence:
    repeat_buyers: float
    calibration_length: float
    interpurchase_time: float | None
    holdout: bool
    notes: list[str] = field(default_factory=list)


class ModelSelector:
    """Fit the candidate purchase models and choose one (rules in the module docstring).

    After :meth:`fit`: ``candidates_`` (a :class:`CandidateFit` per candidate, in the order
    given), ``best_`` (the chosen short name, None when every candidate failed),
    ``best_model_``, ``criterion_`` (``"holdout_mae"``, ``"bic"``, ``"too_short"``,
    ``"only_fitted"``, ``"none_fitted"``, or ``"user"`` when ``choice`` names the model to use
    whatever the evidence), ``auto_best_`` (what the rules chose, also under a user's choice),
    ``near_tie_`` (the short names tied with the winner, the winner included; empty without a
    tie), ``too_short_`` (why the data are too short to judge, or None), ``evidence_`` (repeat
    buyers, calibration length, typical inter-purchase time) and ``reason_`` (the choice in a
    sentence).
    """

    candidates_: list[CandidateFit]
    best_: str | None
    best_model_: Any
    auto_best_: str | None
    criterion_: str
    near_tie_: list[str]
    too_short_: str | None
    evidence_: _Evidence
    reason_: str

    def __init__(
        self,
        candidates: tuple[str, ...] = ("bgnbd", "mbgnbd", "pnbd"),
        *,
        min_repeat_buyers: float = 30,
        min_spans: float = 3.0,
        mae_tolerance: float = 0.01,
        bic_tolerance: float = 2.0,
        choice: str | None = None,
    ) -> None:
        unknown = [name for name in candidates if name not in CANDIDATES]
        if unknown or not candidates:
            raise InputError(
                f"unknown candidate models {unknown}; choose from {', '.join(CANDIDATES)}",
                column="candidates",
            )
        if choice is not None and choice not in candidates:
            raise InputError(
                f"the chosen model {choice!r} is not among the candidates {candidates}",
                column="choice",
            )
        self.candidates = tuple(candidates)
        self.choice = choice
        self.min_repeat_buyers = min_repeat_buyers
        self.min_spans = min_spans
        self.mae_tolerance = mae_tolerance
        self.bic_tolerance = bic_tolerance

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        weights: ArrayLike | None = None,
        *,
        holdout_frequency: ArrayLike | None = None,
        holdout_duration: ArrayLike | None = None,
    ) -> Self:
        """Fit every candidate on the calibration rows and choose; returns ``self``.

        ``holdout_frequency`` (purchases per row in the holdout) and ``holdout_duration`` (its
        length per row, in the model's unit) come together or not at all."""
        x, t_x, age = check_recency_frequency(frequency, recency, T)
        w = check_weights(weights, len(x))
        if (holdout_frequency is None) != (holdout_duration is None):
            raise InputError("give holdout_frequency and holdout_duration together")
        actual = duration = None
        if holdout_frequency is not None and holdout_duration is not None:
            actual = as_float_array(holdout_frequency, "holdout_frequency")
            duration = np.broadcast_to(
                as_float_array(holdout_duration, "holdout_duration"), x.shape
            ).astype(np.float64)
            if len(actual) != len(x):
                raise InputError(
                    f"holdout_frequency has {len(actual)} rows, the data {len(x)}",
                    column="holdout_frequency",
                )
        self.candidates_ = [self._fit_one(name, x, t_x, age, w) for name in self.candidates]
        if actual is not None and duration is not None:
            for candidate in self.candidates_:
                self._holdout_figures(candidate, x, t_x, age, w, actual, duration)
        self.evidence_ = self._evidence(x, t_x, age, w, holdout=actual is not None)
        self.too_short_ = self._too_short(self.evidence_)
        self._choose(holdout=actual is not None)
        self.auto_best_ = self.best_
        if self.choice is not None:
            chosen = next(c for c in self.candidates_ if c.name == self.choice)
            for candidate in self.candidates_:
                candidate.chosen = candidate is chosen
            self.criterion_ = "user"
            self.near_tie_ = []
            self.best_ = chosen.name
            self.best_model_ = chosen.model
            self.reason_ = f"{LABELS[chosen.name]} was chosen by the user" + (
                "" if chosen.fitted else f", and it could not be fitted: {chosen.failure}"
            )
        return self

    # --- fitting ------------------------------------------------------------------------------
    @staticmethod
    def _fit_one(
        name: str, x: np.ndarray, t_x: np.ndarray, age: np.ndarray, w: np.ndarray
    ) -> CandidateFit:
        try:
            model = CANDIDATES[name]().fit(x, t_x, age, weights=w)
        except ModelError as error:
            return CandidateFit(
                name,
                failure=error.reason,
                failure_type=type(error).__name__,
                advice=error.advice,
                failure_template=error.reason_template,
                failure_values=error.reason_values,
                advice_template=error.advice_template,
                advice_values=error.advice_values,
            )
        return CandidateFit(name, model=model)

    @staticmethod
    def _holdout_figures(
        candidate: CandidateFit,
        x: np.ndarray,
        t_x: np.ndarray,
        age: np.ndarray,
        w: np.ndarray,
        actual: np.ndarray,
        duration: np.ndarray,
    ) -> None:
        model = candidate.model
        if model is None:
            return
        predicted = np.asarray(
            model.conditional_expected_purchases(duration, x, t_x, age), dtype=np.float64
        )
        errors = holdout_errors(predicted, actual, weights=w)
        candidate.holdout_mae = errors.mae
        candidate.holdout_rmse = errors.rmse
        candidate.holdout_actual = errors.total_actual
        # the cohorts' unconditional expectation over the holdout (the tracking plot's)
        expected = expected_holdout_repeat_purchases(model, age, float(duration.max()), weights=w)
        candidate.holdout_predicted = expected
        if errors.total_actual > 0:
            candidate.tracking_error = (expected - errors.total_actual) / errors.total_actual

    # --- choosing -----------------------------------------------------------------------------
    def _evidence(
        self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray, w: np.ndarray, *, holdout: bool
    ) -> _Evidence:
        repeat = (x > 0) & (w > 0)
        gaps = t_x[repeat] / x[repeat]
        interpurchase = _weighted_median(gaps, w[repeat]) if repeat.any() else None
        return _Evidence(
            repeat_buyers=float(w[repeat].sum()),
            calibration_length=float(age.max()) if len(age) else 0.0,
            interpurchase_time=interpurchase,
            holdout=holdout,
        )

    def _too_short(self, evidence: _Evidence) -> str | None:
        if evidence.repeat_buyers < self.min_repeat_buyers:
            return (
                f"{evidence.repeat_buyers:g} repeat buyers, fewer than the "
                f"{self.min_repeat_buyers:g} needed to tell the models apart"
            )
        gap = evidence.interpurchase_time
        if gap is not None and evidence.calibration_length < self.min_spans * gap:
            return (
                f"the calibration period ({evidence.calibration_length:.3g} units) is shorter "
                f"than {self.min_spans:g} typical times between purchases ({gap:.3g} units each)"
            )
        return None

    def _preferred(self, names: list[str]) -> str:
        return min(names, key=lambda name: PREFERENCE.index(name))

    def _choose(self, *, holdout: bool) -> None:
        fitted = [c for c in self.candidates_ if c.fitted]
        self.near_tie_ = []
        self.best_ = None
        if not fitted:
            self.criterion_ = "none_fitted"
            self.reason_ = "no candidate model could be fitted"
            self.best_model_ = None
            return
        if len(fitted) == 1:
            winner = fitted[0]
            self.criterion_ = "only_fitted"
            self.reason_ = f"{LABELS[winner.name]} is the only candidate that could be fitted"
        elif self.too_short_ is not None:
            winner = next(c for c in fitted if c.name == self._preferred([c.name for c in fitted]))
            self.criterion_ = "too_short"
            self.reason_ = (
                f"too short to judge ({self.too_short_}): {LABELS[winner.name]}, the first of "
                f"{', '.join(LABELS[n] for n in PREFERENCE)} that could be fitted"
            )
        elif holdout and all(c.holdout_mae is not None for c in fitted):
            best_mae = min(float(c.holdout_mae or 0.0) for c in fitted)
            tied = [
                c
                for c in fitted
                if float(c.holdout_mae or 0.0) <= best_mae * (1 + self.mae_tolerance) + 1e-12
            ]
            if len(tied) > 1:
                # near tie: the smaller absolute tracking error (unknown ranks last), then BIC
                winner = min(
                    tied,
                    key=lambda c: (
                        abs(c.tracking_error) if c.tracking_error is not None else np.inf,
                        c.bic,
                    ),
                )
                self.near_tie_ = [c.name for c in tied]
                self.reason_ = (
                    f"holdout mean absolute errors within {self.mae_tolerance:.0%} of the "
                    f"lowest ({', '.join(LABELS[c.name] for c in tied)}): "
                    f"{LABELS[winner.name]} has the smallest tracking error"
                )
            else:
                winner = tied[0]
                self.reason_ = (
                    f"{LABELS[winner.name]} has the lowest holdout mean absolute error "
                    f"({float(winner.holdout_mae or 0.0):.4f} purchases per customer)"
                )
            self.criterion_ = "holdout_mae"
        else:
            best_bic = min(c.bic for c in fitted)
            tied = [c for c in fitted if c.bic <= best_bic + self.bic_tolerance]
            if len(tied) > 1:
                name = self._preferred([c.name for c in tied])
                winner = next(c for c in tied if c.name == name)
                self.near_tie_ = [c.name for c in tied]
                self.reason_ = (
                    f"BICs within {self.bic_tolerance:g} of the lowest "
                    f"({', '.join(LABELS[c.name] for c in tied)}): {LABELS[winner.name]} is "
                    "first in the order of preference"
                )
            else:
                winner = tied[0]
                self.reason_ = f"{LABELS[winner.name]} has the lowest BIC ({winner.bic:,.1f})"
            self.criterion_ = "bic"
        winner.chosen = True
        self.best_ = winner.name
        self.best_model_ = winner.model

    def as_record(self) -> dict[str, Any]:
        """The choice for a run's stored JSON: every candidate's figures and why the winner won."""
        if not hasattr(self, "candidates_"):
            raise NotFittedError("ModelSelector is not fitted yet: call fit() first")
        evidence = self.evidence_
        return {
            "mode": "auto" if self.choice is None else "user",
            "chosen": self.best_,
            "auto_choice": self.auto_best_,
            "criterion": self.criterion_,
            "reason": self.reason_,
            "near_tie": list(self.near_tie_),
            "too_short": self.too_short_,
            "holdout": evidence.holdout,
            "repeat_buyers": evidence.repeat_buyers,
            "calibration_length": evidence.calibration_length,
            "interpurchase_time": _figure(evidence.interpurchase_time),
            "rules": {
                "min_repeat_buyers": self.min_repeat_buyers,
                "min_spans": self.min_spans,
                "mae_tolerance": self.mae_tolerance,
                "bic_tolerance": self.bic_tolerance,
                "preference": list(PREFERENCE),
            },
            "candidates": [c.as_record() for c in self.candidates_],
        }
