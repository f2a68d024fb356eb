# Two commands do everything: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DBT := $(BIN)/dbt
DBT_FLAGS := --profiles-dir . --project-dir .
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: help setup browser java spark-setup spark-build test-spark run build publish report docs test test-fast test-dbt check-docs test-python lint sample bench clean lock

help:
	@echo "make run      set up the environment, dbt build the embedded sample into crm.duckdb, publish it"
	@echo "make test     set up, then every test: dbt build (data + unit tests), docs check, pytest, lint, Spark"
	@echo "make test-fast  ruff and the pytest tests that run neither dbt nor Spark: about a minute"
	@echo "make publish  copy the last build's public marts to published/ (read-only DuckDB + Parquet) for BI tools"
	@echo "make report   write reports/crm_report.html from the published marts"
	@echo "make docs     generate the dbt docs site and serve it on http://127.0.0.1:8080"
	@echo "make sample   write a large synthetic data set: make sample N=1000000 OUT=/tmp/big.parquet"
	@echo "make bench    dbt build vs the course pipeline in pandas (fast, as written) vs one DuckDB pass: SIZES=\"1e6 1e7\""
	@echo "make spark-setup  add Java 17, dbt-spark and pyspark for the Spark build (README, Spark)"
	@echo "make spark-build  build the project, Python models (the fits) included, on a local Spark"
	@echo "make test-spark   build the sample on Spark (ANSI on) and compare its public marts with DuckDB's"
	@echo "make lint     sqlfluff (dbt templater, duckdb dialect) and ruff"
	@echo "make clean    remove the environment, target/, published/ and the database file"

$(STAMP): requirements.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# the project's own package, editable: dbt Python models and pytest import this checkout
	$(BIN)/python -m pip install --quiet --no-deps -e .
	# (environments made before the package was installable had a path file instead)
	rm -f "$$($(BIN)/python -c 'import site; print(site.getsitepackages()[0])')/crm_analytics_project.pth"
	$(BIN)/python -m pip check
	touch $(STAMP)

# Debian's Chromium, for the browser tests of the docs site and the report
browser:
	@test -x /usr/bin/chromium || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium )

setup: $(STAMP)

# Debian's Java 17 runtime, for pyspark (the Spark build; README, "Spark")
java:
	@command -v java >/dev/null || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless )

# dbt-spark and pyspark in the project environment, only for the Spark build (pyspark is large)
SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): $(STAMP) requirements-spark.txt
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-spark.txt
	$(BIN)/python -m pip check
	touch $(SPARK_STAMP)

spark-setup: setup java $(SPARK_STAMP)

# The whole project on a local Spark session: dbt builds the SQL in waves and the runner
# (crm_analytics.spark) fits the Python models between them (README, "Spark"). SPARK_ARGS, e.g.
# --no-ansi or --vars '{...}'.
SPARK_ARGS ?=
spark-build: spark-setup
	$(BIN)/python -m crm_analytics.spark build $(SPARK_ARGS)

# The embedded sample on Spark with ANSI mode on, compared mart by mart with the DuckDB build of
# `test-dbt` (row counts, keys and text identical, floats to 1e-9 relative); fails on any
# difference. One process: one JVM start, then the build, then the comparison.
test-spark: spark-setup test-dbt
	$(BIN)/python -m crm_analytics.spark check --duckdb target/test.duckdb --ansi

# publishes only after a successful build (make stops at the first failing line)
run: setup
	$(DBT) build $(DBT_FLAGS)
	$(BIN)/python -m crm_analytics.publish

build: run

publish: setup
	$(BIN)/python -m crm_analytics.publish

report: setup
	$(BIN)/python -m crm_analytics.report

docs: setup
	$(DBT) docs generate $(DBT_FLAGS)
	@echo "dbt docs on http://127.0.0.1:8080 (Ctrl+C to stop)"
	$(DBT) docs serve $(DBT_FLAGS) --host 127.0.0.1 --port 8080 --no-browser

# test-spark last: it needs test-dbt's DuckDB build to compare with, and is the slowest start (JVM)
test: setup browser spark-setup test-dbt check-docs test-python lint test-spark

# The quick lane while working on the Python package: ruff, then every pytest test not marked
# `dbt` (a test that runs dbt carries that marker) or `spark` (starts a JVM). No dbt build, no
# browser, no Spark, no real data.
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -m "not dbt and not spark"

# A separate database file, so the tests never clobber (or wait on) the one `make run` wrote.
test-dbt: setup
	CRM_DUCKDB_PATH=target/test.duckdb $(DBT) build $(DBT_FLAGS)

# manifest + catalog of the test database, then the documentation / primary-key check
check-docs: setup
	CRM_DUCKDB_PATH=target/test.duckdb $(DBT) docs generate $(DBT_FLAGS)
	$(BIN)/python scripts/check_docs.py

# the `spark` tests need pyspark and Java (spark-setup). Two workers (pytest-xdist), one test
# module at a time each (--dist loadfile, so a module's shared build runs once): most of the
# time is dbt's single-threaded Python, so two builds at once use both cores (38 -> 20 min here).
PYTEST_WORKERS ?= 2
test-python: setup spark-setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	CRM_DUCKDB_PATH=target/test.duckdb $(BIN)/sqlfluff lint models tests/dbt

N ?= 1000000
SEED ?= 42
OUT ?= target/synthetic/online_retail_$(N).parquet
sample: setup
	mkdir -p $(dir $(OUT))
	$(BIN)/python -m crm_analytics.synth transactions --customers $(N) --seed $(SEED) --out $(OUT)

# Benchmark (README, "Scale and benchmarks"); not part of `make test`. Data per size (invoice
# lines) is generated once into BENCH_CACHE; results go to target/bench/ (CSV and Markdown).
SIZES ?= 1e6 1e7
BENCH_CACHE ?= target/bench-data
BENCH_ARGS ?=
bench: setup
	$(BIN)/python scripts/bench.py $(SIZES) --cache-dir $(BENCH_CACHE) --out target/bench $(BENCH_ARGS)

lock:
	rm -rf /tmp/crm-lock-venv && $(PYTHON) -m venv /tmp/crm-lock-venv
	/tmp/crm-lock-venv/bin/pip install --quiet -r requirements.in
	( echo "# Pinned with \`make lock\` from requirements.in (Python 3.11). Do not edit by hand."; \
	  /tmp/crm-lock-venv/bin/pip freeze ) > requirements.txt

clean:
	rm -rf $(VENV) target dbt_packages logs crm.duckdb crm.duckdb.wal crm.duckdb.*.parquet crm.duckdb.tmp published reports
