# The book's two commands (see README.md):
#   make build   set everything up, build the HTML book, print where to open it
#   make test    set everything up, run every check (unit tests, nbval, strict build, browser)
# and helpers: make lab, make execute NB=book/NN_name.ipynb, make clean.
#
# Setup is idempotent and quick when already done: the virtual environment is (re)installed only
# when requirements.txt changes (a stamp file named after its hash), MathJax only when missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
REQ_HASH := $(shell sha256sum requirements.txt | cut -c1-16)
VENV_STAMP := $(VENV)/.installed-$(REQ_HASH)

MATHJAX_VERSION := 3.2.2
NPM_PREFIX := .cache/npm
MATHJAX_STAMP := $(NPM_PREFIX)/.mathjax-$(MATHJAX_VERSION)

CHROMIUM ?= chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

# Re-executing or testing notebooks: no progress bars in committed or compared outputs.
NB_ENV := GRU_LIB_NO_PROGRESS=1

.PHONY: help setup browser-deps pdf-deps build test pdf pdf-check lab lab-check execute clean

help:
	@echo "make build                      set up and build the HTML book"
	@echo "make test                       set up and run all tests (unit, nbval, strict build, browser)"
	@echo "make pdf                        set up and print the whole book to _build/pdf/book.pdf"
	@echo "make lab                        open the chapters in JupyterLab"
	@echo "make lab-check                   check two chapters in JupyterLab in headless Chromium"
	@echo "make execute NB=book/NN.ipynb   re-execute one chapter in place (before committing it)"
	@echo "make clean                      remove _build/"

# --- setup ------------------------------------------------------------------------------------

setup: $(VENV_STAMP) $(MATHJAX_STAMP)
	@# Build matplotlib's font cache now: otherwise the first notebook to import pyplot prints
	@# "Matplotlib is building the font cache" to stderr, and nbval fails on a fresh machine.
	@$(PY) -c "import matplotlib.pyplot"
	@# The Shakespeare corpus of Part III (Project Gutenberg, public domain), cached in .cache/.
	@if [ -f gru_lib/corpus.py ]; then $(PY) -m gru_lib.corpus fetch; fi

$(VENV_STAMP): requirements.txt
	@if [ -z "$(PYTHON)" ]; then echo "error: Python 3.11 not found (python3.11 or python3)" >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else \
		"error: $(PYTHON) is Python %d.%d; the book needs 3.11" % sys.version_info[:2])'
	@if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); fi
	@# (The filter drops pip's notices about configured index folders that do not exist.)
	set -o pipefail; $(PY) -m pip install --disable-pip-version-check -q -r requirements.txt 2>&1 \
		| { grep -v "^WARNING: Location 'file:" || true; }
	@rm -f $(VENV)/.installed-*
	@touch $@

$(MATHJAX_STAMP):
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js (apt-get install npm)" >&2; exit 1; }
	npm install --prefix $(NPM_PREFIX) --no-audit --no-fund --no-save --loglevel=error mathjax@$(MATHJAX_VERSION)
	@test -f $(NPM_PREFIX)/node_modules/mathjax/es5/tex-chtml.js
	@rm -f $(NPM_PREFIX)/.mathjax-*
	@touch $@

# Debian's chromium for the browser check (headless); installed only if it is missing.
browser-deps:
	@command -v $(CHROMIUM) >/dev/null || { \
		echo "Installing chromium (apt)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }
	@command -v $(CHROMIUM) >/dev/null || { echo "error: $(CHROMIUM) is still missing" >&2; exit 1; }

# poppler-utils (pdfinfo, pdftotext, pdfimages, pdftoppm) for the PDF and its check; installed
# only if missing.
pdf-deps: browser-deps
	@command -v pdftotext >/dev/null || { \
		echo "Installing poppler-utils (apt)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			poppler-utils >/dev/null; }
	@command -v pdftotext >/dev/null || { echo "error: poppler-utils is still missing" >&2; exit 1; }

# --- the two commands -------------------------------------------------------------------------

build: setup
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is built. Open it in a browser:"
	@echo "    file://$(CURDIR)/_build/html/index.html"

test:
	@bash scripts/run_tests.sh

# --- the PDF ----------------------------------------------------------------------------------

# One PDF of the whole book: the single-page HTML build printed by headless Chromium, offline,
# after MathJax has typeset it (scripts/print_book.py; print style scripts/print_book.css).
PDF := _build/pdf/book.pdf

pdf: setup pdf-deps
	$(VENV)/bin/jupyter-book build . --builder singlehtml -W -n --keep-going
	$(PY) scripts/print_book.py _build/singlehtml -o $(PDF)
	@echo "The PDF is built: $(CURDIR)/$(PDF)"

# The PDF checked against the HTML book (_build/html if built, else the single page); a few pages
# rendered to PNG in _build/pdf/pages/ for a person to look at.
pdf-check: pdf
	$(PY) scripts/pdf_check.py $(PDF) --pages-png _build/pdf/pages \
		--html $(if $(wildcard _build/html/book/*.html),_build/html,_build/singlehtml)

# --- helpers ----------------------------------------------------------------------------------

# (JupyterLab refuses to run as root unless told to: containers and CI machines often are root.)
lab: setup
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) book/

# Headless JupyterLab + Chromium: MyST renders, solutions collapsed, figures counted (screenshots in
# _build/lab-screenshots/); fails on error boxes, missing figures and glued values printed nowhere
# (LAB_CHECK_ARGS=--lenient only reports those).
lab-check: setup browser-deps
	$(PY) scripts/lab_check.py $(LAB_CHECK_ARGS)

execute: setup
	@if [ -z "$(NB)" ]; then echo "usage: make execute NB=book/NN_name.ipynb" >&2; exit 2; fi
	$(NB_ENV) $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
		--ExecutePreprocessor.record_timing=False $(NB)
	@echo "Re-executed $(NB). Check it with:"
	@echo "    $(NB_ENV) $(VENV)/bin/pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg $(NB)"

clean:
	rm -rf _build
