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

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Store": "hitrate.store",
    "import_files": "hitrate.ingest",
    "ImportReport": "hitrate.ingest",
    "FileReport": "hitrate.ingest",
    "preset_names": "hitrate.ingest",
    "rates": "hitrate.rates",
    "benchmark": "hitrate.benchmarking",
    "BenchmarkResult": "hitrate.benchmarking",
    "trend": "hitrate.trend",
    "TrendResult": "hitrate.trend",
    "compare": "hitrate.comparison",
    "ComparisonResult": "hitrate.comparison",
    "RatesResult": "hitrate.results",
    "Definitions": "hitrate.spec",
    "Condition": "hitrate.spec",
    "default_definitions": "hitrate.spec",
    "load_definitions": "hitrate.spec",
    "parse_definitions": "hitrate.spec",
    "use_definitions": "hitrate.definitions",
    "definitions_in_force": "hitrate.definitions",
    "definitions_history": "hitrate.definitions",
    "wilson_interval": "hitrate.stats",
    "generate": "hitrate.synth",
    "SynthData": "hitrate.synth",
    "SynthTruth": "hitrate.synth",
    "build_demo": "hitrate.demo",
    "write_store_report": "hitrate.report_builder",
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
    from .benchmarking import BenchmarkResult, benchmark
    from .comparison import ComparisonResult, compare
    from .definitions import definitions_history, definitions_in_force, use_definitions
    from .demo import build_demo
    from .errors import (
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
    from .ingest import FileReport, ImportReport, import_files, preset_names
    from .rates import rates
    from .report_builder import write_store_report
    from .results import RatesResult
    from .spec import Condition, Definitions, default_definitions, load_definitions, parse_definitions
    from .stats import wilson_interval
    from .store import Store
    from .synth import SynthData, SynthTruth, generate
    from .trend import TrendResult, trend


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hitrate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
