"""Definitions are data: what counts as an opportunity, a win, a loss, which denominator and basis.

A definitions file is YAML, validated into :class:`Definitions`. Conditions are
structured (``field``, ``op``, ``value``/``values``) and compiled to engine
expressions by :mod:`hitrate.engine`; they are never formatted into SQL text.

The *hash* is a SHA-256 over the canonical JSON of the effective definitions
(``period_date`` resolved, command-line overrides applied; ``name`` and
``description`` left out because they do not change any number). Every result
names it, so two numbers are compared only when they were defined the same way.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hitrate.errors import DefinitionsError, UserInputError
from hitrate.i18n import Joined, Message, Param

Op = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "is_null", "not_null"]
Scalar = str | int | float | bool

OPS: tuple[str, ...] = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "is_null", "not_null")
DENOMINATORS = (
    "leads",
    "inquiries",
    "meetings",
    "opportunities",
    "qualified_opportunities",
    "sessions",
    "bets",
    "spins",
)
#: Denominators of a sales process: attempts that reps work, open until they are decided (cohorts, forecasts
#: and rep benchmarks apply). The others (sessions, bets, spins) are decided as they happen and have no reps.
SALES_DENOMINATORS = ("leads", "inquiries", "meetings", "opportunities", "qualified_opportunities")
BASES = ("closed", "cohort")

_VALUE_OPS = {"eq", "ne", "gt", "gte", "lt", "lte"}
_LIST_OPS = {"in", "not_in"}


class DefinitionsShapeError(UserInputError, ValueError):
    """A condition or key of the wrong shape, found while validating; :func:`validate_definitions` reports it
    inside a :class:`~hitrate.errors.DefinitionsError` with the key it was found at."""


class Condition(BaseModel):
    """One structured condition: ``{field, op, value}``, ``{field, op, values}`` or ``{any: [...]}``.

    ``any`` holds if at least one of its conditions holds; a list of conditions holds if all hold.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str | None = None
    op: Op = "eq"
    value: Scalar | None = None
    values: list[Scalar] | None = None
    any: list[Condition] | None = None

    @model_validator(mode="after")
    def _check_shape(self) -> Condition:
        if self.any is not None:
            if self.field is not None or self.value is not None or self.values is not None:
                raise DefinitionsShapeError("spec.any_alone")
            if not self.any:
                raise DefinitionsShapeError("spec.any_empty")
            return self
        if self.field is None:
            raise DefinitionsShapeError("spec.needs_field")
        if self.op in _VALUE_OPS and (self.value is None or self.values is not None):
            raise DefinitionsShapeError("spec.op_takes_value", op=self.op)
        if self.op in _LIST_OPS and (not self.values or self.value is not None):
            raise DefinitionsShapeError("spec.op_takes_values", op=self.op)
        if self.op in {"is_null", "not_null"} and (self.value is not None or self.values is not None):
            raise DefinitionsShapeError("spec.op_takes_nothing", op=self.op)
        return self

    def fields(self) -> set[str]:
        """Every field this condition reads."""
        if self.any is not None:
            return set().union(*(c.fields() for c in self.any))
        return {self.field} if self.field else set()


class Definitions(BaseModel):
    """The versioned definitions every result is computed under.

    Attributes
    ----------
    denominator:
        What one attempt is: leads, inquiries, meetings, opportunities, qualified_opportunities...
    opportunity:
        Conditions a row must meet to count at all (all must hold; empty = every row).
    won, lost:
        Conditions that make a counted row a win / a loss (a row that is both counts as won).
    basis:
        ``closed``: hits / (won + lost). ``cohort``: hits / all created in the period, open included.
    period_date:
        The date that puts a row in a period; default ``closed_at`` (closed basis) or ``created_at`` (cohort).
    post_outcome:
        Source columns filled in only after the outcome (e.g. ``Tags``, ``Lead Quality``): lead scoring never
        uses them as features.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    description: str = ""
    denominator: str = "opportunities"
    opportunity: list[Condition] = Field(default_factory=list)
    won: list[Condition] = Field(default_factory=lambda: [Condition(field="outcome", op="eq", value="won")])
    lost: list[Condition] = Field(default_factory=lambda: [Condition(field="outcome", op="eq", value="lost")])
    basis: Literal["closed", "cohort"] = "closed"
    period_date: str | None = None
    post_outcome: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Definitions:
        if self.denominator not in DENOMINATORS:
            raise DefinitionsShapeError("spec.denominator_choice", options=Joined(DENOMINATORS), got=self.denominator)
        if not self.won or not self.lost:
            raise DefinitionsShapeError("spec.won_lost_empty")
        return self

    # -- effective form and hash --------------------------------------------------------------
    @property
    def sales(self) -> bool:
        """Whether the attempts are a sales process's (:data:`SALES_DENOMINATORS`): worked by reps and open until
        decided, so rep benchmarks, cohorts by age and forecasts of open deals apply."""
        return self.denominator in SALES_DENOMINATORS

    @property
    def effective_period_date(self) -> str:
        """``period_date`` resolved against the basis."""
        return self.period_date or ("closed_at" if self.basis == "closed" else "created_at")

    def effective(self) -> dict[str, Any]:
        """The semantic content, as hashed: period date resolved, name and description left out."""
        body = self.model_dump(mode="json", exclude={"name", "description"}, exclude_none=True)
        body["period_date"] = self.effective_period_date
        if not body.get("post_outcome"):
            body.pop("post_outcome", None)  # absent and empty mean the same, and hash the same
        return body

    @property
    def hash(self) -> str:
        """Content hash (first 12 hex digits of SHA-256 over the canonical JSON of :meth:`effective`)."""
        text = json.dumps(self.effective(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def with_overrides(self, *, basis: str | None = None) -> Definitions:
        """A copy with command-line overrides applied (the hash changes with them)."""
        if basis is None or basis == self.basis:
            return self
        if basis not in BASES:
            problem = Message("spec.basis_choice", options=Joined(BASES), got=basis)
            raise DefinitionsError(Param("basis"), [("basis", problem)])
        return self.model_copy(update={"basis": basis})

    def fields(self) -> set[str]:
        """Every data field the conditions read."""
        out: set[str] = {self.effective_period_date}
        for cond in [*self.opportunity, *self.won, *self.lost]:
            out |= cond.fields()
        return out

    def to_yaml(self) -> str:
        """The definitions as a YAML document (what ``definitions show`` prints)."""
        import yaml

        body = self.model_dump(mode="json", exclude_none=True)
        return yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


DEFAULT_YAML = """\
# hitrate definitions: what counts, and how a hit rate is computed.
# Validate with `hitrate definitions check FILE`; use with `--definitions FILE`.
name: default
description: Closed-basis hit rate of every opportunity; won/lost as classified at import.

# What one attempt is: leads, inquiries, meetings, opportunities, qualified_opportunities,
# sessions, bets or spins. It names the denominator in every result.
denominator: opportunities

# Conditions a row must meet to count at all (all must hold). Operators:
# eq, ne, in, not_in, gt, gte, lt, lte, is_null, not_null; {any: [...]} holds if one holds.
opportunity: []
#  - {field: stage, op: not_in, values: [Duplicate, Spam]}

# What makes a counted row a win, and a loss. `outcome` is set at import from --won/--lost.
won:
  - {field: outcome, op: eq, value: won}
lost:
  - {field: outcome, op: eq, value: lost}

# closed: won / (won + lost).  cohort: won / all created in the period, open deals included.
basis: closed

# Which date puts a row in a period (default: closed_at on the closed basis, created_at on cohort).
# period_date: closed_at

# Source columns filled in only after the outcome: lead scoring never uses them as features.
# post_outcome: [Tags, Lead Quality]
"""


@functools.cache
def default_definitions() -> Definitions:
    """The built-in definitions that apply until a file is given (the content of :data:`DEFAULT_YAML`)."""
    return Definitions(description="Closed-basis hit rate of every opportunity; won/lost as classified at import.")


def validate_definitions(data: Any, *, source: str) -> Definitions:
    """Validate already-parsed definitions (a mapping); every problem is named with its key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DefinitionsError(source, [("", Message("spec.not_a_mapping"))])
    try:
        return Definitions.model_validate(data)
    except ValidationError as exc:
        problems = [(".".join(str(p) for p in err["loc"]), _problem(err)) for err in exc.errors()]
        raise DefinitionsError(source, problems) from None


def _problem(err: Any) -> str | Message:
    """What pydantic found, as our message where we raised it (or know its kind), else pydantic's words."""
    found = (err.get("ctx") or {}).get("error")
    if isinstance(found, DefinitionsShapeError):
        return found.message
    if err["type"] == "extra_forbidden":
        return Message("spec.unknown_key")
    return str(err["msg"]).removeprefix("Value error, ")


def parse_definitions(text: str, *, source: str) -> Definitions:
    """Validate YAML text into :class:`Definitions`; every problem is named with its key."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", exc))
        if mark is None:
            raise DefinitionsError(source, [("", Message("spec.not_yaml", problem=problem))]) from None
        found = Message("spec.not_yaml_at", line=mark.line + 1, column=mark.column + 1, problem=problem)
        raise DefinitionsError(source, [("", found)]) from None
    return validate_definitions(data, source=source)


def load_definitions(path: str | Path) -> Definitions:
    """Read and validate a definitions file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionsError(str(p), [("", Message("spec.unreadable", reason=exc.strerror))]) from None
    return parse_definitions(text, source=str(p))
