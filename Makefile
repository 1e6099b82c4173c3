# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Install and start the product on an SQLite file with demo data (Ctrl-C stops it).
run: install
	$(BIN)/calculatice bank check
	$(BIN)/calculatice serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Install and run the whole test suite, lint first.
test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
