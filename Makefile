# Two entry points for a fresh machine (see README): `make demo` and `make test`.
# Every target is idempotent: the venv is rebuilt only when pyproject.toml changes, the Kafka
# jars are fetched once, and a broker that already answers is reused.

PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)

.PHONY: setup broker demo test lint unit bench down clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)
	$(BIN)/regbus broker fetch
	bash .ci/console_assets.sh
	bash .ci/browser_deps.sh

broker: setup
	$(BIN)/regbus broker up

demo: broker
	$(BIN)/regbus demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: broker lint
	$(BIN)/pytest -q

bench: broker
	$(BIN)/regbus bench

down:
	$(BIN)/regbus broker down

clean:
	-$(BIN)/regbus broker down --purge
	rm -rf $(VENV)
