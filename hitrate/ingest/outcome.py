"""Won, lost or open: a preset's outcome rules over the CRM's own flags, then the stage names, as SQL.

Rules come from the preset (``signals`` + ``outcome``); each becomes one ``WHEN`` of a ``CASE``, in
order, and the stage lists (``$won``/``$lost``) close it. Every value the SQL compares with is a bound
parameter; cells are addressed by generated names (``c0``...) only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hitrate.ingest.mapping import first_column
from hitrate.ingest.presets import Condition, PresetTable

TRUE_WORDS = ("1", "true", "yes", "y", "t", "x", "ja", "sim", "oui", "si", "sí", "vrai", "wahr", "verdadeiro")
FALSE_WORDS = ("", "0", "false", "no", "n", "f", "nein", "não", "nao", "non", "faux", "falsch", "falso")


@dataclass(frozen=True)
class OutcomeSQL:
    """The ``CASE`` expression, its bound parameters and the source columns it reads (for the report)."""

    sql: str
    params: dict[str, Any]
    columns: list[str]


def _flag(idx: int) -> str:
    # Excel formula residue (=TRUE(), =FALSE()) as seen in Salesforce XLSX report exports
    return f"lower(regexp_replace(trim(coalesce(c{idx}, '')), '^=|\\(\\)$', '', 'g'))"


def _test(idx: int | None, cond: Condition, name: str, stage: str) -> tuple[str, Any]:
    """SQL for one condition and the value bound to ``$name`` (``None``: nothing bound)."""
    if idx is None:  # the stage lists
        return f"list_contains(${cond}, {stage})", None
    if isinstance(cond, bool):
        return f"list_contains(${name}, {_flag(idx)})", list(TRUE_WORDS if cond else FALSE_WORDS)
    if isinstance(cond, float):
        return f"TRY_CAST(replace(trim(c{idx}), ',', '.') AS DOUBLE) = ${name}", cond
    if cond == "any":
        return "TRUE", None
    values = [cond] if isinstance(cond, str) else cond
    return f"list_contains(${name}, lower(trim(c{idx})))", [v.strip().lower() for v in values]


def outcome_sql(ptable: PresetTable | None, columns: list[str], stage: str) -> OutcomeSQL:
    """The outcome of each row: the first preset rule whose signals the file has and whose conditions
    hold, else ``won``/``lost`` by stage name (``$won``/``$lost``), else ``open``.

    ``stage`` is the SQL of the row's stage, lower-cased and trimmed.
    """
    whens: list[str] = []
    params: dict[str, Any] = {}
    used: list[str] = []
    if ptable is not None:
        found = {name: first_column(columns, alts) for name, alts in ptable.signals.items()}
        for rule in ptable.outcome:
            if any(found.get(sig) is None for sig in rule.when if sig != "stage"):
                continue  # this export lacks a column the rule reads
            tests = []
            for sig, cond in rule.when.items():
                idx = None if sig == "stage" else found[sig]
                name = f"o{len(params)}"
                sql, value = _test(idx, cond, name, stage)
                if value is not None:
                    params[name] = value
                tests.append(sql)
                if idx is not None and columns[idx] not in used:
                    used.append(columns[idx])
            whens.append(f"WHEN {' AND '.join(tests)} THEN '{rule.outcome}'")
    whens += [f"WHEN list_contains($won, {stage}) THEN 'won'", f"WHEN list_contains($lost, {stage}) THEN 'lost'"]
    return OutcomeSQL(f"CASE {' '.join(whens)} ELSE 'open' END", params, used)
