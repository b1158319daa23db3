"""What every slot-machine source reports: :class:`SlotStats` (hit frequency, payback, volatility) and the
arithmetic on pays and their weights that the exact sources share; the file helpers the readers share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hitrate.errors import InputFileError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param, Phrase
from hitrate.report.result import Result, english_fields, json_ready

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go


@dataclass
class SlotStats(Result):
    """Hit frequency, payback and volatility of a machine (exact) or of a spin log (observed).

    ``outcomes`` is the number of stop combinations (or spins); ``hits`` of them pay more than zero.
    ``payback`` is pays / wagers; ``volatility`` the standard deviation of one spin's pay divided by its
    wager. ``distribution`` (exact sources) maps each pay in credits to its number of combinations.
    ``method`` (and a simulation's ``source``) are :class:`~hitrate.stats.phrase.Phrase` objects.
    """

    source: str
    method: Phrase
    wager: float
    outcomes: float
    hits: float
    hit_frequency: float
    payback: float
    volatility: float
    distribution: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[Phrase] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields, with ``extra``'s entries in its place at the end; JSON-ready, sentences in English."""
        out = english_fields(self)
        out.update(out.pop("extra"))
        return {name: json_ready(value) for name, value in out.items()}

    def to_frame(self) -> pd.DataFrame:
        """The distribution of pays (``pay``, ``count``, ``probability``), or, without one (spin logs,
        simulations), one row of the measures; a spin log read ``by`` a column: one row per group."""
        import pandas as pd

        if self.extra.get("groups"):
            return pd.DataFrame(self.extra["groups"])
        if self.distribution:
            pays = list(self.distribution)
            counts = [self.distribution[p] for p in pays]
            share = [c / self.outcomes for c in counts]
            return pd.DataFrame({"pay": [float(p) for p in pays], "count": counts, "probability": share})
        names = ("outcomes", "hits", "hit_frequency", "payback", "volatility", "wager")
        return pd.DataFrame([{name: getattr(self, name) for name in names}])

    def title(self) -> Message:
        """``Slot machine: <source>``."""
        return Message("slots.title", source=self.source)

    def headline(self) -> Message:
        """Hit frequency, payback and volatility in one sentence (what ``hitrate slots`` prints)."""
        measures = ("source", "hit_frequency", "hits", "outcomes", "payback", "volatility", "method")
        return Message("slots.headline", wager=f"{self.wager:g}", **{m: getattr(self, m) for m in measures})

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The distribution of pays (exact sources), or hit frequency and payback with their intervals."""
        from hitrate.domains._charts import distribution_figure, measures_figure

        title = self.title().render(lang)
        if self.distribution:
            frame = self.to_frame()
            return distribution_figure(
                list(self.distribution),
                list(frame["probability"]),
                title=title,
                x_title=Message("slots.pay_axis").render(lang),
                y_title=Message("slots.probability_axis").render(lang),
                lang=lang,
            )
        intervals = [self.extra.get("hit_frequency_ci"), self.extra.get("payback_ci")]
        return measures_figure(
            [Message("slots.hit_frequency").render(lang), Message("slots.payback").render(lang)],
            [self.hit_frequency, self.payback],
            [None if i is None else (float(i[0]), float(i[1])) for i in intervals],
            title=title,
            lang=lang,
        )


# ---------------------------------------------------------------------------------------------------------------
# pays and their weights: the shared arithmetic
# ---------------------------------------------------------------------------------------------------------------
def stats_from_distribution(
    pays: npt.ArrayLike, weights: npt.ArrayLike, *, wager: float, source: str, method: Phrase
) -> SlotStats:
    """Exact measures from pays (credits at ``wager``) and their weights (counts or probabilities).

    hit frequency = Σ weight[pay > 0] / Σ weight; payback = Σ pay·weight / (wager · Σ weight);
    volatility = √(Σ weight·(pay/wager − payback)² / Σ weight).
    """
    pay = np.asarray(pays, dtype=float)
    w = np.asarray(weights, dtype=float)
    if wager <= 0:
        raise InputFileError(source, "slots.wager_not_positive", param=Param("wager"), wager=f"{wager:g}")
    if np.any(w < 0) or w.sum() <= 0:
        raise InputFileError(source, "slots.bad_weights")
    total = float(w.sum())
    ret = pay / wager
    payback = float((ret * w).sum() / total)
    hits = float(w[pay > 0].sum())
    volatility = math.sqrt(float((w * (ret - payback) ** 2).sum() / total))
    order = np.argsort(pay, kind="stable")
    distribution: dict[str, float] = {}
    for p, c in zip(pay[order].tolist(), w[order].tolist(), strict=True):
        distribution[f"{p:g}"] = distribution.get(f"{p:g}", 0.0) + c
    return SlotStats(source, method, wager, total, hits, hits / total, payback, volatility, distribution)


def existing(path: str | Path) -> str:
    """``path`` as text, when it is a file; else the error."""
    if not Path(path).is_file():
        raise InputFileError(str(path), "slots.no_such_file")
    return str(path)


def no_such_column(where: str, parameter: str, given: str, columns: list[str]) -> InputFileError:
    return InputFileError(where, "slots.no_such_column", param=Param(parameter), given=given, columns=Joined(columns))


def pick_column(where: str, columns: list[str], given: str | None, candidates: tuple[str, ...], parameter: str) -> str:
    """The column named by ``parameter`` (``given``), else the first of ``candidates`` found."""
    low = {c.strip().lower(): c for c in columns}
    if given is not None:
        if given.strip().lower() not in low:
            raise no_such_column(where, parameter, given, columns)
        return low[given.strip().lower()]
    for name in candidates:
        if name in low:
            return low[name]
    what = Message(f"slots.column_{parameter}")
    raise InputFileError(where, "slots.no_column", what=what, param=Param(parameter), columns=Joined(columns))


def numbers(where: str, table: Any, column: str) -> npt.NDArray[np.float64]:
    import pandas as pd

    text = table[column].str.replace(",", "", regex=False).str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(where, "slots.not_a_number", row=row + 2, column=column, value=table[column].iloc[row])
    return np.asarray(values, dtype=float)


def z_value(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)
