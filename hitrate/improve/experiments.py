"""Outreach experiments: plan the sample size of an A/B test and compare variants on a funnel step.

Planning (:func:`plan`) uses Cohen's effect size for proportions, ``h = 2·asin(√p₂) − 2·asin(√p₁)``, and the
power of a two-sided z-test under the normal approximation (statsmodels' ``NormalIndPower``, equal
groups), rounded up to whole units per variant.

Comparing (:func:`experiment`) counts touches per variant in the engine (activities of the chosen types,
optionally one campaign), and the touches that reached the step:

* ``response``: the touch got a reply (``replied`` or ``meeting_booked``);
* ``meeting``: the touch booked a meeting (``meeting_booked``);
* ``opportunity``: the touch's lead has an opportunity counted by the definitions in force;
* ``won``: one of the lead's opportunities was won (by the definitions in force).

A touch's lead and its opportunities are defined in :mod:`hitrate.outreach` (``lead_id``, else the lead
linked to the touch's ``opportunity_id``, else that opportunity).

Each variant is compared with the control (the first variant, or ``control=``): the difference with a
Newcombe hybrid score interval and the p-value of the two-proportion test
(:func:`hitrate.stats.compare.compare_proportions`: Pearson chi-square, Fisher's exact test for small
cells), and the Bayesian probability that the variant's rate beats the control's and that it is the best
of all, under independent uniform Beta(1, 1) priors (posterior Beta(1 + hits, 1 + misses)), computed by
numerical integration on a fine grid, not by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hitrate.errors import UserInputError
from hitrate.improve.outreach import TOUCH_STEPS
from hitrate.spec.model import Definitions

STEPS: tuple[str, ...] = tuple(TOUCH_STEPS)  # response, meeting, opportunity, won
DEFAULT_TYPES = ("email", "call")
METHOD = (
    "each variant against the control: Newcombe hybrid score interval for the difference, Pearson chi-square "
    "test (Fisher's exact test for small cells); probability to beat the control and to be best under "
    "independent Beta(1, 1) priors, by numerical integration"
)
_GRID = 4001


def plan(baseline: float, lift: float, *, power: float = 0.8, alpha: float = 0.05) -> dict[str, Any]:
    """Units per variant for a two-sided test to detect ``baseline`` → ``baseline + lift`` (absolute).

    Cohen's h and statsmodels' ``NormalIndPower().solve_power`` (normal approximation, equal groups),
    rounded up. Raises :class:`UserInputError` for rates outside (0, 1) or levels outside (0, 1).
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    target = baseline + lift
    for name, value in (("--baseline", baseline), ("--baseline + --lift", target), ("--power", power)):
        if not 0 < value < 1:
            raise UserInputError(f"{name}: expected a number between 0 and 1, got {value:g}")
    if not 0 < alpha < 0.5:
        raise UserInputError(f"--alpha: expected a number between 0 and 0.5, got {alpha:g}")
    if lift == 0:
        raise UserInputError("--lift: expected a non-zero change in the rate (e.g. 0.05 for +5 points)")
    h = float(proportion_effectsize(target, baseline))
    n = float(NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, ratio=1.0))
    return {
        "baseline": baseline,
        "target": target,
        "lift": lift,
        "power": power,
        "alpha": alpha,
        "effect_size_h": h,
        "n_per_variant": int(math.ceil(n - 1e-9)),
        "n_total": 2 * int(math.ceil(n - 1e-9)),
        "method": "two-sided z-test for two proportions, Cohen's h, normal approximation (statsmodels NormalIndPower)",
    }


def prob_to_beat(hits: Sequence[int], attempts: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """For Beta(1 + hits, 1 + misses) posteriors: P(arm i beats arm 0) and P(arm i is the best).

    Numerical integration on a grid over [0, 1] concentrated where the posteriors have mass.
    """
    from scipy import stats

    k = np.asarray(hits, dtype=float)
    n = np.asarray(attempts, dtype=float)
    a, b = 1 + k, 1 + n - k
    dists = [stats.beta(ai, bi) for ai, bi in zip(a, b, strict=True)]
    lo = min(d.ppf(1e-9) for d in dists)
    hi = max(d.ppf(1 - 1e-9) for d in dists)
    x = np.linspace(lo, hi, _GRID)
    pdf = np.array([d.pdf(x) for d in dists])
    cdf = np.array([d.cdf(x) for d in dists])
    beat = np.array([np.trapezoid(pdf[i] * cdf[0], x) for i in range(len(dists))])
    beat[0] = 0.5
    best = np.empty(len(dists))
    for i in range(len(dists)):
        others = np.prod(np.delete(cdf, i, axis=0), axis=0) if len(dists) > 1 else np.ones_like(x)
        best[i] = np.trapezoid(pdf[i] * others, x)
    return np.clip(beat, 0, 1), np.clip(best / best.sum(), 0, 1)


@dataclass
class ExperimentResult:
    """Per variant: touches, hits at the step, rate with Wilson interval, and the comparison with the
    control (difference, Newcombe interval, p-value, probability to beat, probability best)."""

    step: str
    by: str
    control: str
    rows: list[dict[str, Any]]
    campaign: str | None = None
    types: tuple[str, ...] = DEFAULT_TYPES
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "by": self.by,
            "control": self.control,
            "campaign": self.campaign,
            "types": list(self.types),
            "method": METHOD,
            "warnings": self.warnings,
            "rows": self.rows,
        }


def experiment(
    source: Any,
    *,
    by: str = "variant",
    step: str = "response",
    campaign: str | None = None,
    types: Sequence[str] = DEFAULT_TYPES,
    control: str | None = None,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> ExperimentResult:
    """Compare the variants (or any activity field ``by``) on a funnel step; see the module docstring."""
    from hitrate.engine.counting import fetch
    from hitrate.improve.outreach import check_step, touches
    from hitrate.stats.compare import compare_proportions
    from hitrate.stats.intervals import wilson_interval

    hit = check_step(step)
    t = touches(source, types=types, campaign=campaign, definitions=definitions, fields=[by])
    t = t.filter(t[by].notnull())
    agg = t.group_by(_arm=t[by].cast("string")).aggregate(attempts=t.count(), hits=t.count(where=t[hit]))
    c = fetch(source, agg.order_by("_arm"))
    arms = [str(a) for a in c["_arm"]]
    if not arms:
        from hitrate.improve.outreach import explain_empty

        raise UserInputError(
            f"--by {by}: an experiment needs two or more values with touches; found none: "
            f"{explain_empty(source, campaign, types)}"
        )
    if len(arms) < 2:
        raise UserInputError(
            f"--by {by}: an experiment needs two or more values with touches; found {arms or 'none'}"
            + (f" in campaign {campaign!r}" if campaign else "")
        )
    ctl = control if control is not None else arms[0]
    if ctl not in arms:
        raise UserInputError(f"--control {ctl}: not a value of {by}; expected one of {', '.join(arms)}")
    order = [ctl, *[a for a in arms if a != ctl]]
    idx = [arms.index(a) for a in order]
    n = np.asarray(c["attempts"], dtype=float)[idx]
    k = np.asarray(c["hits"], dtype=float)[idx]
    low, high = wilson_interval(k, n, confidence)
    beat, best = prob_to_beat(k.astype(int).tolist(), n.astype(int).tolist())
    rows: list[dict[str, Any]] = []
    for i, arm in enumerate(order):
        row: dict[str, Any] = {
            by: arm,
            "attempts": int(n[i]),
            "hits": int(k[i]),
            "rate": float(k[i] / n[i]) if n[i] else None,
            "ci_low": float(low[i]),
            "ci_high": float(high[i]),
            "prob_best": float(best[i]),
        }
        if i == 0:
            row.update(control=True, difference=None, diff_low=None, diff_high=None, p_value=None, prob_beat=None)
        else:
            d = compare_proportions(int(k[i]), int(n[i]), int(k[0]), int(n[0]), confidence)
            row.update(
                control=False,
                difference=d.difference,
                diff_low=d.low,
                diff_high=d.high,
                p_value=d.p_value,
                prob_beat=float(beat[i]),
            )
        rows.append(row)
    warnings = []
    if len(order) > 2:
        warnings.append(f"{len(order) - 1} variants are each compared with {ctl}: p-values are not adjusted")
    small = [a for a, m in zip(order, n, strict=True) if m < 100]
    if small:
        warnings.append(f"fewer than 100 touches for {', '.join(small)}: too few to tell most lifts apart")
    return ExperimentResult(step, by, ctl, rows, campaign, tuple(types), warnings)
