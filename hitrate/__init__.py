"""hitrate: measure and raise hit rate, the share of attempts that end in a closed sale.

The public API is listed in ``__all__`` and loaded lazily, so ``import hitrate`` is cheap::

    import hitrate
    store = hitrate.Store("hitrate.duckdb")
    hitrate.import_files(store, ["sales_pipeline.csv"], preset="maven")
    result = hitrate.rates(store, by=["rep"], period="month")
    print(result.summary())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hitrate._version import __version__

_EXPORTS: dict[str, str] = {
    "Store": "hitrate.store.embedded",
    "import_files": "hitrate.ingest",
    "ImportReport": "hitrate.ingest",
    "FileReport": "hitrate.ingest",
    "preset_names": "hitrate.ingest",
    "rates": "hitrate.analysis.rates",
    "benchmark": "hitrate.analysis.benchmark",
    "BenchmarkResult": "hitrate.analysis.benchmark",
    "trend": "hitrate.analysis.trend",
    "TrendResult": "hitrate.analysis.trend",
    "compare": "hitrate.analysis.compare",
    "ComparisonResult": "hitrate.analysis.compare",
    "RatesResult": "hitrate.analysis.results",
    "Definitions": "hitrate.spec.model",
    "Condition": "hitrate.spec.model",
    "default_definitions": "hitrate.spec.model",
    "load_definitions": "hitrate.spec.model",
    "parse_definitions": "hitrate.spec.model",
    "use_definitions": "hitrate.engine.definitions",
    "definitions_in_force": "hitrate.engine.definitions",
    "definitions_history": "hitrate.engine.definitions",
    "wilson_interval": "hitrate.stats",
    "generate": "hitrate.synth.generator",
    "SynthData": "hitrate.synth.generator",
    "SynthTruth": "hitrate.synth.generator",
    "build_demo": "hitrate.synth.demo",
    "write_store_report": "hitrate.analysis.report",
    "HitrateError": "hitrate.errors",
    "UserInputError": "hitrate.errors",
    "DefinitionsError": "hitrate.errors",
    "InputFileError": "hitrate.errors",
    "AmbiguousDateFormatError": "hitrate.errors",
    "UnknownFieldError": "hitrate.errors",
    "StrictImportError": "hitrate.errors",
    "StoreError": "hitrate.errors",
    "HitrateWarning": "hitrate.errors",
    "SmallSampleWarning": "hitrate.errors",
    "ValueRateWarning": "hitrate.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from hitrate.analysis.benchmark import BenchmarkResult, benchmark
    from hitrate.analysis.compare import ComparisonResult, compare
    from hitrate.analysis.rates import rates
    from hitrate.analysis.report import write_store_report
    from hitrate.analysis.results import RatesResult
    from hitrate.analysis.trend import TrendResult, trend
    from hitrate.engine.definitions import definitions_history, definitions_in_force, use_definitions
    from hitrate.errors import (
        AmbiguousDateFormatError,
        DefinitionsError,
        HitrateError,
        HitrateWarning,
        InputFileError,
        SmallSampleWarning,
        StoreError,
        StrictImportError,
        UnknownFieldError,
        UserInputError,
        ValueRateWarning,
    )
    from hitrate.ingest import FileReport, ImportReport, import_files, preset_names
    from hitrate.spec.model import Condition, Definitions, default_definitions, load_definitions, parse_definitions
    from hitrate.stats import wilson_interval
    from hitrate.store.embedded import Store
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
