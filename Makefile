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

QUIX := .venv-quix
QUIX_STAMP := $(QUIX)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)

# The `bench` extra in its own venv: quixstreams' pins conflict with regbus's (pyproject.toml).
$(QUIX_STAMP): pyproject.toml
	@test -x $(QUIX)/bin/python || $(PY) -m venv $(QUIX)
	$(QUIX)/bin/pip install -q $$($(PY) -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['bench']))")
	@rm -f $(QUIX)/.installed-*
	@touch $(QUIX_STAMP)

bench: broker $(QUIX_STAMP)
	$(BIN)/regbus bench

down:
	$(BIN)/regbus broker down

clean:
	-$(BIN)/regbus broker down --purge
	rm -rf $(VENV)
