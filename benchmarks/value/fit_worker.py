"""Time one library's BG/NBD or Pareto/NBD fit on a generated summary; runs in that library's venv.

    python fit_worker.py fit {kehu,lifetimes} {bgnbd,paretonbd} DATA.npz OUT.json [--repeat N]
    python fit_worker.py eval {kehu,lifetimes} {bgnbd,paretonbd} DATA.npz OUT.json
        --params A.json B.json

``fit`` writes JSON with the fit times (seconds, one per repeat; the library's import is not
counted, the first fit pays any lazy set-up), the fitted parameters (time in weeks) and the total
log-likelihood at them by the library's own function. ``eval`` scores the parameters of each given
fit result with this library's log-likelihood function over the same data, so both fits are
compared by one function.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

NAMES = {"bgnbd": ("r", "alpha", "a", "b"), "paretonbd": ("r", "alpha", "s", "beta")}


def lifetimes_side(model: str, f: np.ndarray, r: np.ndarray, T: np.ndarray):
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    cls = BetaGeoFitter if model == "bgnbd" else ParetoNBDFitter

    def fit() -> dict[str, float]:
        fitted = cls().fit(f, r, T)
        return {k: float(fitted.params_[k]) for k in NAMES[model]}

    def total_ll(params: dict[str, float]) -> float:
        p = np.array([params[k] for k in NAMES[model]])
        weights = np.ones_like(f)
        if model == "bgnbd":  # mean negative log-likelihood, log-parameters
            return -float(cls._negative_log_likelihood(np.log(p), f, r, T, weights, 0.0)) * f.size
        return float(np.sum(cls._conditional_log_likelihood(p, f, r, T)))

    return fit, total_ll


def kehu_side(model: str, f: np.ndarray, r: np.ndarray, T: np.ndarray):
    from kehu.analytics import BetaGeoModel, ParetoNBDModel

    cls = BetaGeoModel if model == "bgnbd" else ParetoNBDModel

    def fit() -> dict[str, float]:
        fitted = cls().fit(f, r, T)
        return {k: float(fitted.params_[k]) for k in NAMES[model]}

    def total_ll(params: dict[str, float]) -> float:
        m = cls()
        wanted = {k: float(params[k]) for k in NAMES[model]}
        try:  # the public evaluation at given parameters, where the model has one
            return float(m.log_likelihood(f, r, T, params=wanted))
        except TypeError:
            p = np.array(list(wanted.values()))
            with np.errstate(all="ignore"):
                rows = m._log_likelihood_rows(p, *m._prepare_rows(f, r, T))
            return float(np.sum(rows))

    return fit, total_ll


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["fit", "eval"])
    parser.add_argument("lib", choices=["kehu", "lifetimes"])
    parser.add_argument("model", choices=["bgnbd", "paretonbd"])
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--params", type=Path, nargs="*", default=[], help="fit results to score")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile one more fit here")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    data = np.load(args.data)
    f, r, T = (np.asarray(data[k], dtype=np.float64) for k in ("frequency", "recency", "T"))
    side = lifetimes_side if args.lib == "lifetimes" else kehu_side
    fit, total_ll = side(args.model, f, r, T)
    result: dict = {"lib": args.lib, "model": args.model, "n_customers": int(f.size)}

    if args.mode == "fit":
        times: list[float] = []
        params: dict[str, float] = {}
        for _ in range(args.repeat):
            start = time.perf_counter()
            params = fit()
            times.append(time.perf_counter() - start)
        if args.profile is not None:  # one more fit, profiled, not counted in the times
            import cProfile

            profiler = cProfile.Profile()
            profiler.runcall(fit)
            profiler.dump_stats(str(args.profile))
        result.update(fit_seconds=times, params=params, own_ll=total_ll(params))
    else:  # score every given parameter set with this library's log-likelihood function
        result["ll_of"] = {}
        for path in args.params:
            other = json.loads(path.read_text())
            result["ll_of"][other["lib"]] = total_ll(other["params"])
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
