# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck contracts test-sqlite test-postgres bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mentorbot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Import rules (pyproject.toml [tool.importlinter]): layers, independent features, no tests in the product.
contracts: $(STAMP)
	$(BIN)/lint-imports --no-cache

test-sqlite: $(STAMP)
	@echo "== test suite on SQLite =="
	MENTORBOT_TEST_BACKEND=sqlite $(BIN)/pytest -q

test-postgres: $(STAMP)
	@echo "== test suite on PostgreSQL (throwaway cluster) =="
	scripts/with-postgres.sh env MENTORBOT_TEST_BACKEND=postgresql $(BIN)/pytest -q

test: lint typecheck contracts test-sqlite test-postgres

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
