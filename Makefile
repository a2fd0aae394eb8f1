# newsdedup: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
CONFIG ?= config.toml
DATA ?= ../shared/data

.PHONY: install run once stats test lint check bench bench-quality bench-dedup bench-langid demo soak check-feeds clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(PY) service.py run --config $(CONFIG)

once: install
	$(PY) service.py once --config $(CONFIG)

stats: install
	$(PY) service.py stats --config $(CONFIG)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy ingest store report service.py demo/run.py demo/sampleweb.py
	$(VENV)/bin/lint-imports

check: lint test

bench-quality: install
	$(PY) bench/quality.py --data $(DATA)

bench-langid: install
	$(PY) bench/langid.py --data $(DATA)

bench-dedup: install
	$(PY) bench/dedup_quality.py
	$(PY) bench/dedup_scale.py

bench: install
	$(PY) bench/throughput.py --data $(DATA) --rounds 3

soak: install
	$(PY) bench/soak.py

check-feeds: install
	$(PY) bench/check_feeds.py --data $(DATA)

demo: install
	$(PY) demo/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
