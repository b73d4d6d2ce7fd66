# Two commands for a newcomer: `make serve` starts the app, `make test` runs the suite.
# Both build .venv from requirements.lock on first use, with Python 3.11 or newer.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# PYTHON named on the command line or in the environment (not this file's default): .venv must
# then be made by that interpreter's version, else it is rebuilt (see scripts/venv).
PYTHON_CHOSEN := $(if $(filter file,$(origin PYTHON)),,1)
VENV_SH = PYTHON_CHOSEN=$(PYTHON_CHOSEN) sh scripts/venv

.PHONY: serve test lint venv bench-ingest lock clean refresh-fixtures

# A too old (or missing) interpreter stops make with one line, before anything is created or
# removed: recipes are expanded before they run, so $(error) fires first. It is asked only when
# .venv must be (re)built: a healthy .venv is used whatever python3 is now.
# A .venv made by another Python version, by an interpreter that is gone, or by an install that
# did not finish is rebuilt; `sh scripts/venv state PYTHON .venv` says which and why.
venv:
	@$(if $(filter create rebuild:,$(firstword $(shell $(VENV_SH) state '$(PYTHON)' '$(VENV)'))),$(if $(PYTHON_PROBLEM),$(error $(PYTHON_PROBLEM))))
	@$(VENV_SH) ensure '$(PYTHON)' '$(VENV)'

PYTHON_PROBLEM = $(shell sh scripts/venv check-python '$(PYTHON)')

serve: venv
	$(BIN)/issuewright serve

test: venv
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check . scripts/refresh-fixtures && $(BIN)/ruff format --check . scripts/refresh-fixtures && $(BIN)/mypy && $(BIN)/lint-imports

# Re-create tests/fixtures/ from the pinned npm packages (needs npm and gzip; see its README).
refresh-fixtures:
	$(PYTHON) scripts/refresh-fixtures

lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV)
