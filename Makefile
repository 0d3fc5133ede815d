# Two commands on a fresh clone:  make demo   |   make test
# Everything runs from the project's own virtual environment, which these targets create and fill.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := sample_db/retail.sqlite
SAMPLE_URL := sqlite:///$(SAMPLE)
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: setup sample demo test fuzz browser bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name workbench --display-name "Workbench (.venv)" >/dev/null
	touch $(STAMP)

sample: $(SAMPLE)

$(SAMPLE): $(STAMP) $(wildcard workbench/sample/*.py)
	$(BIN)/workbench sample build --out $(SAMPLE)

demo: setup sample
	$(BIN)/workbench report --config engagement.example.yaml --out reports/sample
	@echo "report: reports/sample/index.html"

# The report's browser tests need Debian's chromium; install it where we may (root), as CI does.
# The explorer's browser test drives the same chromium with Playwright (a dev dependency): no browser download.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: chromium not installed; browser tests will skip (fail under CI=true)"; }

test: setup sample browser
	$(BIN)/ruff check workbench tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --nbval-lax --nbval-kernel-name workbench \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks/

# The property tests of `make test` (tests/test_fuzz_*.py) with many more examples, random each run;
# what they find is kept in .hypothesis/ and replayed first next time.
fuzz: setup sample
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -m fuzz --hypothesis-show-statistics tests/

bench: setup sample
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(SAMPLE) reports/sample .pytest_cache
