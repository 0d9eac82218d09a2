# The two commands: `make run` (build the graph) and `make test` (run the test suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= exports

.PHONY: run test bench eval install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

## make run: create .venv, install, build (checks, exports, HTML views) and print where the outputs are
run: install
	$(BIN)/bmlkg build --out $(OUT)
	@echo ""
	@echo "RDF exports:  $(OUT)/ (see $(OUT)/README.md)"
	@echo "HTML views:   $(OUT)/html/index.html (open in a browser; works offline)"

## make test: install with the test extras and run pytest
test: install-test
	$(BIN)/python -m pytest -q

## make bench: timings as ratios against rdflib measured in the same run
bench: install-test
	$(BIN)/python -m benchmarks

## make eval: the differential on the case suite: top-1, top-3 and MRR, overall and per category
eval: install-test
	$(BIN)/python -m benchmarks.eval

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
