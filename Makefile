# Pulse — every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
MODULES := $(VENV)/.modules
STRICT  := --config-settings editable_mode=strict

.PHONY: demo test lint bench clean link

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt $(STRICT) -e '.[dev,demo]'
	touch $(STAMP)

# The editable install links every module of the package `pulse` into build/ (what lets mypy
# and the tests import `pulse.…` from this checkout); a module added or removed is linked here.
# The linked modules are byte-compiled as a regular install's are: a question is a short process,
# and compiling its ~40 modules at every start is a tenth of it where PYTHONDONTWRITEBYTECODE is set.
link: $(STAMP)
	@{ ls *.py; find cli connectors emulators reports scheduling store -name '*.py'; } \
		| sort > $(MODULES).now
	@cmp -s $(MODULES).now $(MODULES) || { \
		$(BIN)/pip install --quiet --no-deps -c constraints.txt $(STRICT) -e . && mv $(MODULES).now $(MODULES); }
	@$(BIN)/python -m compileall -q build/__editable__.* >/dev/null

demo: link
	$(BIN)/pulse demo

test: link
	$(BIN)/pytest -n 2 --dist loadgroup

lint: link
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: link
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
