# Two commands do everything on a fresh clone: `make build` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# Extra raw folders (e.g. RAW_EXTRA=../shared/corpus); never copied into raw/.
RAW_EXTRA ?=

.PHONY: build test venv clean-venv bench bench-compare

# The stamp is rebuilt only when pyproject.toml changes, so a second `make build` skips pip.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

build: venv
	$(PY) -m pipeline build $(foreach d,$(RAW_EXTRA),--raw $(d))

# One worker per core, each test file on one worker (its module fixtures built once);
# `.venv/bin/python -m pytest` alone runs it serially.
test: venv
	$(PY) -m pytest -n auto --dist loadfile

# Synthetic archives of growing size (bench/README.md); minutes at 10,000 documents.
# `make bench SIZES=10,100 REPEAT=1` for a quick run.
bench: venv
	$(PY) bench/run.py $(if $(SIZES),--sizes $(SIZES)) $(if $(REPEAT),--repeat $(REPEAT))

# This code against another revision on one archive, builds alternating (bench/compare.py):
# `make bench-compare REV=9786fbe` (1,000 documents), `DOCS=200 REPEAT=3` to change them.
bench-compare: venv
	$(PY) bench/compare.py --rev $(REV) $(if $(DOCS),--docs $(DOCS)) $(if $(REPEAT),--repeat $(REPEAT))

clean-venv:
	rm -rf $(VENV)
