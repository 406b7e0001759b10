# mladvisor — make demo | make test | make lint | make bench
# durable-rules needs Python 3.11 or 3.12: take the first interpreter that is one of those.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "mladvisor needs Python 3.11 or 3.12 (durable-rules)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
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
