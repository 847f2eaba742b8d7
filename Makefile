# dlvstats — `make help` lists the targets. The README's quick start is `make demo` then `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB := data/dlvstats.duckdb
DEMO := data/demo
DEMO_MONTH := 2026-10
DEMO_CONTACTS ?= 20000

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dlvstats needs Python 3.11 or newer (set PYTHON=python3.12 ...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (dlvstats)" >/dev/null
	@touch $@

.PHONY: install
install: $(VENV)/.installed ## create .venv and install dlvstats with its test tools

.PHONY: demo
demo: install ## simulate an ESP's year, ingest it, render the last month's report (prints where everything is)
	@if [ ! -f $(DEMO)/truth.json ]; then $(BIN)/dlvstats simulate --out $(DEMO) --contacts $(DEMO_CONTACTS) --seed 1; fi
	rm -f $(DB) $(DB).wal
	$(BIN)/dlvstats ingest $(DEMO)/drops/* --db $(DB)
	$(BIN)/dlvstats info --db $(DB)
	$(MAKE) --no-print-directory demo-blocklists
	$(BIN)/dlvstats report --month $(DEMO_MONTH) --db $(DB) --out reports --force --allow-incomplete
	@echo
	@echo "Demo drops:     $(DEMO)/drops/  (latent truth: $(DEMO)/truth.json)"
	@echo "Database:       $(DB)"
	@echo "Report:         reports/$(DEMO_MONTH)/index.html"
	@echo "Explore:        make lab"

.PHONY: demo-blocklists
demo-blocklists: install ## blocklists check of the demo database against a test zone served on 127.0.0.1 (started and stopped here)
	@rm -f $(DB).zone-ready; \
	$(BIN)/dlvstats blocklists serve-test-zone --zone demo.dnsbl.invalid --list 198.51.100.20=127.0.0.2 \
	  --seconds 300 --ready-file $(DB).zone-ready >/dev/null & server=$$!; \
	for i in $$(seq 600); do [ -s $(DB).zone-ready ] && break; sleep 0.1; done; \
	$(BIN)/dlvstats blocklists check --db $(DB) --zones docs/examples/demo_blocklist_zones.toml \
	  --resolver $$(cat $(DB).zone-ready) --since 400 --interval 0; rc=$$?; \
	kill $$server 2>/dev/null; wait $$server 2>/dev/null; rm -f $(DB).zone-ready; \
	[ $$rc -le 1 ]  # 1 = something is listed: the demo's point

.PHONY: browser
browser: ## make sure Debian's chromium is there for the rendered-report tests (installs it when root)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "The report tests need Debian's chromium: run 'sudo apt-get install chromium' (or set DLVSTATS_CHROMIUM=/path/to/chromium) and run make test again." >&2; \
	  exit 1; \
	fi

.PHONY: java
java: ## make sure Java 17 is there for the Spark engine's tests (installs Debian's JRE when root)
	@if command -v java >/dev/null 2>&1 || [ -x "$$JAVA_HOME/bin/java" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's openjdk-17-jre-headless for the Spark tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else \
	  echo "The Spark engine's tests need Java 17: run 'sudo apt-get install openjdk-17-jre-headless' (or set JAVA_HOME to a Java 17) and run make test again." >&2; \
	  exit 1; \
	fi

.PHONY: test
test: install browser java ## run the whole test suite (installs what it needs), then the sizes and boundaries
	$(BIN)/python -m pytest -q
	$(BIN)/python tools/check_sizes.py src
	$(BIN)/lint-imports

.PHONY: test-fast
test-fast: install java ## the inner loop: every test not marked slow, then the module-boundary contracts
	$(BIN)/python -m pytest -q -m "not slow"
	$(BIN)/python tools/check_sizes.py src
	$(BIN)/lint-imports

.PHONY: lab
lab: install ## open JupyterLab on notebooks/ with the demo database
	@test -f $(DB) || (echo "No $(DB) yet: run 'make demo' first." && exit 1)
	cd notebooks && ../$(BIN)/jupyter lab $$(test "$$(id -u)" = 0 && echo --allow-root)  # root (a container) needs --allow-root

.PHONY: bench
bench: install ## benchmarks (not part of make test): throughput and peak memory
	$(BIN)/python benchmarks/run.py --sends 1M

.PHONY: accuracy
accuracy: install ## every estimator in every simulated world, 10 seeds: writes docs/accuracy.md (~5-10 min on 2 cores)
	$(BIN)/python benchmarks/accuracy.py --worlds all --seeds 10 --scale 0.25 --months 6 --jobs 2 --out docs/accuracy.md

.PHONY: fail-before
fail-before: install ## each input-defect test run on the code before its fix (must fail) and with it (must pass); needs git history
	$(BIN)/python tools/fail_before.py

.PHONY: lint
lint: install ## ruff, the module-boundary contracts, and no file in src/ over 500 lines or function over 80
	$(BIN)/ruff check src tests tools
	$(BIN)/lint-imports
	$(BIN)/python tools/check_sizes.py src

.PHONY: clean
clean: ## remove the demo data, the database and rendered reports (keeps .venv)
	rm -rf $(DEMO) $(DB) $(DB).wal reports/20*

.PHONY: help
help: ## this list
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
