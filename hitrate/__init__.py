"""hitrate: measure and raise hit rate, the share of attempts that end in a closed sale.

The library face: every analysis the command line has, one calling convention. The data comes first (a
:class:`Store`, or any Ibis backend holding the canonical tables; a file where the command takes a file),
then keyword arguments named as the command's options (``by``, ``period``, ``where``, ``date_from`` for
``--from``...). Every call returns a result object with ``summary()``, ``to_frame()``, ``to_dict()``,
``plot()`` and a notebook view (``_repr_html_``); see docs/library.md::

    import hitrate
    store = hitrate.Store("hitrate.duckdb")
    hitrate.import_files(store, ["sales_pipeline.csv"], preset="maven")
    result = hitrate.rates(store, by=["rep"], period="month")
    print(result.summary())
    hitrate.coach(store, "Moses Frase").plot()

The names in ``__all__`` load on first use, so ``import hitrate`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hitrate._version import __version__

_EXPORTS: dict[str, str] = {
    "Store": "hitrate.store.embedded",
    "connect": "hitrate.store.backends",
    "import_files": "hitrate.ingest",
    "ImportReport": "hitrate.ingest",
    "FileReport": "hitrate.ingest",
    "preset_names": "hitrate.ingest",
    "build_demo": "hitrate.synth.demo",
    "generate": "hitrate.synth.generator",
    "SynthData": "hitrate.synth.generator",
    "SynthTruth": "hitrate.synth.generator",
    "Definitions": "hitrate.spec.model",
    "Condition": "hitrate.spec.model",
    "default_definitions": "hitrate.spec.model",
    "load_definitions": "hitrate.spec.model",
    "parse_definitions": "hitrate.spec.model",
    "use_definitions": "hitrate.engine.definitions",
    "definitions_in_force": "hitrate.engine.definitions",
    "definitions_history": "hitrate.engine.definitions",
    "rates": "hitrate.analysis.rates",
    "RatesResult": "hitrate.analysis.results",
    "benchmark": "hitrate.analysis.benchmark",
    "BenchmarkResult": "hitrate.analysis.benchmark",
    "trend": "hitrate.analysis.trend",
    "TrendResult": "hitrate.analysis.trend",
    "compare": "hitrate.analysis.compare",
    "ComparisonResult": "hitrate.analysis.compare",
    "funnel": "hitrate.analysis.funnel",
    "StageFunnel": "hitrate.analysis.funnel",
    "ramp": "hitrate.analysis.ramp",
    "RampResult": "hitrate.analysis.ramp",
    "worth": "hitrate.analysis.worth",
    "forecast": "hitrate.improve.forecast",
    "ForecastResult": "hitrate.improve.forecast",
    "forecast_backtest": "hitrate.improve.backtest",
    "BacktestResult": "hitrate.improve.backtest",
    "WorthResult": "hitrate.analysis.worth",
    "write_store_report": "hitrate.store_report",
    "doctor": "hitrate.analysis.doctor",
    "DoctorResult": "hitrate.analysis.doctor_result",
    "coach": "hitrate.improve.coach",
    "RepCard": "hitrate.improve.coach",
    "stage_gaps": "hitrate.improve.coach",
    "StageGaps": "hitrate.improve.coach",
    "set_goal": "hitrate.improve.goals",
    "list_goals": "hitrate.improve.goals",
    "goals_progress": "hitrate.improve.goals",
    "GoalsProgress": "hitrate.improve.goals",
    "add_intervention": "hitrate.improve.interventions",
    "list_interventions": "hitrate.improve.interventions",
    "intervention_effect": "hitrate.improve.interventions",
    "EffectResult": "hitrate.improve.interventions",
    "add_feedback": "hitrate.improve.feedback",
    "list_feedback": "hitrate.improve.feedback",
    "reasons": "hitrate.improve.feedback",
    "ReasonsResult": "hitrate.improve.feedback",
    "outreach": "hitrate.improve.outreach",
    "experiment_plan": "hitrate.improve.experiments",
    "experiment_compare": "hitrate.improve.experiments",
    "ExperimentPlan": "hitrate.improve.experiments",
    "ExperimentResult": "hitrate.improve.experiments",
    "score_train": "hitrate.scoring.commands",
    "score_evaluate": "hitrate.scoring.commands",
    "score_explain": "hitrate.scoring.commands",
    "score_predict": "hitrate.scoring.commands",
    "sync": "hitrate.sync.run",
    "SyncReport": "hitrate.sync.report",
    "bets": "hitrate.domains.betting",
    "BetsResult": "hitrate.domains.betting",
    "slots_par": "hitrate.domains.slots",
    "slots_reels": "hitrate.domains.slots",
    "slots_spins": "hitrate.domains.slots",
    "SlotStats": "hitrate.domains.slots",
    "Result": "hitrate.report.result",
    "wilson_interval": "hitrate.stats",
    "HitrateError": "hitrate.errors",
    "UserInputError": "hitrate.errors",
    "InvalidParameterError": "hitrate.errors",
    "InvalidValueError": "hitrate.errors",
    "DefinitionsError": "hitrate.errors",
    "InputFileError": "hitrate.errors",
    "AmbiguousDateFormatError": "hitrate.errors",
    "UnknownFieldError": "hitrate.errors",
    "NotFoundError": "hitrate.errors",
    "StrictImportError": "hitrate.errors",
    "PermissionDeniedError": "hitrate.errors",
    "MissingDependencyError": "hitrate.errors",
    "StoreError": "hitrate.errors",
    "SyncError": "hitrate.errors",
    "HitrateWarning": "hitrate.errors",
    "SmallSampleWarning": "hitrate.errors",
    "ValueRateWarning": "hitrate.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from hitrate.analysis.benchmark import BenchmarkResult, benchmark
    from hitrate.analysis.compare import ComparisonResult, compare
    from hitrate.analysis.doctor import doctor
    from hitrate.analysis.doctor_result import DoctorResult
    from hitrate.analysis.funnel import StageFunnel, funnel
    from hitrate.analysis.ramp import RampResult, ramp
    from hitrate.analysis.rates import rates
    from hitrate.analysis.results import RatesResult
    from hitrate.analysis.trend import TrendResult, trend
    from hitrate.analysis.worth import WorthResult, worth
    from hitrate.domains.betting import BetsResult, bets
    from hitrate.domains.slots import SlotStats, slots_par, slots_reels, slots_spins
    from hitrate.engine.definitions import definitions_history, definitions_in_force, use_definitions
    from hitrate.errors import (
        AmbiguousDateFormatError,
        DefinitionsError,
        HitrateError,
        HitrateWarning,
        InputFileError,
        InvalidParameterError,
        InvalidValueError,
        MissingDependencyError,
        NotFoundError,
        PermissionDeniedError,
        SmallSampleWarning,
        StoreError,
        StrictImportError,
        SyncError,
        UnknownFieldError,
        UserInputError,
        ValueRateWarning,
    )
    from hitrate.improve.backtest import BacktestResult, forecast_backtest
    from hitrate.improve.coach import RepCard, StageGaps, coach, stage_gaps
    from hitrate.improve.experiments import ExperimentPlan, ExperimentResult, experiment_compare, experiment_plan
    from hitrate.improve.feedback import ReasonsResult, add_feedback, list_feedback, reasons
    from hitrate.improve.forecast import ForecastResult, forecast
    from hitrate.improve.goals import GoalsProgress, goals_progress, list_goals, set_goal
    from hitrate.improve.interventions import EffectResult, add_intervention, intervention_effect, list_interventions
    from hitrate.improve.outreach import outreach
    from hitrate.ingest import FileReport, ImportReport, import_files, preset_names
    from hitrate.report.result import Result
    from hitrate.scoring.commands import score_evaluate, score_explain, score_predict, score_train
    from hitrate.spec.model import Condition, Definitions, default_definitions, load_definitions, parse_definitions
    from hitrate.stats import wilson_interval
    from hitrate.store.backends import connect
    from hitrate.store.embedded import Store
    from hitrate.store_report import write_store_report
    from hitrate.sync.report import SyncReport
    from hitrate.sync.run import sync
    from hitrate.synth.demo import build_demo
    from hitrate.synth.generator import SynthData, SynthTruth, generate


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hitrate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
