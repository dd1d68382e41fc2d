# 农e贷. Every target bootstraps first (Debian packages, .venv, project install), so a fresh clone needs nothing else.
SHELL := /bin/bash
VENV := .venv/bin
# Tests and benchmarks need PostgreSQL; this default is the local server. An exported DATABASE_URL wins.
DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: bootstrap up test lint bench migration

bootstrap:
	@scripts/bootstrap.sh

up: bootstrap
	$(VENV)/nongedai up

# pytest exits 5 when it collected nothing; say so instead of leaving a bare error code.
# PYTHONNODEBUGRANGES: no column carets in tracebacks. Python 3.11 works them out with ast.parse, whose
# AST constructor is not thread-safe, and Temporal's threads format tracebacks while pytest may be
# parsing a module to rewrite its asserts: a rare "SystemError: AST constructor recursion depth mismatch".
test: bootstrap
	@PYTHONNODEBUGRANGES=1 DATABASE_URL='$(DATABASE_URL)' $(VENV)/pytest $(PYTEST_ARGS) || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc; }

lint: bootstrap
	$(VENV)/ruff check .

# Each benchmark prints one final JSON line (bench/README.md); they use the same PostgreSQL as the tests.
bench: bootstrap
	@shopt -s nullglob; scripts=(bench/[!_]*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "make bench: no benchmarks in bench/"; exit 0; fi; \
	for f in "$${scripts[@]}"; do echo "== $$f" >&2; DATABASE_URL='$(DATABASE_URL)' $(VENV)/python "$$f" || exit $$?; done

# Regenerate the single initial migration from the current tables.
migration: bootstrap
	scripts/regen_initial_migration.sh
