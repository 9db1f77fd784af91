# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test bench clean messages

# Every sentence a customer or contractor reads, in each language (core/wording/language.py). Compiled at install.
LOCALES := core/wording/locales
COMPILED := $(patsubst %.po,%.mo,$(wildcard $(LOCALES)/*/LC_MESSAGES/messages.po))

# With no Telegram or Twilio credentials it is the sandbox, and its last line of start-up is the address to open.
run: $(VENV)/.installed $(COMPILED)
	$(BIN)/paystage run

demo: $(VENV)/.installed $(COMPILED)
	$(BIN)/paystage demo

test: $(VENV)/.installed-test $(COMPILED)
	$(BIN)/ruff check --quiet core storage sms bot paystage sandbox tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/core_bench.py

# After a sentence is added or changed: the template from the code, merged into each language's catalog, where
# what is new waits for its translation (tests/test_catalogs.py fails until it has one).
messages: $(VENV)/.installed
	$(BIN)/pybabel --quiet extract -F babel.cfg --no-location --sort-output --project=Paystage -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel --quiet update --no-fuzzy-matching --ignore-obsolete -i $(LOCALES)/messages.pot -d $(LOCALES)

$(LOCALES)/%/LC_MESSAGES/messages.mo: $(LOCALES)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel --quiet compile -i $< -o $@

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
