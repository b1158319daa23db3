"""The store: layout, bookkeeping, the compiled-query cache, a clean stdout."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hitrate.store.embedded import SCHEMA_VERSION, Store, token


def test_new_store_has_every_table_and_reopens_without_ddl(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        names = set(s.list_tables())
        assert {
            "opportunities",
            "reps",
            "accounts",
            "products",
            "stage_history",
            "activities",
            "quarantine",
            "import_batches",
            "definitions",
            "definitions_history",
            "compiled_queries",
        } <= names
        assert s.meta("schema_version") == SCHEMA_VERSION
    with Store(path) as s:
        assert s._layout_is_current()


def test_progress_bar_is_off_so_stdout_stays_clean(store):
    assert store.fetch("SELECT current_setting('enable_progress_bar')") == [(False,)]


def test_token_refuses_anything_but_hitrate_tokens():
    assert token("abc_123.x") == "'abc_123.x'"
    for bad in ("a'b", "x; DROP TABLE t", "", "a b"):
        with pytest.raises(ValueError):
            token(bad)


def test_schema_change_bumps_version_and_empties_compiled_queries(store):
    store.remember("k", "{}")
    before = store.schema_version()
    store.add_text_columns("opportunities", ["colour"])
    assert store.schema_version() != before
    assert store.compiled("k") is None
    assert store.count("compiled_queries") == 0
    store.add_text_columns("opportunities", ["colour"])  # nothing new: nothing changes
    assert store.schema_version() == str(int(before) + 1)


def test_a_repeated_query_in_a_new_process_needs_neither_ibis_nor_pandas(tmp_path):
    path = tmp_path / "p.duckdb"
    with Store(path) as s:
        from hitrate.synth.demo import build_demo

        build_demo(s, seed=3, n_opportunities=2000)
    program = (
        "import sys, json, warnings; warnings.simplefilter('ignore')\n"
        "from hitrate.store import Store\nfrom hitrate.analysis.rates import rates\n"
        f"s = Store({str(path)!r})\n"
        "r = rates(s, by=['rep'], period='month')\n"
        "print(json.dumps([sum(x['attempts'] for x in r.records()), 'ibis' in sys.modules, 'pandas' in sys.modules,"
        " 'scipy.stats' in sys.modules]))\n"
    )
    first = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    second = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    n1, ibis1, _, _ = json.loads(first)
    n2, ibis2, pandas2, scipy2 = json.loads(second)
    assert n1 == n2 > 0
    assert ibis1 is True  # the first time, Ibis compiles the query
    assert (ibis2, pandas2) == (False, False)  # then the store answers with the kept SQL
    assert scipy2 is False  # and the change flags of a monthly series need no scipy.stats (1 s to import)
