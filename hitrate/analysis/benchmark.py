"""Benchmarking groups honestly: shrinkage for small samples, funnel limits, lead-mix adjustment.

Everything here runs on the engine's aggregated counts (:func:`hitrate.engine.count`):
one query for the groups, one more for the group × stratum cross-tab when ``adjust`` is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hitrate.analysis._common import DefinitionsArg, comma_list, query_echo, resolve_definitions, warn_all
from hitrate.analysis.results import RatesResult
from hitrate.engine.counting import count
from hitrate.engine.query import Query
from hitrate.errors import SmallSampleWarning, UserInputError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param
from hitrate.report.result import json_ready
from hitrate.spec.model import Definitions
from hitrate.stats.intervals import wilson_interval

if TYPE_CHECKING:
    from hitrate.report import CaterpillarPlot, FunnelPlot

SMALL_GROUP = 20  # attempts below which a group's rate supports no claim on its own

METHOD = Message("benchmark.method")


@dataclass
class BenchmarkResult(RatesResult):
    """Per group: raw rate and interval, shrunk rate and interval, funnel flag, and (with ``adjust``)
    expected hits, quality index and adjusted rate. ``priors`` describes the fitted beta prior(s).

    Drawn (:meth:`sections`, :meth:`plot`) as the report draws reps: a funnel plot against the overall rate,
    then a caterpillar plot of the shrunk rates.
    """

    priors: dict[str, dict[str, Any]] = field(default_factory=dict)
    adjust: tuple[str, ...] = ()

    TABLE: ClassVar[str] = "benchmark"
    PROPORTIONS: ClassVar[frozenset[str]] = RatesResult.PROPORTIONS | frozenset(
        {"shrunk_rate", "shrunk_low", "shrunk_high", "funnel95_low", "funnel95_high", "funnel998_low"}
        | {"funnel998_high", "adjusted_rate", "adjusted_low", "adjusted_high"}
    )

    def to_dict(self) -> dict[str, Any]:
        """The rates result's keys, then ``priors`` and ``adjust``."""
        return {**super().to_dict(), "priors": json_ready(self.priors), "adjust": list(self.adjust)}

    @property
    def overall_rate(self) -> float:
        """Hits over attempts of all groups together: the centre of the funnel."""
        return float(self.query["overall_rate"])

    def title(self) -> Message:
        """``Benchmark by rep``."""
        return Message("benchmark.title", by=self.by[-1])

    def headline(self) -> Message:
        """The overall rate, and how many groups the funnel flags above and below it."""
        flags = [str(f) for f in self.columns["flag"]]
        return Message(
            "benchmark.headline",
            rate=self.overall_rate,
            above=flags.count("above"),
            below=flags.count("below"),
            groups=len(flags),
        )

    def sections(self, lang: str = DEFAULT_LANG) -> list[FunnelPlot | CaterpillarPlot]:
        """A funnel plot of the groups against the overall rate, and their shrunk rates as a caterpillar plot
        (the report's charts of reps)."""
        from hitrate.report import CaterpillarPlot, FunnelPlot

        frame = self.to_frame()
        if not len(frame):
            return []
        label, extra = self.by[-1], self.by[:-1]
        rate = self.overall_rate
        funnel = Message("benchmark.funnel_title", by=label).render(lang)
        caterpillar = Message("benchmark.caterpillar_title", by=label).render(lang)
        words = self.section_words(lang)
        ranked = frame.dropna(subset=["shrunk_rate"]).sort_values("shrunk_rate", kind="stable")
        lead = ""
        if len(ranked) > 1:
            low, high = ranked.iloc[0], ranked.iloc[-1]
            lead = Message(
                "benchmark.caterpillar_headline",
                top=str(high[label]),
                high=float(high["shrunk_rate"]),
                bottom=str(low[label]),
                low=float(low["shrunk_rate"]),
            ).render(lang)
        funnel_note, caterpillar_note = (Message(f"benchmark.{k}_note").render(lang) for k in ("funnel", "caterpillar"))
        return [
            FunnelPlot(funnel, frame, label, rate, funnel_note, extra, **words),
            CaterpillarPlot(caterpillar, frame, label, rate, caterpillar_note, extra, lead, words["method"]),
        ]


def benchmark(
    source: Any,
    *,
    by: str,
    within: str | None = None,
    adjust: str | Sequence[str] = (),
    basis: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    definitions: DefinitionsArg = None,
    confidence: float = 0.95,
) -> BenchmarkResult:
    """Compare groups (reps, teams, segments...) without fooling anyone.

    For each group of ``by``: the raw hit rate with its Wilson interval; the **shrunk rate** (beta-binomial
    empirical Bayes: a Beta prior fitted by marginal likelihood across the groups, optionally one prior per
    ``within`` parent, and the posterior mean with its credible interval), which keeps a 9-of-12 group from
    outranking a 300-of-450 one on luck; **funnel-plot limits** (95% and 99.8%) around the overall rate and a
    ``flag`` (``above``/``below``/``within``) from exact binomial tests with Benjamini-Hochberg control, so
    that many groups do not produce false alarms; and, with ``adjust`` (e.g. ``["lead_source"]``), the
    **expected hits** given the group's own mix of those fields, the **quality index** (observed / expected,
    indirect standardisation, exact Poisson interval) and the **adjusted rate** (quality index × overall
    rate): a rep who works weak leads is not a weak rep. ``adjust=["model"]`` (or ``"model"``) takes the
    expected hits from the lead scores in the store instead.

    The keyword arguments are the command line's options: ``adjust`` may be given as it is there,
    ``"lead_source,segment"``; ``where`` as ``FIELD=VALUE`` items; ``definitions`` as a file's path.
    """
    from hitrate.stats.funnel_plot import funnel_flags, funnel_limits
    from hitrate.stats.shrinkage import fit_beta_binomial, shrink, shrink_within

    defs = resolve_definitions(source, definitions, basis)
    adjust = comma_list(adjust)
    _check_fields(by, within, adjust)
    group_fields = [by] if within is None else [within, by]
    base = Query.build(by=group_fields, date_from=date_from, date_to=date_to, where=where)
    cross = None
    by_model = list(adjust) == ["model"]
    if adjust and not by_model:  # one query: the group x stratum cross-tab, summed to groups here
        cross_query = Query.build(by=[*group_fields, *adjust], date_from=date_from, date_to=date_to, where=where)
        cross = count(source, defs, cross_query).columns
        c = _sum_to_groups(cross, group_fields)
    else:
        c = count(source, defs, base).columns
    n, k = c["attempts"], c["hits"]
    if not len(n) or n.sum() == 0:
        raise UserInputError("benchmark.no_attempts")
    rate = np.divide(k, n, out=np.full(len(n), np.nan), where=n > 0)
    low, high = wilson_interval(k, n, confidence)
    notes: list[Message] = []
    priors: dict[str, dict[str, Any]] = {}
    if within is None:
        prior = fit_beta_binomial(k, n)
        s_mean, s_low, s_high = shrink(k, n, prior, confidence)
        priors["all"] = _prior_dict(prior)
    else:
        parents = c[within]
        s_mean, s_low, s_high, fitted = shrink_within(k, n, parents, confidence)
        priors = {str(p): _prior_dict(v) for p, v in fitted.items()}
    p0 = float(k.sum() / n.sum()) if n.sum() else float("nan")
    limits = funnel_limits(n, p0)
    flags, p_values, q_values = funnel_flags(k, n, p0)
    columns: dict[str, np.ndarray] = {f: c[f] for f in group_fields}
    columns.update(
        attempts=n,
        hits=k,
        hit_rate=rate,
        ci_low=low,
        ci_high=high,
        shrunk_rate=np.asarray(s_mean, dtype=float),
        shrunk_low=np.asarray(s_low, dtype=float),
        shrunk_high=np.asarray(s_high, dtype=float),
        flag=np.asarray(flags, dtype=object),
        p_value=np.asarray(p_values, dtype=float),
        q_value=np.asarray(q_values, dtype=float),
        funnel95_low=limits[0.95][0],
        funnel95_high=limits[0.95][1],
        funnel998_low=limits[0.998][0],
        funnel998_high=limits[0.998][1],
        small=(n < SMALL_GROUP),
    )
    if cross is not None:
        columns.update(_adjusted(cross, group_fields, list(adjust), c, confidence))
    if by_model:
        extra, model_notes = _model_adjusted(source, defs, base, c, group_fields, confidence)
        columns.update(extra)
        if model_notes:
            notes.append(Joined(model_notes, "; "))
    small = int(((n > 0) & (n < SMALL_GROUP)).sum())
    if small:
        notes.append(Message("benchmark.small_groups", small=small, groups=len(n), minimum=SMALL_GROUP))
    warn_all(notes, SmallSampleWarning, stacklevel=2)
    q = {"by": by, "within": within, "adjust": list(adjust), **query_echo(base), "confidence": confidence}
    q["overall_rate"] = p0
    notes_out: list[Message | str] = list(notes)
    return BenchmarkResult(columns, defs, tuple(group_fields), None, q, notes_out, METHOD, priors, tuple(adjust))


def _check_fields(by: str, within: str | None, adjust: Sequence[str]) -> None:
    """``within`` names another field than ``by``; ``adjust`` names neither."""
    if within is not None and within == by:
        raise UserInputError("benchmark.within_is_by", within=Param("within"), by=Param("by"))
    if by in adjust or (within is not None and within in adjust):
        raise UserInputError("benchmark.adjust_overlap", adjust=Param("adjust"), by=Param("by"), within=Param("within"))


def _prior_dict(prior: Any) -> dict[str, Any]:
    return {
        "alpha": prior.alpha,
        "beta": prior.beta,
        "mean": prior.mean,
        "strength": prior.strength,
        "n_groups": prior.n_groups,
        "converged": prior.converged,
        "method": prior.method,
    }


def _sum_to_groups(x: dict[str, np.ndarray], group_fields: list[str]) -> dict[str, np.ndarray]:
    """The cross-tab's counts summed over strata: one entry per group, in the groups' order."""
    keys = list(zip(*(x[f].tolist() for f in group_fields), strict=True))
    order = sorted(dict.fromkeys(keys), key=lambda key: tuple((v is None, str(v)) for v in key))
    index = {key: i for i, key in enumerate(order)}
    codes = np.array([index[key] for key in keys], dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    for i, f in enumerate(group_fields):
        col = np.empty(len(order), dtype=object)
        col[:] = [key[i] for key in order]
        out[f] = col
    for name in ("attempts", "hits"):
        out[name] = np.bincount(codes, weights=x[name], minlength=len(order)).astype(np.int64)
    for name in ("amount_won", "amount_known"):
        out[name] = np.bincount(codes, weights=x[name], minlength=len(order))
    return out


def _adjusted(
    x: dict[str, np.ndarray], group_fields: list[str], adjust: list[str], c: dict[str, np.ndarray], confidence: float
) -> dict[str, np.ndarray]:
    """Expected hits, quality index and adjusted rate per group, from the group × stratum cross-tab."""
    from hitrate.stats.adjust import indirect_standardise

    group_key = list(zip(*(x[f].tolist() for f in group_fields), strict=True))
    stratum_key = list(zip(*(x[f].tolist() for f in adjust), strict=True))
    main_key = list(zip(*(c[f].tolist() for f in group_fields), strict=True))
    g_index = {key: i for i, key in enumerate(main_key)}
    s_labels = {key: i for i, key in enumerate(sorted(set(stratum_key), key=str))}
    gi = np.array([g_index[key] for key in group_key], dtype=np.int64)
    si = np.array([s_labels[key] for key in stratum_key], dtype=np.int64)
    res = indirect_standardise(gi, si, x["attempts"], x["hits"], confidence=confidence)
    size = len(main_key)
    out = {
        name: np.full(size, np.nan)
        for name in (
            "expected_hits",
            "quality_index",
            "quality_low",
            "quality_high",
            "adjusted_rate",
            "adjusted_low",
            "adjusted_high",
        )
    }
    pos = np.asarray(res.groups, dtype=np.int64)
    out["expected_hits"][pos] = res.expected
    out["quality_index"][pos] = res.quality_index
    out["quality_low"][pos] = res.quality_low
    out["quality_high"][pos] = res.quality_high
    out["adjusted_rate"][pos] = res.adjusted_rate
    out["adjusted_low"][pos] = res.adjusted_low
    out["adjusted_high"][pos] = res.adjusted_high
    return out


def _model_adjusted(
    source: Any, defs: Definitions, base: Query, c: dict[str, np.ndarray], group_fields: list[str], confidence: float
) -> tuple[dict[str, np.ndarray], list[Message]]:
    """``adjust=["model"]``: expected hits = the sum of the lead-scoring model's probabilities over each group's
    scored attempts (``hitrate score predict`` keeps them in the store); quality index = observed / expected
    hits over those attempts, with the exact Poisson (Garwood) interval; adjusted rate = index × overall rate."""
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import model_expected_expr
    from hitrate.stats.adjust import garwood_interval

    expr, _ = model_expected_expr(source, defs, base)
    m = fetch(source, expr)
    key = {k: i for i, k in enumerate(zip(*(m[f].tolist() for f in group_fields), strict=True))}
    size = len(c["attempts"])
    out = {
        name: np.full(size, np.nan)
        for name in ("expected_hits", "quality_index", "quality_low", "quality_high", "adjusted_rate", "scored")
    }
    observed = np.full(size, np.nan)
    for row, k in enumerate(zip(*(c[f].tolist() for f in group_fields), strict=True)):
        i = key.get(k)
        if i is not None:
            out["expected_hits"][row] = float(m["expected"][i])
            out["scored"][row] = float(m["scored"][i])
            observed[row] = float(m["scored_hits"][i])
    if not np.isfinite(out["expected_hits"]).any():
        raise UserInputError("benchmark.no_lead_scores", adjust=Param("adjust"))
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = garwood_interval(np.nan_to_num(observed), confidence)
        expected = out["expected_hits"]
        out["quality_index"] = observed / expected
        out["quality_low"] = low / expected
        out["quality_high"] = high / expected
    overall = float(c["hits"].sum() / c["attempts"].sum()) if c["attempts"].sum() else float("nan")
    out["adjusted_rate"] = np.clip(out["quality_index"] * overall, 0, 1)
    unscored = int(np.nansum(c["attempts"] - np.nan_to_num(out["scored"])))
    notes = [Message("benchmark.unscored", n=unscored)] if unscored else []
    notes += _rep_feature_notes(source, group_fields)
    return out, notes


def _rep_feature_notes(source: Any, group_fields: list[str]) -> list[Message]:
    """A warning when the scoring model used attributes of the reps while groups are reps or rep attributes:
    expected hits then already credit what is being compared, and the quality index is pulled towards 1."""
    from hitrate.scoring.io import read_metadata
    from hitrate.store.schema import REPS

    con = getattr(source, "con", source)
    tables = set(con.list_tables())
    rep_fields = {"rep", *REPS.fields}
    if "reps" in tables:
        rep_fields |= set(con.table("reps").columns)
    if not rep_fields & set(group_fields):
        return []
    used: set[str] = set()
    for path in con.table("lead_scores").select("model").distinct().execute()["model"]:
        if not isinstance(path, str):
            continue  # scores put in by other means name no model file
        try:
            sources = read_metadata(path).get("feature_sources", {})
        except UserInputError:
            continue  # the model file moved: nothing to say about it
        used |= {f for f, table in sources.items() if table == "reps"}
    if not used:
        return []
    return [Message("benchmark.rep_features", fields=Joined(sorted(used)), exclude=Param("exclude"))]
