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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hitrate.domains.slot_stats import SlotStats, existing, numbers, pick_column, stats_from_distribution
from hitrate.domains.spins import slots_spins, spin_log_stats
from hitrate.errors import InputFileError
from hitrate.i18n import Joined, Param, Phrase

PAY_COLUMNS = ("max_pay_credits", "pay_credits", "pay", "pays", "payout", "win", "credits")
COUNT_COLUMNS = ("num_hits", "hits", "count", "combinations", "combos", "weight", "frequency")
PROBABILITY_COLUMNS = ("probability", "prob", "p")
ANY = "any"


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

    where = existing(file)
    try:
        table = pd.read_csv(file, dtype=str, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(where, "slots.unreadable_csv", error=str(exc)) from None
    pay_col = pick_column(where, list(table.columns), pay, PAY_COLUMNS, "pay")
    count_col = pick_column(where, list(table.columns), count, COUNT_COLUMNS + PROBABILITY_COLUMNS, "count")
    pays = numbers(where, table, pay_col)
    weights = numbers(where, table, count_col)
    stats = stats_from_distribution(pays, weights, wager=wager, source=where, method=Phrase("slots.method_par"))
    shape = "probabilities" if count_col.strip().lower() in PROBABILITY_COLUMNS else "counts"
    stats.extra = {"pay_column": pay_col, "count_column": count_col, "table_shape": shape}
    read_as = Phrase(f"slots.read_as_{shape}", pay=pay_col, count=count_col)
    if stats.hit_frequency >= 1.0:
        stats.warnings.append(Phrase("slots.only_hits", read_as=read_as))
    if stats.payback > 1.0:
        over = Phrase("slots.payback_over_100", read_as=read_as, wager=f"{wager:g}", param=Param("wager"))
        stats.warnings.append(over)
    return stats


#: The name :func:`slots_par` had first.
par_from_table = slots_par


# ---------------------------------------------------------------------------------------------------------------
# reel strips and a paytable
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PayLine:
    """One paytable row: per reel a symbol, ``any``, or a set of symbols (a tuple: any one of them), and the pay in
    credits at the machine's wager."""

    symbols: tuple[str | tuple[str, ...], ...]
    pay: float

    def matches(self, stops: tuple[str, ...]) -> bool:
        """Whether a line of symbols (one per reel) matches this row."""
        return all(
            want == ANY or got == want or (isinstance(want, tuple) and got in want)
            for want, got in zip(self.symbols, stops, strict=True)
        )


@dataclass(frozen=True)
class Machine:
    """Reel strips (symbols in stop order) and a paytable; the pays are credits at ``wager``."""

    reels: tuple[tuple[str, ...], ...]
    paytable: tuple[PayLine, ...]
    wager: float = 1.0
    name: str = ""

    def line_pay(self, symbols: tuple[str, ...]) -> float:
        """The pay of one line of symbols: the highest pay among the paytable rows it matches (0 if none)."""
        return max((line.pay for line in self.paytable if line.matches(symbols)), default=0.0)


def load_machine(path: str | Path) -> Machine:
    """Read a reel-strip file (YAML, the format in this module's docstring); errors name the file and key."""
    import yaml

    where = existing(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputFileError(where, "slots.invalid_yaml", error=str(exc)) from None
    return machine_from_dict(data, where)


#: The keys a reel-strip file may have, and those of a paytable row; anything else (``wild``, ``scatter``...) is
#: refused rather than ignored, since hitrate would compute the machine without it.
MACHINE_KEYS = ("name", "wager", "reels", "paytable")
PAYLINE_KEYS = ("symbols", "pay")


def machine_from_dict(data: Any, where: str = "machine") -> Machine:
    """A :class:`Machine` from the parsed reel-strip mapping (``reels``, ``paytable``, ``wager``, ``name``).

    Refused, naming the key or row: a key hitrate does not compute (``wild``, ``scatter``...), and a paytable
    symbol that is on no stop of the reel it needs (a typo would otherwise make that line never pay).
    """
    if not isinstance(data, dict) or "reels" not in data or "paytable" not in data:
        raise InputFileError(where, "slots.expected_machine")
    unknown = [str(k) for k in data if k not in MACHINE_KEYS]
    if unknown:
        raise InputFileError(where, "slots.unknown_key", key=unknown[0], keys=Joined(MACHINE_KEYS))
    reels = data["reels"]
    if not isinstance(reels, list) or not reels or not all(isinstance(r, list) and r for r in reels):
        raise InputFileError(where, "slots.expected_reels")
    strips = tuple(tuple(str(s) for s in reel) for reel in reels)
    lines: list[PayLine] = []
    for i, row in enumerate(data["paytable"] or []):
        if not isinstance(row, dict) or "symbols" not in row or "pay" not in row:
            raise InputFileError(where, "slots.expected_payline", row=i)
        extra = [str(k) for k in row if k not in PAYLINE_KEYS]
        if extra:
            raise InputFileError(where, "slots.unknown_payline_key", row=i, key=extra[0], keys=Joined(PAYLINE_KEYS))
        symbols = tuple(tuple(str(x) for x in s) if isinstance(s, list) else str(s) for s in row["symbols"])
        if len(symbols) != len(strips):
            raise InputFileError(where, "slots.symbols_for_reels", row=i, symbols=len(symbols), reels=len(strips))
        try:
            pay = float(row["pay"])
        except (TypeError, ValueError):
            raise InputFileError(where, "slots.pay_not_a_number", row=i, value=row["pay"]) from None
        _on_reels(where, i, symbols, strips)
        lines.append(PayLine(symbols, pay))
    try:
        wager = float(data.get("wager", 1))
    except (TypeError, ValueError):
        raise InputFileError(where, "slots.wager_not_a_number", value=data.get("wager")) from None
    return Machine(strips, tuple(lines), wager, str(data.get("name", "")))


Symbols = tuple[str | tuple[str, ...], ...]


def _on_reels(where: str, row: int, symbols: Symbols, strips: tuple[tuple[str, ...], ...]) -> None:
    """Refuse a paytable row that names a symbol on no stop of its reel."""
    for reel, (want, strip) in enumerate(zip(symbols, strips, strict=True), start=1):
        for symbol in want if isinstance(want, tuple) else (want,):
            if symbol != ANY and symbol not in strip:
                shown = Joined(list(dict.fromkeys(strip)))
                raise InputFileError(where, "slots.symbol_not_on_reel", row=row, symbol=symbol, reel=reel, shown=shown)


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


def slots_reels(file: str | Path, *, simulate: int = 0, seed: int = 0) -> SlotStats:
    """Exact hit frequency, payback and volatility of reel strips and a paytable (a YAML file, see the module
    docstring), by enumerating every stop: ``hitrate slots reels``. With ``simulate`` > 0 also that many
    seeded simulated spins, as ``extra["simulation"]`` (their :meth:`SlotStats.to_dict`), to check."""
    machine = load_machine(file)
    stats = enumerate_machine(machine, str(file))
    if simulate > 0:
        stats.extra["simulation"] = simulated_stats(machine, simulate, seed=seed).to_dict()
    return stats


__all__ = [
    "Machine",
    "PayLine",
    "SlotStats",
    "enumerate_machine",
    "load_machine",
    "machine_from_dict",
    "par_from_table",
    "pay_grid",
    "simulate",
    "simulated_stats",
    "slots_par",
    "slots_reels",
    "slots_spins",
    "spin_log_stats",
    "stats_from_distribution",
]
