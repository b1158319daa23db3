"""The statistics of the forecast, on small aggregated tables (by deal age and group, by month).

Three parts, each a function of count arrays the engine delivers:

* :func:`age_curves`: competing-risks (Aalen–Johansen) cumulative incidence of a win and of a loss by deal
  age on a dense grid of whole days, for each group, each group's event table shrunk towards the pooled one
  by adding ``strength`` pseudo-deals spread as the pooled table (a prior on the age-specific hazards centred
  on the pooled ones, worth ``strength`` deals; the strength is the empirical-Bayes beta-binomial prior
  strength of the groups' win shares, :func:`hitrate.stats.shrinkage.fit_beta_binomial`);
  :func:`strata_curves` adds a level below: a curve per stratum within each group, shrunk the same way
  towards the group's (shrunk) table.
* :func:`arrival_model`: the number of deals created per day in each coming month: the mean of the last
  three complete months (seasonally adjusted when two years of months allow month-of-year factors, by
  ratio to a centred 12-month moving average), with a log-linear trend over the last 24 months when there
  are that many, and a negative-binomial overdispersion fitted by the method of moments.
* :func:`count_interval` and :func:`amount_interval`: the distribution of the wins in a period, the sum of
  independent binomials (open deals of one age, a Poisson-binomial) and a negative-binomial count (new
  deals: a thinned negative binomial stays negative binomial with the same shape); exact by convolution
  while the open deals are few (:data:`EXACT_LIMIT`), above that the normal approximation refined by the
  third cumulant (Cornish–Fisher). Amounts: a compound sum, its mean and variance matched to a gamma.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitrate.stats.censoring import _aj_curves

FloatArray = npt.NDArray[np.float64]

#: Above this many open deals in a period the count interval uses the refined normal approximation.
EXACT_LIMIT = 2000
#: The prior strength (pseudo-deals) when the groups are too few for an empirical-Bayes fit.
DEFAULT_STRENGTH = 50.0


@dataclass(frozen=True)
class AgeCurves:
    """Cumulative incidence of a win (``win``) and a loss (``loss``) by whole-day age ``0..max_age``, one row per
    group (row ``g``): ``win[g, a]`` = P(won at an age <= a). ``strength``: the pseudo-deals of the prior."""

    win: FloatArray
    loss: FloatArray
    strength: float

    @property
    def survival(self) -> FloatArray:
        """P(still open after age a)."""
        out: FloatArray = 1.0 - self.win - self.loss
        return out

    def at(self, curve: FloatArray, group: npt.NDArray[np.int64], age: npt.ArrayLike) -> FloatArray:
        """``curve[group, age]`` with ages below 0 giving 0 (nothing has happened) and ages past the grid the
        last value."""
        a = np.asarray(age, dtype=np.int64)
        idx = np.clip(a, 0, curve.shape[1] - 1)
        out: FloatArray = np.where(a < 0, 0.0, curve[group, idx])
        return out

    def still_open(self, group: npt.NDArray[np.int64], age: npt.ArrayLike) -> FloatArray:
        """P(not decided before age ``age``) = S(age - 1), 1 at age 0."""
        a = np.asarray(age, dtype=np.int64) - 1
        s = 1.0 - self.at(self.win, group, a) - self.at(self.loss, group, a)
        out: FloatArray = np.where(a < 0, 1.0, s)
        return out


def age_curves(
    group: npt.ArrayLike, age: npt.ArrayLike, won: npt.ArrayLike, lost: npt.ArrayLike, censored: npt.ArrayLike,
    n_groups: int, strength: float | None = None,
) -> AgeCurves:  # fmt: skip
    """Aalen–Johansen curves per group from the event table (rows: group code, age in days, won, lost, still
    open at the as-of date), each shrunk towards the pooled table by ``strength`` pseudo-deals (fitted by
    :func:`prior_strength` when None)."""
    a = np.maximum(np.asarray(age, dtype=np.int64), 0)
    cells = _tables(group, a, (won, lost, censored), n_groups, int(a.max()) + 1 if a.size else 1)
    shrunk, strength = _shrunk_to_pooled(cells, strength)
    win, loss, _ = _aj_curves(shrunk[0], shrunk[1], shrunk[2])
    return AgeCurves(win, loss, float(strength))


def strata_curves(
    group: npt.ArrayLike, cell: npt.ArrayLike, age: npt.ArrayLike, won: npt.ArrayLike, lost: npt.ArrayLike,
    censored: npt.ArrayLike, n_groups: int, n_cells: int, strength: float | None = None,
    cell_strength: float | None = None,
) -> tuple[AgeCurves, AgeCurves]:  # fmt: skip
    """The group curves of :func:`age_curves` and, one level down, a curve per cell (a stratum within a group:
    ``cell`` codes ``0..n_cells-1``, each cell within one group): the cell's event table plus ``cell_strength``
    pseudo-deals spread as its group's shrunk table (a prior centred on the group's curve; the strength the
    beta-binomial empirical-Bayes prior strength of the cells' win shares when None). Rows of the second
    :class:`AgeCurves` are cells."""
    g = np.asarray(group, dtype=np.int64)
    c = np.asarray(cell, dtype=np.int64)
    a = np.maximum(np.asarray(age, dtype=np.int64), 0)
    size = int(a.max()) + 1 if a.size else 1
    counts = (won, lost, censored)
    groups, strength = _shrunk_to_pooled(_tables(g, a, counts, n_groups, size), strength)
    cells = _tables(c, a, counts, n_cells, size)
    if cell_strength is None:
        cell_strength = prior_strength(cells[0].sum(axis=1), (cells[0] + cells[1]).sum(axis=1))
    parent = np.zeros(max(n_cells, 1), dtype=np.int64)
    parent[c] = g
    prior = groups[:, parent]
    total = prior.sum(axis=(0, 2), keepdims=True)
    cells = cells + cell_strength * prior / np.where(total > 0, total, 1.0)
    win, loss, _ = _aj_curves(groups[0], groups[1], groups[2])
    cell_win, cell_loss, _ = _aj_curves(cells[0], cells[1], cells[2])
    return AgeCurves(win, loss, float(strength)), AgeCurves(cell_win, cell_loss, float(cell_strength))


def _tables(
    row: npt.ArrayLike, age: npt.NDArray[np.int64], counts: tuple[npt.ArrayLike, ...], n_rows: int, size: int
) -> FloatArray:
    """The won, lost and censored counts on a dense ``(3, rows, age)`` grid."""
    r = np.asarray(row, dtype=np.int64)
    out = np.zeros((3, max(n_rows, 1), size))
    for k, values in enumerate(counts):
        np.add.at(out[k], (r, age), np.asarray(values, dtype=float))
    return out


def _shrunk_to_pooled(cells: FloatArray, strength: float | None) -> tuple[FloatArray, float]:
    """Each row's table plus ``strength`` pseudo-deals spread as the pooled table (the strength fitted by
    :func:`prior_strength` when None)."""
    pooled = cells.sum(axis=1, keepdims=True)
    total = float(pooled.sum())
    if strength is None:
        strength = prior_strength(cells[0].sum(axis=1), (cells[0] + cells[1]).sum(axis=1))
    if total > 0:
        cells = cells + strength * pooled / total
    return cells, float(strength)


def prior_strength(won: FloatArray, decided: FloatArray) -> float:
    """The beta-binomial empirical-Bayes prior strength of the groups' win shares (won of decided), or
    :data:`DEFAULT_STRENGTH` with fewer than three groups that have decided deals."""
    from hitrate.stats.shrinkage import fit_beta_binomial

    keep = decided > 0
    if keep.sum() < 3:
        return DEFAULT_STRENGTH
    prior = fit_beta_binomial(won[keep], decided[keep], max_strength=1e6)
    return float(min(prior.strength, 1e6))


@dataclass(frozen=True)
class Arrivals:
    """Deals expected to be created per day in each coming month (``per_day``, aligned with the months asked
    for), the negative-binomial overdispersion ``alpha`` (variance = mean + alpha mean²) including the
    uncertainty of the level, and what the model used."""

    per_day: FloatArray
    alpha: float
    seasonal: bool
    trend: bool


def arrival_model(counts: npt.ArrayLike, days: npt.ArrayLike, months: npt.ArrayLike, ahead: list[dt.date]) -> Arrivals:
    """The arrival rate per day in each month of ``ahead`` (first days of months) from the complete past months
    (``counts`` created in each, ``days`` in each, ``months`` their first days as ``datetime64[D]``, in order,
    consecutive, the last one just before the as-of date)."""
    c = np.asarray(counts, dtype=float)
    d = np.asarray(days, dtype=float)
    start = np.asarray(months, dtype="datetime64[M]")
    if c.size == 0 or c.sum() == 0:
        return Arrivals(np.zeros(len(ahead)), 0.0, False, False)
    moy = start.astype(int) % 12  # month of year, 0..11
    factor = np.ones(12)
    seasonal = c.size >= 24 and bool((c[-24:] > 0).all())
    rate = c / d
    if seasonal:
        factor = _seasonal_factors(rate[-36:], moy[-36:])
    adjusted = rate / factor[moy]
    level = float(adjusted[-3:].mean())
    trend = c.size >= 24
    slope = 0.0
    if trend:
        y = np.log(np.maximum(adjusted[-24:], 1e-9))
        x = np.arange(24.0)
        slope = float(np.polyfit(x, y, 1)[0])
    last = int(start[-1].astype(int))
    target = np.array([(a.year - 1970) * 12 + a.month - 1 for a in ahead], dtype=float)
    steps = target - (last - 1)  # from the centre of the three months of the level
    per_day = level * np.exp(slope * steps) * factor[target.astype(int) % 12]
    # overdispersion: monthly counts around a centred three-month level (method of moments)
    fitted = np.convolve(adjusted, np.ones(3) / 3, mode="same")[1:-1] * factor[moy][1:-1] * d[1:-1]
    observed = c[1:-1]
    alpha = 0.0
    if observed.size >= 4:
        tail = slice(-12, None)
        mu = fitted[tail]
        ok = mu > 0
        # the centred mean shares a third of each count with it: scale the residual variance by 3/2
        excess = 1.5 * (observed[tail][ok] - mu[ok]) ** 2 - mu[ok]
        alpha = max(float(excess.sum() / (mu[ok] ** 2).sum()), 0.0) if ok.any() else 0.0
    monthly = level * 30.4
    alpha_level = (1.0 / monthly + alpha) / 3.0 if monthly > 0 else 0.0
    return Arrivals(per_day, alpha + alpha_level, seasonal, trend)


def _seasonal_factors(rate: FloatArray, moy: npt.NDArray[np.int64]) -> FloatArray:
    """Month-of-year factors (geometric mean 1): the mean ratio of each month's rate to the centred 12-month
    moving average (classical multiplicative decomposition); 1 for a month never covered."""
    kernel = np.r_[0.5, np.ones(11), 0.5] / 12
    centred = np.convolve(rate, kernel, mode="valid")  # aligned with rate[6:-6]
    ratio = rate[6:-6] / np.where(centred > 0, centred, np.nan)
    factor = np.ones(12)
    for m in range(12):
        vals = ratio[moy[6:-6] == m]
        vals = vals[np.isfinite(vals) & (vals > 0)]
        if vals.size:
            factor[m] = float(np.exp(np.log(vals).mean()))
    out: FloatArray = factor / np.exp(np.log(factor).mean())
    return out


def count_interval(
    n: npt.ArrayLike, p: npt.ArrayLike, new_mean: float, alpha: float, level: float, extra: float = 0.0
) -> tuple[float, float, str]:
    """The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of wins = Σ Binomial(n_i, p_i) + NB(new_mean,
    alpha) + a centred normal error of variance ``extra`` (the model's estimation error), and the method
    (``exact``: convolution, the normal error discretised; or ``normal``)."""
    from scipy import stats as sps

    counts = np.asarray(n, dtype=np.int64)
    probs = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    if counts.sum() <= EXACT_LIMIT:
        from hitrate.stats.poisson_binomial import poisson_binomial_pmf

        pmf = poisson_binomial_pmf(np.repeat(probs, counts))
        if new_mean > 0:
            top = int(_nb_ppf(1 - 1e-9, new_mean, alpha)) + 1
            pmf = np.convolve(pmf, _nb_pmf(np.arange(top + 1), new_mean, alpha))
        shift = 0
        if extra > 0:
            shift = int(np.ceil(6 * np.sqrt(extra)))
            edges = (np.arange(-shift, shift + 2) - 0.5) / np.sqrt(extra)
            pmf = np.convolve(pmf, np.diff(sps.norm.cdf(edges)))
        cdf = np.cumsum(pmf)
        low = max(float(np.searchsorted(cdf, lo_q - 1e-12)) - shift, 0.0)
        return low, float(np.searchsorted(cdf, hi_q - 1e-12)) - shift, "exact"
    k1 = float((counts * probs).sum()) + new_mean
    k2 = float((counts * probs * (1 - probs)).sum()) + new_mean + alpha * new_mean**2 + extra
    k3 = float((counts * probs * (1 - probs) * (1 - 2 * probs)).sum())
    k3 += new_mean + 3 * alpha * new_mean**2 + 2 * alpha**2 * new_mean**3
    if k2 <= 0:
        return k1, k1, "normal"
    gamma = k3 / k2**1.5
    out = []
    for q in (lo_q, hi_q):
        z = float(sps.norm.ppf(q))
        out.append(max(float(np.round(k1 + np.sqrt(k2) * (z + (z * z - 1) * gamma / 6))), 0.0))
    return out[0], out[1], "normal"


def _nb_pmf(k: npt.NDArray[np.int64], mean: float, alpha: float) -> FloatArray:
    from scipy import stats as sps

    if alpha <= 1e-12:
        out: FloatArray = sps.poisson.pmf(k, mean)
        return out
    r = 1.0 / alpha
    out = sps.nbinom.pmf(k, r, r / (r + mean))
    return out


def _nb_ppf(q: float, mean: float, alpha: float) -> float:
    from scipy import stats as sps

    if alpha <= 1e-12:
        return float(sps.poisson.ppf(q, mean))
    r = 1.0 / alpha
    return float(sps.nbinom.ppf(q, r, r / (r + mean)))


def amount_interval(mean: float, variance: float, level: float) -> tuple[float, float]:
    """The central ``level`` interval of a non-negative amount with this mean and variance (a gamma matched to
    them; a point when the variance is 0)."""
    from scipy import stats as sps

    if mean <= 0 or variance <= 0:
        return mean, mean
    shape, scale = mean**2 / variance, variance / mean
    lo, hi = sps.gamma.ppf([(1 - level) / 2, (1 + level) / 2], shape, scale=scale)
    return float(lo), float(hi)
