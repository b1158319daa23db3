# hitrate: the two commands are `make demo` and `make test`; both set up .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck bench clean

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

## test: install the dev extras and run the whole test suite (tests start the services they need)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check hitrate tests benchmarks
	$(BIN)/mypy hitrate

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/rates.py --n 1000000 --n 10000000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache hitrate.duckdb hitrate-report.html
