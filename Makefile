# mladvisor — make demo | make test | make test-fast | make lint | make bench
# The newest supported Python found (3.13, then 3.12, then 3.11); PYTHON=python3.11 picks one.
# On a machine with no supported Python at all, scripts/system-deps installs Debian's python3
# first (only when PYTHON is not given): that is the one case it runs while the Makefile is read.
PY     := $(shell $(if $(PYTHON),scripts/python $(PYTHON),\
            scripts/python 2>/dev/null || { scripts/system-deps --python >&2; scripts/python; }))
VENV   ?= .venv
BIN    := $(VENV)/bin
# One stamp per interpreter: asking for another Python rebuilds the virtualenv with it.
STAMP  := $(VENV)/.installed-$(notdir $(PY))
# durable-rules 2.0.28 calls PyEval_CallObject, which Python 3.13 removed; the same call under
# its current name builds everywhere. Built from source every time, so that a wheel cached from
# a build without the flag is never reused.
DURABLE := $(shell grep -o 'durable-rules==[0-9.]*' pyproject.toml)
# Parallel workers for pytest (pytest-xdist); `make test JOBS=auto` uses every core.
JOBS   ?= 2

.PHONY: demo test test-fast lint bench install system-deps clean

# System packages (PDF libraries and fonts, Chromium, pdftoppm, a C compiler): quiet when all are
# installed, installs the missing ones when it may, else exits 2 with the command to run.
system-deps:
	@scripts/system-deps $(PY)

$(STAMP): pyproject.toml
	@test -n "$(PY)" || exit 2
	@scripts/system-deps --build $(PY)
	$(PY) -m venv --clear $(VENV)
	$(BIN)/pip install -q --upgrade pip
	CPPFLAGS="-DPyEval_CallObject=PyObject_CallObject" \
	  $(BIN)/pip install -q --no-cache-dir --no-binary durable-rules "$(DURABLE)"
	$(BIN)/pip install -q -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

demo: system-deps $(STAMP)
	@mkdir -p out
	$(BIN)/mladvisor assess examples/support-ticket-routing.yaml --no-record
	$(BIN)/mladvisor assess examples/support-ticket-routing.yaml --format pdf --out out/support-ticket-routing.pdf --no-record
	@echo "PDF report: out/support-ticket-routing.pdf"

# Everything, the browser and the slow tests included.
test: system-deps $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS)

# The inner loop: everything except the tests marked slow (browser, big data, child processes).
test-fast: system-deps $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check engine tests bench
	$(BIN)/mypy engine
	$(BIN)/mladvisor rules lint

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) out
