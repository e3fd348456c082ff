# Two commands on a fresh machine: `make run` and `make test`.
# Everything lives in .venv; the stamp file reinstalls when pyproject.toml changes.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The first Python >= 3.12 found: python3.13, python3.12, then python3. pyenv shims answer
# for versions .python-version does not select with an error, which the version check skips.
FIND_PYTHON := for c in python3.13 python3.12 python3; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    command -v $$c; exit 0; fi; done; exit 1

.PHONY: run test lint bench clean help chromium python

help:
	@echo "make run    install what is needed and start the dashboard on the embedded defaults"
	@echo "make test   install what is needed and run every test"
	@echo "make lint   ruff over the tree"
	@echo "make bench  run the benchmarks under bench/"

NO_PYTHON := { \
	  echo "error: Python 3.12 or newer is required, and none was found." >&2; \
	  echo "       Looked for python3.13, python3.12 and python3 on PATH." >&2; \
	  echo "       Install one (python.org, your package manager, or 'pyenv install 3.13')." >&2; \
	  exit 1; }

# Which Python the virtual environment would be made with.
python:
	@py=$$($(FIND_PYTHON)) || $(NO_PYTHON); echo "$$py ($$($$py --version))"

$(STAMP): pyproject.toml
	@py=$$($(FIND_PYTHON)) || $(NO_PYTHON); \
	echo "Using $$py ($$($$py --version))"; \
	[ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py runstack $(ARGS)

test: $(STAMP) chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: /usr/bin/chromium not found: browser tests will be skipped (apt-get install chromium)"; \
	  fi; \
	fi

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(STAMP)
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .ruff_cache
