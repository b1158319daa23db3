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
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.errors import InvalidValueError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param
from hitrate.improve._base import DataResult, rows_frame
from hitrate.improve._touch_results import DEFAULT_TYPES, EXPERIMENT_METHOD, ExperimentResult
from hitrate.improve.outreach import TOUCH_STEPS
from hitrate.spec.model import Definitions

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

__all__ = [
    "DEFAULT_TYPES",
    "METHOD",
    "STEPS",
    "ExperimentPlan",
    "ExperimentResult",
    "experiment",
    "experiment_compare",
    "experiment_plan",
    "plan",
    "prob_to_beat",
]

STEPS: tuple[str, ...] = tuple(TOUCH_STEPS)  # response, meeting, opportunity, won
METHOD = EXPERIMENT_METHOD
_GRID = 4001


@dataclass
class ExperimentPlan(DataResult):
    """The sample size of an A/B test (:func:`experiment_plan`): units per variant and in all."""

    baseline: float
    target: float
    lift: float
    relative_lift: float
    power: float
    alpha: float
    effect_size_h: float
    n_per_variant: int
    n_total: int
    method: Message | str = field(default_factory=lambda: Message("experiments.plan_method"))

    def to_frame(self) -> pd.DataFrame:
        """One row: the inputs and the sizes."""
        return rows_frame([{k: v for k, v in self.to_dict().items() if k != "method"}])

    def title(self) -> Message:
        return Message("experiments.plan_title")

    def headline(self) -> Message:
        return Message(
            "experiments.plan_headline",
            n=self.n_per_variant,
            total=self.n_total,
            baseline=self.baseline,
            target=self.target,
            lift=self.lift,
            relative=self.relative_lift,
            power=self.power,
            alpha=self.alpha,
            h=self.effect_size_h,
            method=self.method,
        )

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Units per variant against the lift to detect (half to twice the planned one), the plan marked."""
        import plotly.graph_objects as go

        lifts = [self.lift * f for f in np.linspace(0.5, 2.0, 31)]
        points = [(d, _units(self.baseline, d, self.power, self.alpha)) for d in lifts if 0 < self.baseline + d < 1]
        fig = go.Figure(go.Scatter(x=[d for d, _ in points], y=[n for _, n in points], mode="lines"))
        fig.add_trace(go.Scatter(x=[self.lift], y=[self.n_per_variant], mode="markers", marker={"size": 12}))
        fig.update_layout(
            title=self.title().render(lang),
            xaxis_title=Message("experiments.plan_lift").render(lang),
            yaxis_title=Message("experiments.plan_units").render(lang),
            showlegend=False,
        )
        fig.update_xaxes(tickformat=".1%")
        return fig


def _units(baseline: float, lift: float, power: float, alpha: float) -> int:
    """Units per variant (Cohen's h, statsmodels' normal-approximation power), rounded up."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = float(proportion_effectsize(baseline + lift, baseline))
    n = float(NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, ratio=1.0))
    return int(math.ceil(n - 1e-9))


def experiment_plan(
    *,
    baseline: float,
    lift: float | None = None,
    relative_lift: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
) -> ExperimentPlan:
    """``hitrate experiment plan``: units per variant for a two-sided test to detect ``baseline`` →
    ``baseline + lift`` (``lift`` absolute, in rate units: 0.05 is 20% → 25%), or ``baseline`` →
    ``baseline × (1 + relative_lift)`` (0.10 is 20% → 22%); exactly one of the two. The result states both.

    Cohen's h and statsmodels' ``NormalIndPower().solve_power`` (normal approximation, equal groups),
    rounded up. Raises :class:`~hitrate.errors.InvalidParameterError` for rates outside (0, 1) or levels
    outside (0, 1).
    """
    from statsmodels.stats.proportion import proportion_effectsize

    if (lift is None) == (relative_lift is None):
        relative = Param("relative_lift")
        raise InvalidValueError("experiments.lift_or_relative", parameter="lift", got=lift, relative=relative)
    if lift is None:
        lift = baseline * float(relative_lift or 0.0)
    target = baseline + lift
    both = Message("experiments.sum", a=Param("baseline"), b=Param("lift"))
    for name, value, shown in (("baseline", baseline, Param("baseline")), ("lift", target, both)):
        if not 0 < value < 1:
            raise InvalidValueError("experiments.between_0_1", parameter=name, got=value, name=shown)
    if not 0 < power < 1:
        raise InvalidValueError("experiments.between_0_1", parameter="power", got=power, name=Param("power"))
    if not 0 < alpha < 0.5:
        raise InvalidValueError("experiments.alpha_range", parameter="alpha", got=alpha)
    if lift == 0:
        raise InvalidValueError("experiments.zero_lift", parameter="lift", got=lift)
    h = float(proportion_effectsize(target, baseline))
    n = _units(baseline, lift, power, alpha)
    return ExperimentPlan(baseline, target, lift, lift / baseline, power, alpha, h, n, 2 * n)


def plan(
    baseline: float,
    lift: float | None = None,
    *,
    relative_lift: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """:func:`experiment_plan` as plain data (its ``to_dict()``)."""
    return experiment_plan(
        baseline=baseline, lift=lift, relative_lift=relative_lift, power=power, alpha=alpha
    ).to_dict()


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

        why = explain_empty(source, campaign, types).message
        raise InvalidValueError("experiments.none_with_touches", parameter="by", got=by, why=why)
    if len(arms) < 2:
        key = "experiments.one_with_touches_in" if campaign else "experiments.one_with_touches"
        raise InvalidValueError(key, parameter="by", got=by, found=str(arms), campaign=repr(campaign))
    ctl = control if control is not None else arms[0]
    if ctl not in arms:
        raise InvalidValueError("experiments.bad_control", parameter="control", got=ctl, by=by, arms=Joined(arms))
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
    warnings: list[Message | str] = []
    if len(order) > 2:
        warnings.append(Message("experiments.not_adjusted", n=len(order) - 1, control=ctl))
    small = [a for a, m in zip(order, n, strict=True) if m < 100]
    if small:
        warnings.append(Message("experiments.few_touches", arms=Joined(small)))
    return ExperimentResult(step, by, ctl, rows, campaign, tuple(types), warnings)


#: ``hitrate experiment compare``: the variants compared on a funnel step (:func:`experiment`, by the command's name).
experiment_compare = experiment
