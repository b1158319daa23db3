"""Shared fixtures: stores, the Maven sample, a fixed random seed."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

from hitrate.ingest import import_files
from hitrate.store.embedded import Store

#: Hypothesis profiles. "ci" (loaded when CI or HITRATE_REQUIRE_ALL is set, or by HYPOTHESIS_PROFILE=ci): the
#: same examples on every run (derandomised, no example database), at most 50 per test unless a test asks for
#: more with its own ``@settings``, no deadline (a shared runner's timing is not a property). "dev": random
#: examples as usual, the same bound. A failure prints the reproduce blob.
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # a minimal install without the dev extras
    pass
else:
    _hypothesis_settings.register_profile(
        "ci", derandomize=True, database=None, max_examples=50, deadline=None, print_blob=True
    )
    _hypothesis_settings.register_profile("dev", max_examples=50, deadline=None, print_blob=True)
    _in_ci = os.environ.get("CI") or os.environ.get("HITRATE_REQUIRE_ALL")
    _hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci else "dev"))

ROOT = Path(__file__).resolve().parents[1]
#: The shared real data (../shared/data beside the clone; HITRATE_SHARED_DATA names another folder). A clone
#: without it skips the tests that read it, naming the folder (they fail under HITRATE_REQUIRE_ALL, as in CI).
DATA = Path(os.environ.get("HITRATE_SHARED_DATA") or ROOT.parent / "shared" / "data")
MAVEN = DATA / "crm_sales_opportunities_maven"
MAVEN_FILES = [MAVEN / f for f in ("sales_pipeline.csv", "sales_teams.csv", "accounts.csv", "products.csv")]


def require(reason: str) -> NoReturn:
    """Skip, unless HITRATE_REQUIRE_ALL is set (as in CI): then fail. Works in a test and at module level."""
    if os.environ.get("HITRATE_REQUIRE_ALL"):
        pytest.fail(f"HITRATE_REQUIRE_ALL is set but: {reason}")
    pytest.skip(reason, allow_module_level=True)


def require_module(name: str) -> ModuleType:
    """Import the optional dependency ``name``; without it skip, or fail under HITRATE_REQUIRE_ALL (as in CI).

    Use it instead of ``pytest.importorskip``, which skips quietly even in CI."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        require(f"the optional dependency {name!r} is not installed ({exc})")


@pytest.fixture
def maven_dir() -> Path:
    if not MAVEN.exists():
        require(f"the shared data folder {MAVEN} is missing")
    return MAVEN


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store.duckdb")
    yield s
    s.close()


@pytest.fixture(scope="session")
def small_demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store of 2,500 opportunities (``hitrate demo``'s generator, seed 4), built once per session: for
    tests that only read it."""
    from hitrate.synth.demo import build_demo

    path = tmp_path_factory.mktemp("small-demo") / "demo.duckdb"
    with Store(path) as s:
        build_demo(s, n_opportunities=2500, seed=4, force=True)
    return path


@pytest.fixture(scope="session")
def _maven_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not MAVEN.exists():
        require(f"the shared data folder {MAVEN} is missing")
    path = tmp_path_factory.mktemp("maven") / "maven.duckdb"
    with Store(path) as s:
        import_files(s, MAVEN_FILES, preset="maven")
    return path


@pytest.fixture
def maven_store(_maven_store_file: Path, tmp_path: Path) -> Store:
    """A fresh copy of a store with the four Maven files imported with the maven preset."""
    path = tmp_path / "maven.duckdb"
    shutil.copy(_maven_store_file, path)
    s = Store(path)
    yield s
    s.close()


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(20261126)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory):
    """A PostgreSQL server of its own (data dir under this session's temp dir), stopped at the end."""
    from tests import pg_server as pgs

    with pgs.running(tmp_path_factory.mktemp("postgres")) as server:
        yield server
