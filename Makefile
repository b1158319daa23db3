# hitrate: the two commands are `make demo` and `make test`; both set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck mutate bench bench-import bench-web chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[all]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-all

## demo: set up .venv, install with every extra, build the demo store and write the HTML report
demo: $(VENV)/.installed-all
	$(BIN)/hitrate demo

## test: install the dev extras (and Chromium for the browser tests) and run the whole test suite
test: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider

## chromium: the system Chromium the browser tests drive (Playwright's own download is not used)
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		(apt-get update -q && apt-get install -y -q chromium) || \
		(sudo apt-get update -q && sudo apt-get install -y -q chromium)

## mutate: mutation testing (mutmut) of the modules that compute numbers, with the fast tests that cover them;
## the configuration is [tool.mutmut] in pyproject.toml, the report and the survivors in docs/testing.md. Not
## part of `make test`. MUTATE_JOBS sets the parallel workers (default 2).
MUTATE_JOBS ?= 2
mutate: $(VENV)/.installed-dev
	env -u PYTHONPATH CI=1 HITRATE_SHARED_DATA="$${HITRATE_SHARED_DATA:-$(abspath ../shared/data)}" \
	  $(BIN)/mutmut run --max-children $(MUTATE_JOBS)
	$(BIN)/mutmut results

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check hitrate tests benchmarks
	$(BIN)/mypy hitrate

## bench: benchmarks/scale.py at 1M, 10M and 100M opportunities; writes its table into BENCHMARKS.md.
## Long: the 100M-row variants take minutes each, and the first run also generates the data (about 10 GB under benchmarks/data/).
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/scale.py --n 1000000 --n 10000000 --n 100000000 --wait-quiet 300 --breakdown --update-doc

## bench-import: benchmarks/imports.py: hitrate import of a 1M- and a 10M-row CSV against DuckDB's read_csv, alternating;
## then the 10M file with rows to quarantine (--dirty).
bench-import: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/imports.py --n 1000000 --n 10000000 --repeat 3 --breakdown
	$(BIN)/python benchmarks/imports.py --n 10000000 --repeat 3 --breakdown --dirty

bench-web: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/web.py --users 50 --seconds 60

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache hitrate.duckdb hitrate-report.html
