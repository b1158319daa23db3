"""What the lead-scoring commands return: result objects with ``summary()``, ``to_frame()``, ``to_dict()``,
``_repr_html_()`` and ``plot()``.

* :class:`TrainResult` (``score train``): the leakage report, held-out metrics against the baselines, the
  calibration chosen and the saved model; drawn as the held-out calibration curve.
* :class:`EvaluationResult` (``score evaluate``, :func:`hitrate.scoring.evaluate`): AUC, Brier, log loss,
  calibration, lift by decile and the top-k hit rates; drawn as the hit rate by decile against the base rate.
* :class:`ExplanationResult` (``score explain``): each lead's top factors up and down and the model's global
  importance; drawn as the importance bars.
* :class:`ScoresResult` (``score predict``): one row per lead (id, probability, band, reasons); drawn as the
  leads per band.

The evaluation and the explanation are also the ``dict`` their JSON prints (``result["auc"]``), as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitrate.errors import InvalidValueError
from hitrate.i18n import DEFAULT_LANG, Message
from hitrate.report.result import Result, clean, english, english_fields, json_ready

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from hitrate.report.workbook import DataTable

#: The work-first bands of a calibrated probability, best first: (lowest probability, band).
BANDS = ((0.75, "A"), (0.5, "B"), (0.25, "C"), (0.0, "D"))
METRICS = ("auc", "brier", "log_loss")


def _metrics_line(key: str, metrics: Any, **params: Any) -> Message:
    return Message(key, auc=metrics["auc"], brier=metrics["brier"], log_loss=metrics["log_loss"], **params)


@dataclass
class TrainResult(Result):
    """What ``score train`` reports: the leakage report (``excluded``, ``warnings``: feature and reason), the
    held-out ``metrics`` (an :class:`EvaluationResult`), the ``baselines``' AUC, Brier and log loss, the
    ``split``, the ``calibration`` chosen, the permutation ``importance`` and the saved ``model`` file."""

    excluded: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    metrics: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    split: dict[str, Any]
    calibration: dict[str, Any]
    importance: dict[str, float] = field(default_factory=dict)
    model: str = ""
    #: Whether the model's held-out AUC beats every baseline's (None: nothing to compare).
    beats_baseline: bool | None = None
    #: What the baseline check found (a model no better than a baseline, too few leads, constant features).
    checks: list[Message] = field(default_factory=list)

    @property
    def model_path(self) -> str:
        """The saved model file (the name of :attr:`model` before results had one face)."""
        return self.model

    def to_dict(self) -> dict[str, Any]:
        """The fields, JSON-ready, reasons and warnings in English."""
        return {name: json_ready(value) for name, value in english_fields(self).items()}

    def to_frame(self) -> pd.DataFrame:
        """Held-out AUC, Brier and log loss of the model, then of each baseline."""
        import pandas as pd

        rows = [{"model": "lead_scorer", **{k: self.metrics[k] for k in METRICS}}]
        rows += [{"model": name, **{k: b[k] for k in METRICS}} for name, b in self.baselines.items()]
        return pd.DataFrame(rows, columns=["model", *METRICS])

    def title(self) -> Message:
        return Message("scoring.train_title")

    def headline(self) -> Message:
        """``Held-out (time, 1,234 leads): AUC 0.912, Brier 0.105, log loss 0.330``."""
        method = Message(f"scoring.split_{self.split['method']}")
        return _metrics_line("scoring.held_out", self.metrics, method=method, test=self.split["test"])

    def notes(self) -> list[Message | str]:
        """The columns the leakage guard excluded and those it warns about, then the thin-data warnings."""
        out: list[Message | str] = [Message("scoring.excluded", **e) for e in self.excluded]
        out += [Message("scoring.warned", **w) for w in self.warnings]
        return out + list(self.metrics.get("warnings", [])) + list(self.checks)

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The held-out calibration curve: observed win rate against the mean predicted probability per bin."""
        from hitrate.scoring._charts import calibration_figure

        return calibration_figure(self.metrics["calibration"], title=self.title().render(lang), lang=lang)


class _MappingResult(dict[str, Any], Result):
    """A result that is also the ``dict`` its JSON prints."""

    def to_dict(self) -> dict[str, Any]:
        """The data, JSON-ready, sentences in English."""
        return {str(k): json_ready(v) for k, v in english(dict(self)).items()}


class EvaluationResult(_MappingResult):
    """Metrics of predicted probabilities against outcomes (see :func:`hitrate.scoring.evaluate`): ``n``,
    ``wins``, ``base_rate``, ``auc``, ``brier``, ``log_loss``, ``calibration``, ``deciles``, ``top``,
    ``warnings``; from a model file also ``leads`` and ``trained_metrics``."""

    def to_frame(self) -> pd.DataFrame:
        """One row per tenth of the leads by descending score: hits, hit rate, lift, cumulative gain."""
        import pandas as pd

        return pd.DataFrame(self["deciles"])

    def title(self) -> Message:
        return Message("scoring.evaluate_title")

    def headline(self) -> Message:
        """``1,234 decided leads: AUC 0.912, Brier 0.105, log loss 0.330``."""
        return _metrics_line("scoring.evaluated", self, leads=self.get("leads", self["n"]))

    def notes(self) -> list[Message | str]:
        return list(self.get("warnings", []))

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Hit rate by decile of the score (best first) against the base rate: the lift reps get."""
        from hitrate.scoring._charts import deciles_figure

        return deciles_figure(self["deciles"], self["base_rate"], title=self.title().render(lang), lang=lang)


class ExplanationResult(_MappingResult):
    """Why leads score as they do: ``importance`` (feature -> drop in held-out AUC when shuffled) and
    ``leads`` (per lead: ``id``, ``probability``, ``up`` and ``down``, each a list of ``feature``, ``value``,
    ``effect``)."""

    def to_frame(self) -> pd.DataFrame:
        """One row per lead: id, probability and the factors up and down as ``feature=value (+1.2%)``."""
        import pandas as pd

        def said(factors: list[dict[str, Any]]) -> str:
            return "; ".join(f"{f['feature']}={f['value']} ({f['effect']:+.1%})" for f in factors)

        rows = [
            {"id": r["id"], "probability": r["probability"], "up": said(r["up"]), "down": said(r["down"])}
            for r in self["leads"]
        ]
        return pd.DataFrame(rows, columns=["id", "probability", "up", "down"])

    def title(self) -> Message:
        return Message("scoring.explain_title")

    def headline(self) -> Message:
        """How many leads, and the factor that matters most overall."""
        if not self["importance"]:
            return Message("scoring.explained", leads=len(self["leads"]))
        feature, value = max(self["importance"].items(), key=lambda kv: kv[1])
        return Message("scoring.explained_top", leads=len(self["leads"]), feature=feature, importance=value)

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """The global importance of the features (the 15 largest), as bars."""
        from hitrate.scoring._charts import importance_figure

        return importance_figure(self["importance"], title=self.title().render(lang), lang=lang)


@dataclass(eq=False)
class ScoresResult(Result):
    """``score predict``: one row per lead in ``scores`` (``id``, ``probability``, ``band``, ``reasons_up``,
    ``reasons_down``), the ``model`` file, where the scores were written (``out``) and how many rows the
    store keeps (``kept``)."""

    scores: pd.DataFrame
    model: str
    out: str | None = None
    kept: int = 0

    def __len__(self) -> int:
        return len(self.scores)

    def to_frame(self) -> pd.DataFrame:
        return self.scores.copy()

    def tables(self) -> list[DataTable]:
        """One table: a row per lead, the probability as a percentage."""
        from hitrate.report.workbook import DataTable

        columns = tuple(str(c) for c in self.scores.columns)
        rows = [dict(zip(columns, row, strict=True)) for row in self.scores.itertuples(index=False, name=None)]
        return [DataTable("scores", columns, rows, frozenset({"probability"}).intersection(columns))]

    def to_dict(self) -> dict[str, Any]:
        """``{"model", "out", "kept", "scores": [...]}``, JSON-ready."""
        records = [{k: clean(v) for k, v in row.items()} for row in self.scores.to_dict(orient="records")]
        return {"model": self.model, "out": self.out, "kept": self.kept, "scores": records}

    def bands(self) -> dict[str, int]:
        """Leads per band, A to D."""
        counts = self.scores["band"].value_counts()
        return {band: int(counts.get(band, 0)) for _, band in BANDS}

    def title(self) -> Message:
        return Message("scoring.scores_title")

    def headline(self) -> Message:
        """``1,234 leads scored: 120 in band A, 300 in B, 500 in C, 314 in D``."""
        return Message("scoring.scored", leads=len(self), **{k.lower(): v for k, v in self.bands().items()})

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Leads per band (A: probability 75% or more ... D: below 25%)."""
        from hitrate.scoring._charts import bands_figure

        return bands_figure(self.bands(), title=self.title().render(lang), lang=lang)

    def write(self, path: str | Path) -> None:
        """Write the scores to ``path``: ``.csv``, ``.json`` (records) or ``.parquet``, by its suffix (see
        :func:`write_scores`)."""
        write_scores(self.scores, path)


def write_scores(scores: pd.DataFrame, path: str | Path, kind: str | None = None) -> None:
    """Write scores to ``path`` as ``kind`` (``csv``, ``json``, ``parquet`` or ``xlsx``; default: by the path's
    suffix): ``.csv`` with every text cell a spreadsheet would run made safe (:mod:`hitrate.report.safe_cells`:
    an id ``=HYPERLINK(...)`` is written ``'=HYPERLINK(...)``), ``.json`` (records) or ``.parquet`` (``.pq``) as
    they are, ``.xlsx`` as a workbook (:mod:`hitrate.report.workbook`, made safe as CSV is). Another suffix raises
    :class:`InvalidValueError` (``out``)."""
    suffix = f".{kind}" if kind else Path(path).suffix.lower()
    if suffix == ".csv":
        from hitrate.report.safe_cells import safe_frame

        safe_frame(scores).to_csv(path, index=False)
    elif suffix == ".json":
        scores.to_json(path, orient="records", force_ascii=False)
    elif suffix in (".parquet", ".pq"):
        scores.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        from hitrate.report.workbook import WorkbookNotes, write_workbook

        write_workbook(ScoresResult(scores, "").tables(), WorkbookNotes(), path)
    else:
        raise InvalidValueError("scoring.expected_scores_file", parameter="out", got=str(path))
