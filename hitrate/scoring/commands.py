"""The library face of ``hitrate score``: one function per command, the leads' source first and keyword
arguments named as the command's options.

The source is a store (or any Ibis backend with the canonical tables: its leads with account, rep, product and
activity features, under the definitions in force) or lead files (a path or a list of paths, read as
``hitrate import`` reads them, with ``preset``, ``mapping``, ``won`` and ``lost``)::

    from hitrate.scoring import score_train, score_evaluate, score_explain, score_predict

    score_train(store, model="leads.model", exclude=["Lead Quality"]).summary()
    score_evaluate(["new_leads.csv"], model="leads.model", preset="salesforce").plot()
    score_predict(store, model="leads.model", out="scores.csv")

Each returns a result object (``summary()``, ``to_frame()``, ``to_dict()``, ``plot()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from hitrate.errors import InvalidValueError
from hitrate.i18n import Joined, Param
from hitrate.scoring.training import ReadOptions

if TYPE_CHECKING:
    from hitrate._progress import Progress
    from hitrate.scoring.results import EvaluationResult, ExplanationResult, ScoresResult, TrainResult
    from hitrate.scoring.training import LeadFrame
    from hitrate.spec.model import Definitions


class LeadOptions(ReadOptions, total=False):
    """Where the leads come from besides their source: how files are read (:class:`ReadOptions`) and the
    ``definitions`` they count under (a :class:`~hitrate.spec.model.Definitions` or a definitions file)."""

    definitions: Definitions | str | Path | None


def _files(source: Any) -> list[Path] | None:
    """The lead files ``source`` names (a path or a list of paths), or None for a store."""
    if isinstance(source, str | PathLike):
        return [Path(source)]
    if isinstance(source, list | tuple) and all(isinstance(s, str | PathLike) for s in source):
        return [Path(s) for s in source]
    return None


def leads_of(
    source: Any, *, definitions: Definitions | str | Path | None = None, **options: Unpack[ReadOptions]
) -> tuple[LeadFrame, Definitions]:
    """The leads to score and the definitions they count under.

    Files (a path or a list of paths) are read as ``hitrate import`` reads them (``preset``, ``mapping``,
    ``won``, ``lost``, ``date_format``, ``decimal``), under ``definitions`` (default the built-in ones). A store
    gives its leads under ``definitions`` or, by default, the definitions in force; the reading options apply
    to files only.
    """
    from hitrate.spec.model import default_definitions, load_definitions

    defs = load_definitions(Path(definitions)) if isinstance(definitions, str | PathLike) else definitions
    files = _files(source)
    if files is not None:
        from hitrate.scoring.training import read_leads

        return read_leads(files, **options), defs or default_definitions()
    used = [name for name, value in options.items() if value]
    if used:
        raise InvalidValueError(
            "scoring.file_options_without_files", parameter=used[0], options=Joined([Param(u) for u in used])
        )
    from hitrate.scoring.store_leads import read_store_leads
    from hitrate.store.embedded import Store

    if defs is None and isinstance(source, Store):
        from hitrate.engine.definitions import definitions_in_force

        defs = definitions_in_force(source)
    in_force: Definitions = defs or default_definitions()
    return read_store_leads(source, in_force), in_force


def score_train(
    source: Any,
    *,
    model: str | Path,
    exclude: Sequence[str] = (),
    allow: Sequence[str] = (),
    strict: bool = False,
    progress: Progress | None = None,
    **options: Unpack[LeadOptions],
) -> TrainResult:
    """Train a lead-scoring model on ``source``'s decided leads and save it to ``model``: the leakage guard
    (``exclude`` columns never used, ``allow`` columns kept despite it, the definitions' post-outcome columns
    excluded), gradient boosting with calibration, the baselines and an honest held-out split
    (:func:`hitrate.scoring.training.train`). A model that does not beat the better baseline is reported in
    the result's ``checks``; ``strict`` refuses it (no model file); ``progress(done, total)`` is told after each
    step of the training (:mod:`hitrate._progress`). ``options``: see :func:`leads_of`."""
    from hitrate.scoring.training import train

    leads, defs = leads_of(source, **options)
    post = [c for c in defs.post_outcome if c in leads.features.columns]
    return train(
        leads, model, exclude=exclude, allow=allow, post_outcome=post, definitions_hash=defs.hash, strict=strict,
        progress=progress,
    )  # fmt: skip


def score_evaluate(source: Any, *, model: str | Path, **options: Unpack[LeadOptions]) -> EvaluationResult:
    """Evaluate the saved ``model`` on ``source``'s decided leads: AUC, Brier, log loss, calibration, lift by
    decile and the hit rate of the top k% (:func:`hitrate.scoring.training.evaluate_model`). ``options``: see
    :func:`leads_of`."""
    from hitrate.scoring.training import evaluate_model

    return evaluate_model(leads_of(source, **options)[0], model)


def score_explain(source: Any, *, model: str | Path, top: int = 3, **options: Unpack[LeadOptions]) -> ExplanationResult:
    """Why each of ``source``'s leads scores as it does: its ``top`` factors up and down, and the model's
    global importance (:func:`hitrate.scoring.training.explain`). ``options``: see :func:`leads_of`."""
    from hitrate.scoring.training import explain

    return explain(leads_of(source, **options)[0], model, top=top)


def score_predict(
    source: Any,
    *,
    model: str | Path,
    out: str | Path | None = None,
    store: Any = None,
    top: int = 3,
    **options: Unpack[LeadOptions],
) -> ScoresResult:
    """Score every lead of ``source`` (open or decided) with the saved ``model``: id, probability, band (A-D)
    and the top reasons. The scores are written to ``out`` (``.csv``, ``.json`` or ``.parquet``) when given,
    and kept in ``store``'s ``lead_scores`` table for the dashboard (default: ``source`` when it is the
    embedded store). ``options``: see :func:`leads_of`."""
    from hitrate.scoring.results import ScoresResult
    from hitrate.scoring.training import predict, save_scores
    from hitrate.store.embedded import Store

    result = ScoresResult(predict(leads_of(source, **options)[0], model, top=top), str(model))
    if out is not None:
        result.write(out)
        result.out = str(out)
    keeper = store if store is not None else source if isinstance(source, Store) else None
    if keeper is not None:
        result.kept = save_scores(keeper, result.scores, model)
    return result
