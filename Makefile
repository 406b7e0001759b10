# mladvisor — make demo | make test | make lint | make bench
PYTHON ?= $(shell command -v python3.12 || command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/mladvisor assess examples/support-ticket-routing.yaml --no-record
	$(BIN)/mladvisor assess examples/support-ticket-routing.yaml --no-record --format pdf --out out/support-ticket-routing.pdf
	@echo "PDF report: out/support-ticket-routing.pdf"

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check engine tests bench
	$(BIN)/mladvisor rules lint

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) out
