# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test bench clean

# With no Telegram or Twilio credentials it is the sandbox, and its last line of start-up is the address to open.
run: $(VENV)/.installed
	$(BIN)/paystage run

demo: $(VENV)/.installed
	$(BIN)/paystage demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check --quiet core storage sms bot paystage sandbox tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/core_bench.py

# The first run installs for a minute or two: say so, and let pip show its progress.
$(VENV)/bin/python:
	@echo "Creating $(VENV) and installing Paystage's packages (the first time only: a minute or two)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@ $(VENV)/.installed

# Only what a build makes. Never data/: it holds the database and the key that signs every link already sent.
clean:
	rm -rf $(VENV) build *.egg-info
