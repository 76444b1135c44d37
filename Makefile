# Two commands: `make demo` (set up + run the main job on SQLite) and `make test` (set up + all tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PLUGINS := $(wildcard plugins/*/pyproject.toml)
# Each plugin editable, with its `test` extra where its pyproject declares one.
PLUGIN_REQS := $(foreach p,$(PLUGINS),$(if $(shell grep -l '^test = ' $(p)),'$(dir $(p))[test]',$(dir $(p))))
DEMO_DB ?= out/demo.db

.PHONY: demo test setup lint typecheck bench docs grammar-tables clean browser-deps office-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(PLUGINS)
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(foreach r,$(PLUGIN_REQS),-e $(r))
	@# Bytecode now, as installing a wheel does: editable sources are otherwise compiled on
	@# every start where PYTHONDONTWRITEBYTECODE is set (about 0.1 s per command).
	$(BIN)/python -m compileall -q src $(foreach p,$(PLUGINS),$(dir $(p))src) > /dev/null
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/zhenshen demo --store sqlite:///$(DEMO_DB) --html out/report.html

test: $(STAMP) browser-deps office-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider
	$(BIN)/ruff check src tests plugins benchmarks examples tools
	$(BIN)/mypy src tools

# Chromium and a CJK font for tests/browser; LibreOffice for the DOCX layout test (apt-get where
# missing, quick when present; the tests skip with a message where this cannot install them).
browser-deps:
	@.ci/browser-deps

office-deps:
	@.ci/browser-deps office

lint: $(STAMP)
	$(BIN)/ruff check src tests plugins benchmarks examples tools

typecheck: $(STAMP)
	$(BIN)/mypy src tools

docs: $(STAMP)
	COLUMNS=100 ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD=1 $(BIN)/python tools/docsgen.py docs/reference

grammar-tables: $(STAMP)
	$(BIN)/python -c 'from zhenshen_core.rules.lang.parser import save_parser_tables as s; print(s())'

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
