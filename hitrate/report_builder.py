"""The standard HTML report of a store: hit rate by team, by rep, and the monthly trend."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from .definitions import definitions_in_force
from .engine import fields_available
from .rates import rates
from .report import RateTable, write_report
from .store import Store


def store_sections(store: Store) -> tuple[list[RateTable], list[str], Any]:
    """The report's sections, its notes, and the overall result (for the header)."""
    defs = definitions_in_force(store)
    available = set(fields_available(store.con))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        overall = rates(store, definitions=defs)
        sections: list[RateTable] = []
        overall_rate = float(overall.rows["hit_rate"].iloc[0]) if len(overall.rows) else None
        notes = list(overall.warnings)
        if "team" in available:
            by_team = rates(store, by=["team"], definitions=defs)
            sections.append(
                RateTable(
                    "Hit rate by team",
                    by_team.rows,
                    "team",
                    "bars",
                    overall_rate,
                    "Teams differ in the leads they work: a gap here is not yet a gap in skill.",
                )
            )
        if "rep" in available:
            by_rep = rates(store, by=["rep"], definitions=defs)
            sections.append(
                RateTable(
                    "Hit rate by rep",
                    by_rep.rows,
                    "rep",
                    "bars",
                    overall_rate,
                    "Reps with few attempts have wide intervals: compare intervals, not dots.",
                )
            )
            notes += [w for w in by_rep.warnings if w not in notes]
        trend = rates(store, period="month", definitions=defs)
        sections.append(
            RateTable(
                "Monthly trend",
                trend.rows,
                "period",
                "trend",
                overall_rate,
                f"Months by {defs.effective_period_date}; the band is the 95% interval.",
            )
        )
    return sections, notes, overall


def write_store_report(store: Store, path: str | Path, *, title: str = "hitrate report", lang: str = "en") -> Path:
    """Write the store's report as one self-contained HTML file; returns its path."""
    sections, notes, overall = store_sections(store)
    defs = overall.definitions
    if len(overall.rows):
        row = overall.rows.iloc[0]
        subtitle = (
            f"{int(row['hits']):,} hits of {int(row['attempts']):,} {defs.denominator}: "
            f"{row['hit_rate']:.1%} ({row['ci_low']:.1%}–{row['ci_high']:.1%}), {defs.basis} basis"
        )
    else:
        subtitle = f"No {defs.denominator} in the store yet"
    return write_report(
        path, title=title, subtitle=subtitle, definitions_hash=defs.hash, sections=sections, notes=notes, lang=lang
    )
