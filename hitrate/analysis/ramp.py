"""Onboarding: how fast new reps reach the team's hit rate.

Two things, both from decided deals (closed basis) with the rep's ``hired_at`` (reps table) and the deal's
``created_at``:

* **Ramp curves**: hit rate by month since hire (tenure on the deal's creation date, whole 30-day months),
  per hiring cohort (the quarter a rep was hired), against tenured reps (hired more than
  ``tenured_after_days`` before the deal).
* **Ramp estimate**: a binomial GLM on the counts per rep and tenure bin (15 days),

      logit p = a_rep + s_month − D · exp(−tenure_days / τ),

  with a fixed effect per rep (so a new hire's own skill is not mistaken for ramp-up) and per calendar
  month of the decision (new hires' tenure grows with the calendar, so seasonality would otherwise
  masquerade as ramp-up), D the initial shortfall on the logit scale and τ the time constant. τ is found
  by profile likelihood over a grid (for
  each τ, the model is a plain logistic GLM in D: statsmodels); its interval is the set of τ whose profile
  deviance is within the χ²₁ quantile of the best (likelihood-ratio interval); D's interval is the Wald
  interval at the best τ. ``days_to_90`` = τ · ln 10, the tenure at which 90% of the shortfall is gone,
  with the interval carried over from τ.

Counting runs in the engine (one grouped query); the fit on the small per-rep, per-bin table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.analysis._common import DefinitionsArg, resolve_definitions
from hitrate.analysis.results import RecordsResult
from hitrate.errors import UserInputError
from hitrate.i18n import DEFAULT_LANG, Message

if TYPE_CHECKING:
    import plotly.graph_objects as go

BIN_DAYS = 15
MAX_BIN = 48  # tenure beyond 720 days is one bin: the ramp has long faded there
MONTH_DAYS = 30
_TAU_GRID = np.geomspace(5.0, 730.0, 28)


@dataclass
class RampResult(RecordsResult):
    """Curves per hiring cohort and the fitted ramp (see the module docstring).

    ``curves``: per hiring cohort and month since hire, ``reps``, ``attempts``, ``hits``, ``hit_rate`` and its
    interval; ``tenured``: the tenured reps' attempts, hits and rate; ``fit``: the ramp estimate (``depth``,
    ``tau_days``, ``days_to_90``, ``months_to_90`` with intervals, ``method``), or None without new hires.
    ``to_frame()`` is the curves; ``to_dict()``: ``curves``, ``tenured``, ``fit`` and ``warnings``.
    """

    records = "curves"
    dict_keys = ("curves", "tenured", "fit", "warnings")

    curves: list[dict[str, Any]]
    tenured: dict[str, Any]
    fit: dict[str, Any] | None
    warnings: list[Message | str] = field(default_factory=list)

    def title(self) -> Message:
        """``Hit rate by month since hire, per hiring cohort``."""
        return Message("ramp.title")

    def headline(self) -> Message | None:
        """Where new hires start against the tenured reps and how long until 90% of the gap is gone; else the
        tenured rate. The start is the tenured rate moved down by the fitted depth on the log-odds scale (what a
        new hire whose own level is the tenured rate starts at)."""
        f = self.fit
        ten = self.tenured
        if f is not None:
            high = f["days_to_90_high"]
            rate = ten["hit_rate"]
            start = None
            if rate is not None and 0.0 < rate < 1.0:
                start = 1.0 / (1.0 + math.exp(-(math.log(rate / (1.0 - rate)) - f["depth"])))
            return Message(
                "ramp.headline" if start is not None else "ramp.headline_gap",
                start=start,
                tenured=rate,
                days=f["days_to_90"],
                days_low=f["days_to_90_low"],
                days_high=Message("ramp.unbounded") if high is None else Message("ramp.days", days=high),
                months=f["months_to_90"],
            )
        if ten["hit_rate"] is None:
            return None
        return Message("ramp.tenured", rate=ten["hit_rate"], low=ten["ci_low"], high=ten["ci_high"], n=ten["attempts"])

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Hit rate by month since hire, one line per hiring cohort, against the tenured reps' rate."""
        from hitrate.analysis._figures import ramp_figure

        return ramp_figure(self, lang)


def ramp(
    source: Any,
    *,
    tenured_after: int | None = None,
    tenured_after_days: int = 365,
    definitions: DefinitionsArg = None,
    confidence: float = 0.95,
) -> RampResult:
    """Ramp curves and the ramp estimate; see the module docstring.

    ``tenured_after`` (the command line's ``--tenured-after``) is the number of days after hire from which a
    rep counts as tenured; ``tenured_after_days`` is its earlier name (365 by default) and still works.
    ``definitions`` may be a file's path. Raises :class:`~hitrate.errors.UserInputError` when no rep has a
    hire date.
    """
    import ibis

    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import classified, fields_available
    from hitrate.engine.query import Query
    from hitrate.stats.intervals import wilson_interval

    has_hires = "reps" in set(source.list_tables()) and "hired_at" in fields_available(source)
    if has_hires:
        reps = source.table("reps")
        has_hires = int(reps.filter(reps.hired_at.notnull()).count().execute()) > 0
    if not has_hires:
        raise UserInputError("ramp.no_hire_dates")
    if tenured_after is not None:
        tenured_after_days = tenured_after
    defs = resolve_definitions(source, definitions, None)
    t = classified(source, defs, Query(), {"rep", "created_at", "hired_at", "closed_at"})
    t = t.filter((t._won | t._lost) & t.created_at.notnull() & t.hired_at.notnull() & t.rep.notnull())
    decided_at = t.closed_at if "closed_at" in t.columns else t.created_at
    tenure = t.created_at.date().delta(t.hired_at.date(), unit="day")
    t = t.mutate(_tenure=tenure).filter(tenure >= 0)
    t = t.mutate(
        _bin=ibis.least(t._tenure // BIN_DAYS, MAX_BIN).cast("int64"),
        _moy=ibis.coalesce(decided_at, t.created_at).month(),
        _month=(t._tenure // MONTH_DAYS).cast("int64"),
        _cohort=t.hired_at.truncate("Q"),
        _tenured=t._tenure > tenured_after_days,
    )
    bins = fetch(
        source,
        t.group_by(["rep", "_bin", "_moy", "_tenured"])
        .aggregate(n=t.count(), k=t.count(where=t._won))
        .order_by(["rep", "_bin", "_moy"]),
    )
    new = t.filter(~t._tenured)
    months = fetch(
        source,
        new.group_by(["_cohort", "_month"])
        .aggregate(n=new.count(), k=new.count(where=new._won), reps=new.rep.nunique())
        .order_by(["_cohort", "_month"]),
    )
    old = t.filter(t._tenured)
    tenured_counts = fetch(source, old.aggregate(n=old.count(), k=old.count(where=old._won)))

    n_old = int(tenured_counts["n"][0]) if len(tenured_counts["n"]) else 0
    k_old = int(tenured_counts["k"][0]) if len(tenured_counts["k"]) else 0
    lo, hi = wilson_interval(np.array([k_old]), np.array([n_old]), confidence)
    tenured = {
        "attempts": n_old,
        "hits": k_old,
        "hit_rate": k_old / n_old if n_old else None,
        "ci_low": float(lo[0]),
        "ci_high": float(hi[0]),
    }
    c_low, c_high = wilson_interval(months["k"], months["n"], confidence)
    curves = [
        {
            "cohort": _quarter(c),
            "month": int(m),
            "reps": int(r),
            "attempts": int(n),
            "hits": int(k),
            "hit_rate": float(k / n) if n else None,
            "ci_low": float(a),
            "ci_high": float(b),
        }
        for c, m, r, n, k, a, b in zip(
            months["_cohort"], months["_month"], months["reps"], months["n"], months["k"], c_low, c_high, strict=True
        )
    ]
    warnings: list[Message | str] = []
    fit = None
    new_reps = {r for r, ten in zip(bins["rep"], bins["_tenured"], strict=True) if not ten}
    if not new_reps:
        warnings.append(Message("ramp.no_new_reps"))
    else:
        fit = _fit(bins, confidence)
        if fit["tau_high"] is None:
            warnings.append(Message("ramp.unbounded_tau"))
    return RampResult(curves, tenured, fit, warnings)


def _quarter(value: Any) -> str:
    import pandas as pd

    ts = pd.Timestamp(value)
    return f"{ts.year}-Q{(ts.month - 1) // 3 + 1}"


def _fit(bins: dict[str, np.ndarray], confidence: float) -> dict[str, Any]:
    """Profile-likelihood fit of D and τ (module docstring)."""
    import statsmodels.api as sm
    from scipy.stats import chi2, norm

    reps = sorted({str(r) for r in bins["rep"]})
    index = {r: i for i, r in enumerate(reps)}
    rows = np.array([index[str(r)] for r in bins["rep"]])
    dummies = np.zeros((len(rows), len(reps) + 11))
    dummies[np.arange(len(rows)), rows] = 1.0
    moy = np.asarray(bins["_moy"], dtype=int)
    for m in range(2, 13):  # January is the reference month
        dummies[:, len(reps) + m - 2] = moy == m
    mid_days = (np.asarray(bins["_bin"], dtype=float) + 0.5) * BIN_DAYS
    n = np.asarray(bins["n"], dtype=float)
    k = np.asarray(bins["k"], dtype=float)
    endog = np.column_stack([k, n - k])

    start: list[Any] = [None]

    def fitted(tau: float) -> Any:
        x = np.column_stack([dummies, -np.exp(-mid_days / tau)])
        # The rep dummies sum to one (an implicit constant): saying so spares statsmodels a rank check, and
        # starting from the last fit's parameters makes IRLS converge in a few steps.
        result = sm.GLM(endog, x, family=sm.families.Binomial(), hasconst=True).fit(start_params=start[0])
        start[0] = result.params
        return result

    deviances = []
    for tau in _TAU_GRID:
        try:
            deviances.append(float(fitted(float(tau)).deviance))
        except (ValueError, np.linalg.LinAlgError):
            deviances.append(math.inf)
    dev = np.asarray(deviances)
    best = int(np.argmin(dev))
    # refine the minimum between the grid neighbours (golden-section on log τ)
    from scipy.optimize import minimize_scalar

    lo_i, hi_i = max(best - 1, 0), min(best + 1, len(_TAU_GRID) - 1)
    res = minimize_scalar(
        lambda lt: float(fitted(math.exp(lt)).deviance),
        bounds=(math.log(_TAU_GRID[lo_i]), math.log(_TAU_GRID[hi_i])),
        method="bounded",
    )
    tau = math.exp(float(res.x))
    model = fitted(tau)
    cut = float(model.deviance) + float(chi2.ppf(confidence, 1))
    inside = _TAU_GRID[dev <= cut]
    tau_low = float(inside.min()) if len(inside) else tau
    tau_high = float(inside.max()) if len(inside) and inside.max() < _TAU_GRID[-1] else None
    d = float(model.params[-1])
    se = float(model.bse[-1])
    z = float(norm.ppf(0.5 + confidence / 2))
    ln10 = math.log(10)
    return {
        "method": Message("ramp.method"),
        "depth": d,
        "depth_low": d - z * se,
        "depth_high": d + z * se,
        "tau_days": tau,
        "tau_low": min(tau_low, tau),
        "tau_high": None if tau_high is None else max(tau_high, tau),
        "days_to_90": tau * ln10,
        "days_to_90_low": min(tau_low, tau) * ln10,
        "days_to_90_high": None if tau_high is None else max(tau_high, tau) * ln10,
        "months_to_90": tau * ln10 / MONTH_DAYS,
        "reps": len(reps),
    }
