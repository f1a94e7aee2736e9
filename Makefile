# graphrec: install into .venv, run the tests, run the demo.
PYTHON     ?= python3
VENV       ?= .venv
# CPU wheel by default; GPU users: make install TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
TORCH_SPEC ?= torch==2.13.0
DATA_DIR   ?= $(if $(GRAPHREC_DATA),$(GRAPHREC_DATA),../shared/data/ml-100k)

PY    := $(VENV)/bin/python
PIP   := $(PY) -m pip
STAMP := $(VENV)/.graphrec-installed

.PHONY: install test browser demo bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q $(TORCH_SPEC)
	# torch-cluster has no PyPI wheel: build it against the installed torch (pip caches the result)
	$(PY) -c "import torch_cluster" 2>/dev/null || { $(PIP) install -q ninja && \
	  MAX_JOBS=$$(nproc) $(PIP) install --no-build-isolation torch-cluster; }
	$(PIP) install -q -e ".[dev,bench,baselines,serve]"
	touch $(STAMP)

test: install browser
	GRAPHREC_DATA=$(DATA_DIR) $(PY) -m pytest -q -n 2

# The browser test of graphrec serve drives the system Chromium: install it and its driver from the system
# packages when missing and apt is usable (root); otherwise that one test skips and says why.
browser:
	@if ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && apt-get install -y -qq chromium chromium-driver; } || \
	      echo "graphrec: could not install chromium chromium-driver: the browser test will skip"; \
	  else echo "graphrec: no chromium/chromedriver and no usable apt (not root): the browser test will skip"; fi; \
	fi

demo: install
	GRAPHREC_DATA=$(DATA_DIR) $(PY) scripts/demo.py

bench: install
	GRAPHREC_DATA=$(DATA_DIR) $(PY) -m graphrec benchmark --suite data

clean:
	rm -rf $(VENV) runs results *.egg-info
