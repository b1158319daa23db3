"""Slot machines: hit frequency, return to player (payback) and volatility.

Three sources, one set of measures:

- a PAR sheet's **outcome table** (:func:`par_from_table`): one row per pay, with how many of the
  machine's stop combinations give it (or its probability). Small, read whole with pandas.
- **reel strips and a paytable** (:func:`load_machine`, :func:`enumerate_machine`): the exact distribution
  of pays by enumerating every stop combination (symbol counts multiplied, so a 5-reel machine is
  cheap), and :func:`simulate` for a seeded spin log to check it against.
- a **spin log** (:func:`spin_log_stats`): one row per spin with the wager and the win, aggregated in
  DuckDB (Ibis) without loading the rows into Python.

A *hit* is a spin that pays more than zero (a pay below the wager is still a hit, as PAR sheets count
it). *Payback* (return to player) is total pays over total wagers. *Volatility* is the standard deviation
of one spin's pay in units of the wager (the PAR sheet's volatility index multiplies it by a confidence
factor; hitrate reports the plain standard deviation).

Reel-strip file format (YAML; documented in ``docs/gaming.md``)::

    name: Three Sevens            # optional
    wager: 1                      # credits the pays are for (default 1)
    reels:                        # one list per reel: its symbols in stop order (repeats allowed)
      - [7, BAR, BAR, CH, BL, BL]
      - [7, BAR, CH, BL, BL, BL]
      - [7, BAR, CH, CH, BL, BL]
    paytable:                     # a line pays the highest pay among the rows it matches
      - {symbols: [7, 7, 7], pay: 100}
      - {symbols: [BAR, BAR, BAR], pay: 20}
      - {symbols: [CH, any, any], pay: 2}   # ``any`` matches every symbol

Symbols are text (``7`` and ``"7"`` are the same symbol); one pay line, through the stops shown.
"""

from __future__ import annotations

import itertools
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

PAY_COLUMNS = ("max_pay_credits", "pay_credits", "pay", "pays", "payout", "win", "credits")
COUNT_COLUMNS = ("num_hits", "hits", "count", "combinations", "combos", "weight", "frequency")
PROBABILITY_COLUMNS = ("probability", "prob", "p")
ANY = "any"


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

    def to_dict(self) -> dict[str, Any]:
        """The fields, with ``extra``'s entries in its place at the end; JSON-ready, sentences in English."""
        out = english_fields(self)
        out.update(out.pop("extra"))
        return {name: json_ready(value) for name, value in out.items()}

    def to_frame(self) -> pd.DataFrame:
        """The distribution of pays (``pay``, ``count``, ``probability``), or, without one (spin logs,
        simulations), one row of the measures."""
        import pandas as pd

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


# ---------------------------------------------------------------------------------------------------------------
# PAR sheet outcome table
# ---------------------------------------------------------------------------------------------------------------
def slots_par(file: str | Path, *, wager: float = 1.0, pay: str | None = None, count: str | None = None) -> SlotStats:
    """Hit frequency, payback and volatility from a PAR sheet's outcome table (CSV): ``hitrate slots par``.

    Parameters
    ----------
    file:
        A CSV file with one row per pay.
    wager:
        Credits wagered per spin; the table's pays are credits returned at that wager.
    pay:
        The pay column; default the first of ``max_pay_credits``, ``pay_credits``, ``pay``, ``payout``...
    count:
        The column of stop combinations per pay (``num_hits``, ``count``, ``combinations``...) or of
        probabilities (``probability``); default the first count column found, else a probability column.
    """
    import pandas as pd

    where = _existing(file)
    try:
        table = pd.read_csv(file, dtype=str, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(where, "slots.unreadable_csv", error=str(exc)) from None
    pay_col = _pick_column(where, list(table.columns), pay, PAY_COLUMNS, "pay")
    count_col = _pick_column(where, list(table.columns), count, COUNT_COLUMNS + PROBABILITY_COLUMNS, "count")
    pays = _numbers(where, table, pay_col)
    weights = _numbers(where, table, count_col)
    stats = stats_from_distribution(pays, weights, wager=wager, source=where, method=Phrase("slots.method_par"))
    stats.extra = {"pay_column": pay_col, "count_column": count_col}
    return stats


#: The name :func:`slots_par` had first.
par_from_table = slots_par


def _existing(path: str | Path) -> str:
    """``path`` as text, when it is a file; else the error."""
    if not Path(path).is_file():
        raise InputFileError(str(path), "slots.no_such_file")
    return str(path)


def _no_such_column(where: str, parameter: str, given: str, columns: list[str]) -> InputFileError:
    return InputFileError(where, "slots.no_such_column", param=Param(parameter), given=given, columns=Joined(columns))


def _pick_column(where: str, columns: list[str], given: str | None, candidates: tuple[str, ...], parameter: str) -> str:
    """The column named by ``parameter`` (``given``), else the first of ``candidates`` found."""
    low = {c.strip().lower(): c for c in columns}
    if given is not None:
        if given.strip().lower() not in low:
            raise _no_such_column(where, parameter, given, columns)
        return low[given.strip().lower()]
    for name in candidates:
        if name in low:
            return low[name]
    what = Message(f"slots.column_{parameter}")
    raise InputFileError(where, "slots.no_column", what=what, param=Param(parameter), columns=Joined(columns))


def _numbers(where: str, table: Any, column: str) -> npt.NDArray[np.float64]:
    import pandas as pd

    text = table[column].str.replace(",", "", regex=False).str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(where, "slots.not_a_number", row=row + 2, column=column, value=table[column].iloc[row])
    return np.asarray(values, dtype=float)


# ---------------------------------------------------------------------------------------------------------------
# reel strips and a paytable
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PayLine:
    """One paytable row: a symbol (or ``any``) per reel and the pay in credits at the machine's wager."""

    symbols: tuple[str, ...]
    pay: float


@dataclass(frozen=True)
class Machine:
    """Reel strips (symbols in stop order) and a paytable; the pays are credits at ``wager``."""

    reels: tuple[tuple[str, ...], ...]
    paytable: tuple[PayLine, ...]
    wager: float = 1.0
    name: str = ""

    def line_pay(self, symbols: tuple[str, ...]) -> float:
        """The pay of one line of symbols: the highest pay among the paytable rows it matches (0 if none)."""
        best = 0.0
        for line in self.paytable:
            if all(want in (ANY, got) for want, got in zip(line.symbols, symbols, strict=True)):
                best = max(best, line.pay)
        return best


def load_machine(path: str | Path) -> Machine:
    """Read a reel-strip file (YAML, the format in this module's docstring); errors name the file and key."""
    import yaml

    where = _existing(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputFileError(where, "slots.invalid_yaml", error=str(exc)) from None
    return machine_from_dict(data, where)


def machine_from_dict(data: Any, where: str = "machine") -> Machine:
    """A :class:`Machine` from the parsed reel-strip mapping (``reels``, ``paytable``, ``wager``, ``name``)."""
    if not isinstance(data, dict) or "reels" not in data or "paytable" not in data:
        raise InputFileError(where, "slots.expected_machine")
    reels = data["reels"]
    if not isinstance(reels, list) or not reels or not all(isinstance(r, list) and r for r in reels):
        raise InputFileError(where, "slots.expected_reels")
    strips = tuple(tuple(str(s) for s in reel) for reel in reels)
    lines: list[PayLine] = []
    for i, row in enumerate(data["paytable"] or []):
        if not isinstance(row, dict) or "symbols" not in row or "pay" not in row:
            raise InputFileError(where, "slots.expected_payline", row=i)
        symbols = tuple(str(s) for s in row["symbols"])
        if len(symbols) != len(strips):
            raise InputFileError(where, "slots.symbols_for_reels", row=i, symbols=len(symbols), reels=len(strips))
        try:
            pay = float(row["pay"])
        except (TypeError, ValueError):
            raise InputFileError(where, "slots.pay_not_a_number", row=i, value=row["pay"]) from None
        lines.append(PayLine(symbols, pay))
    try:
        wager = float(data.get("wager", 1))
    except (TypeError, ValueError):
        raise InputFileError(where, "slots.wager_not_a_number", value=data.get("wager")) from None
    return Machine(strips, tuple(lines), wager, str(data.get("name", "")))


def _symbol_counts(machine: Machine) -> list[tuple[list[str], npt.NDArray[np.float64]]]:
    """Per reel: its distinct symbols (first-seen order) and how many stops show each."""
    out = []
    for reel in machine.reels:
        symbols = list(dict.fromkeys(reel))
        out.append((symbols, np.array([reel.count(s) for s in symbols], dtype=float)))
    return out


def pay_grid(machine: Machine) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The pay and the number of stop combinations of every combination of distinct symbols, as arrays
    of shape (symbols on reel 1, symbols on reel 2, ...)."""
    per_reel = _symbol_counts(machine)
    shape = tuple(len(symbols) for symbols, _ in per_reel)
    pays = np.empty(shape, dtype=float)
    for idx in itertools.product(*(range(n) for n in shape)):
        pays[idx] = machine.line_pay(tuple(per_reel[r][0][i] for r, i in enumerate(idx)))
    weights = np.ones(shape, dtype=float)
    for r, (_, counts) in enumerate(per_reel):
        weights = weights * counts.reshape([-1 if k == r else 1 for k in range(len(shape))])
    return pays, weights


def enumerate_machine(machine: Machine, source: str | None = None) -> SlotStats:
    """Exact hit frequency, payback and volatility by enumerating every stop combination.

    Stops are equally likely and independent across reels, so a combination of symbols has weight
    Π (stops of that symbol on its reel); the distinct-symbol combinations are enumerated, which covers
    all Π (reel length) stop combinations. ``source`` names the machine (default: ``reel strips``).
    """
    pays, weights = pay_grid(machine)
    stats = stats_from_distribution(
        pays.ravel(),
        weights.ravel(),
        wager=machine.wager,
        source=Phrase("slots.reel_strips") if source is None else source,
        method=Phrase("slots.method_enumeration"),
    )
    stats.extra = {"stop_combinations": math.prod(len(r) for r in machine.reels)}
    return stats


def simulate(machine: Machine, spins: int, *, seed: int = 0) -> npt.NDArray[np.float64]:
    """Pays (credits) of ``spins`` simulated spins: every reel stops uniformly at random (seeded)."""
    rng = np.random.default_rng(seed)
    pays, _ = pay_grid(machine)
    index = []
    for reel, (symbols, _counts) in zip(machine.reels, _symbol_counts(machine), strict=True):
        position = {s: i for i, s in enumerate(symbols)}
        stop_symbol = np.array([position[s] for s in reel])
        index.append(stop_symbol[rng.integers(0, len(reel), size=spins)])
    return np.asarray(pays[tuple(index)], dtype=float)


def simulated_stats(machine: Machine, spins: int, *, seed: int = 0) -> SlotStats:
    """Hit frequency, payback and volatility of ``spins`` simulated spins (each spin weight 1)."""
    pays = simulate(machine, spins, seed=seed)
    source = Phrase("slots.simulated_spins", spins=spins)
    stats = stats_from_distribution(
        pays, np.ones_like(pays), wager=machine.wager, source=source, method=Phrase("slots.method_simulation")
    )
    stats.distribution = {}
    stats.extra = {"seed": seed}
    return stats


# ---------------------------------------------------------------------------------------------------------------
# spin logs
# ---------------------------------------------------------------------------------------------------------------
def slots_spins(
    file: str | Path, *, win: str = "win", wager: str | None = "wager", confidence: float = 0.95
) -> SlotStats:
    """Observed hit frequency, return to player and volatility of a spin log (CSV or Parquet):
    ``hitrate slots spins``.

    One row per spin; ``win`` is the credits paid, ``wager`` the credits staked (a missing column means 1
    credit per spin). Aggregated in DuckDB through Ibis: count, hits (win > 0), Σ win, Σ wager and the
    moments of win/wager. Hit frequency gets a Wilson score interval, payback a normal-approximation
    interval (payback ± z·sd/√n, sd the standard deviation of win/wager per spin).
    """
    import ibis

    from hitrate.stats.intervals import wilson_interval

    where = _existing(file)
    con = ibis.duckdb.connect()
    t = con.read_parquet(where) if where.lower().endswith(".parquet") else con.read_csv(where)
    cols = {c.lower(): c for c in t.columns}
    if win.lower() not in cols:
        raise _no_such_column(where, "win", win, list(t.columns))
    w = t[cols[win.lower()]].cast("float64")
    if wager is not None and wager.lower() in cols:
        s = t[cols[wager.lower()]].cast("float64")
    elif wager is not None and wager != "wager":
        raise _no_such_column(where, "wager", wager, list(t.columns))
    else:
        s = ibis.literal(1.0)
    ratio = w / s
    agg = (
        t.aggregate(
            spins=t.count(),
            hits=t.count(where=w > 0),
            won=w.sum(),
            staked=s.sum() if wager else t.count(),
            mean_ratio=ratio.mean(),
            sd_ratio=ratio.std(how="pop"),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    con.disconnect()
    n = int(agg["spins"])
    if n == 0:
        raise InputFileError(where, "slots.no_spins")
    hits = int(agg["hits"])
    payback = float(agg["won"]) / float(agg["staked"])
    sd = float(agg["sd_ratio"] or 0.0)
    low, high = wilson_interval(hits, n, confidence)
    half = _z(confidence) * sd / math.sqrt(n)
    method = Phrase("slots.method_spin_log")
    stats = SlotStats(where, method, float(agg["staked"]) / n, n, hits, hits / n, payback, sd)
    stats.extra = {
        "hit_frequency_ci": [float(low), float(high)],
        "payback_ci": [payback - half, payback + half],
        "interval_methods": Phrase("slots.interval_methods"),
    }
    return stats


#: The name :func:`slots_spins` had first.
spin_log_stats = slots_spins


def slots_reels(file: str | Path, *, simulate: int = 0, seed: int = 0) -> SlotStats:
    """Exact hit frequency, payback and volatility of reel strips and a paytable (a YAML file, see the module
    docstring), by enumerating every stop: ``hitrate slots reels``. With ``simulate`` > 0 also that many
    seeded simulated spins, as ``extra["simulation"]`` (their :meth:`SlotStats.to_dict`), to check."""
    machine = load_machine(file)
    stats = enumerate_machine(machine, str(file))
    if simulate > 0:
        stats.extra["simulation"] = simulated_stats(machine, simulate, seed=seed).to_dict()
    return stats


def _z(confidence: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)
