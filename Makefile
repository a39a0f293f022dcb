# The two commands a newcomer runs: `make demo` and `make test`. Each sets up
# everything it needs (a .venv with the package installed editable) first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FSQL := $(VENV)/bin/featuresql
STAMP := $(VENV)/.installed
DEMO_OUT := out
SIZE ?= 1m

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(FSQL) demo --size $(SIZE) --out $(DEMO_OUT)

test: setup
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_OUT) data .pytest_cache
