# Two commands for a newcomer: `make serve` starts the app, `make test` runs the suite.
# Both build .venv from requirements.lock on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint bench-ingest lock clean refresh-fixtures

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/issuewright serve

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . scripts/refresh-fixtures && $(BIN)/ruff format --check . scripts/refresh-fixtures && $(BIN)/mypy

# Re-create tests/fixtures/ from the pinned npm packages (needs npm and gzip; see its README).
refresh-fixtures:
	$(PYTHON) scripts/refresh-fixtures

lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV)
