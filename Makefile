# billreel: `make demo` to see it work, `make test` to prove it. Both install what they need.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV ?= .venv
PYTHON_BIN := $(VENV)/bin/python
BILLREEL := $(VENV)/bin/billreel
PYTEST_ARGS ?= -ra
# Tests run in parallel processes (pytest-xdist), one per core by default; a file's tests stay
# in one process, so a module's fixture (a live server, a browser) is made once.
PYTEST_WORKERS ?= auto

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DEBIAN_FRONTEND := noninteractive

# Debian packages: what rendering needs, and what the tests add (real Redis, Chromium, zbar,
# PostgreSQL: tests/pg.py starts a throwaway cluster); the benchmarks add a load generator.
# No espeak-ng: the narration voice comes with the espeakng-loader wheel (pyproject.toml).
RUNTIME_PACKAGES := ffmpeg fonts-noto-core fonts-noto-cjk fonts-dejavu-core
TEST_PACKAGES := $(RUNTIME_PACKAGES) redis-server chromium zbar-tools postgresql
BENCH_PACKAGES := $(TEST_PACKAGES) wrk

# pip runs only when pyproject.toml is newer than these stamps, or its content or the set of
# top-level packages changed (copies keep old dates; the editable install maps each package
# it saw when it was made).
RUNTIME_STAMP := $(VENV)/.billreel-runtime.stamp
DEV_STAMP := $(VENV)/.billreel-dev.stamp
INPUTS_STAMP := $(VENV)/.billreel-inputs.stamp
INPUTS = $(shell sha256sum pyproject.toml) $(sort $(wildcard */__init__.py))

.PHONY: help demo test check bench serve worker clean system-deps system-deps-test system-deps-bench install install-dev browser-tools codemirror hlsjs FORCE

help:
	@echo "make demo    render the example bills through the whole service and print the links"
	@echo "make test    install everything the tests need and run them"
	@echo "make check   ruff check, ruff format --check, mypy, lint-imports (the house plan)"
	@echo "make bench   run every benchmark in benchmarks/ and print the figures"
	@echo "make serve   run the API and the customer links on http://127.0.0.1:8000"
	@echo "make worker  run a render worker against BILLREEL_REDIS_URL"
	@echo "make clean   remove caches, build stamps and the local data directory var/"
	@echo "make codemirror  rebuild the studio's code editor bundle (tools/codemirror)"
	@echo "make hlsjs   copy the pinned hls.js for the customer page's player (tools/hlsjs)"

demo: system-deps install
	$(BILLREEL) demo

test: system-deps-test install-dev browser-tools
	@rc=0; $(PYTHON_BIN) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure" >&2; fi; \
	exit $$rc

# All four run even when one fails, so one pass shows every problem. lint-imports checks the
# house plan of app/ (the contracts in pyproject.toml, drawn in docs/design.md).
check: install-dev
	@rc=0; \
	echo "ruff check ."; $(VENV)/bin/ruff check . || rc=1; \
	echo "ruff format --check ."; $(VENV)/bin/ruff format --check . || rc=1; \
	echo "mypy"; $(VENV)/bin/mypy || rc=1; \
	echo "lint-imports"; $(VENV)/bin/lint-imports --no-cache || rc=1; \
	exit $$rc

# Speed and memory, measured (never by timed tests); figures go to docs/benchmarks.md.
bench: system-deps-bench install-dev browser-tools
	benchmarks/run_all.sh

serve: system-deps install
	$(BILLREEL) serve

worker: system-deps install
	$(BILLREEL) worker

clean:
	rm -rf var out build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
	rm -f $(RUNTIME_STAMP) $(DEV_STAMP) $(INPUTS_STAMP)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

system-deps:
	@bash scripts/install-system-deps.sh $(RUNTIME_PACKAGES)

system-deps-test:
	@bash scripts/install-system-deps.sh $(TEST_PACKAGES)

system-deps-bench:
	@bash scripts/install-system-deps.sh $(BENCH_PACKAGES)

# axe-core and Lighthouse for the microsite's browser checks: project-local, from the
# committed lock file, never global; no browser is downloaded (they drive /usr/bin/chromium).
BROWSER_TOOLS_STAMP := tools/browser/node_modules/.billreel.stamp
browser-tools: $(BROWSER_TOOLS_STAMP)
$(BROWSER_TOOLS_STAMP): tools/browser/package.json tools/browser/package-lock.json
	npm ci --prefix tools/browser --no-audit --no-fund --ignore-scripts
	touch $@

# The studio's code editor: CodeMirror 6 bundled by esbuild from the pinned packages in
# tools/codemirror; the output is committed (tools/codemirror/README.md), so only a change of
# version needs this.
codemirror:
	npm ci --prefix tools/codemirror --no-audit --no-fund --ignore-scripts
	cd tools/codemirror && node build.mjs

# hls.js for the customer page's player (tools/hlsjs/README.md); committed like codemirror.
hlsjs:
	npm ci --prefix tools/hlsjs --no-audit --no-fund --ignore-scripts
	cp tools/hlsjs/node_modules/hls.js/dist/hls.light.min.js app/customer/static/hls/hls.light.min.js
	cp tools/hlsjs/node_modules/hls.js/LICENSE app/customer/static/hls/hls.LICENSE.txt

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

$(PYTHON_BIN):
	@bash scripts/make-venv.sh $(VENV)

# Rewritten only when the list differs, so its date moves only then.
$(INPUTS_STAMP): FORCE | $(PYTHON_BIN)
	@echo '$(INPUTS)' | cmp -s - $@ || echo '$(INPUTS)' > $@

$(RUNTIME_STAMP): pyproject.toml $(INPUTS_STAMP) | $(PYTHON_BIN)
	$(PYTHON_BIN) -m pip install --quiet -e .
	touch $@

# The dev extras include the playwright package; its browser download is never used: the
# tests drive the system's /usr/bin/chromium.
$(DEV_STAMP): pyproject.toml $(INPUTS_STAMP) | $(PYTHON_BIN)
	$(PYTHON_BIN) -m pip install --quiet -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

FORCE:
