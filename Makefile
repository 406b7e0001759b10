# mladvisor — make demo | make test | make lint | make bench
# The newest supported Python found (3.13, then 3.12, then 3.11); PYTHON=python3.11 picks one.
PY     := $(shell scripts/python $(PYTHON))
VENV   ?= .venv
BIN    := $(VENV)/bin
# One stamp per interpreter: asking for another Python rebuilds the virtualenv with it.
STAMP  := $(VENV)/.installed-$(notdir $(PY))
# durable-rules 2.0.28 calls PyEval_CallObject, which Python 3.13 removed; the same call under
# its current name builds everywhere. Built from source every time, so that a wheel cached from
# a build without the flag is never reused.
DURABLE := $(shell grep -o 'durable-rules==[0-9.]*' pyproject.toml)

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	@test -n "$(PY)" || exit 2
	$(PY) -m venv --clear $(VENV)
	$(BIN)/pip install -q --upgrade pip
	CPPFLAGS="-DPyEval_CallObject=PyObject_CallObject" \
	  $(BIN)/pip install -q --no-cache-dir --no-binary durable-rules "$(DURABLE)"
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/mladvisor assess examples/support-ticket-routing.yaml --no-record
	$(BIN)/mladvisor assess examples/support-ticket-routing.yaml --format pdf --out out/support-ticket-routing.pdf --no-record
	@echo "PDF report: out/support-ticket-routing.pdf"

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check engine tests bench
	$(BIN)/mypy engine
	$(BIN)/mladvisor rules lint

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) out
