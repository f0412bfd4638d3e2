# Model Optimization: Principles and Practice -- set-up, course run and tests.
# `make course` and `make test` create the virtual environment (.venv) on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-from-lock
NB     ?=
# `make course` and `make regression` run one notebook at a time, so that each notebook's
# seconds are its own; `make test` runs two at a time (measured on 2 cores: 430 s instead of
# 645 s), which is also the test that the speed claims hold on a busy machine.
JOBS   ?= 1
CHECK_JOBS ?= 2
PROFILE ?= default

.PHONY: help course test lint unit check regression baselines lab execute assignments grade \
	lock clean

help:
	@echo "make course    run every notebook with papermill into build/, print a metrics table,"
	@echo "               check the metrics against the baselines, write build/index.html"
	@echo "make test      ruff, unit tests, then every notebook executed once: outputs compared"
	@echo "               with the committed ones, metrics checked against the baselines"
	@echo "make regression [PROFILE=full]   run a profile and check its baselines"
	@echo "make baselines [PROFILE=default]  rewrite that profile's baselines from a run"
	@echo "make lab       JupyterLab on the course notebooks"
	@echo "make execute NB=notebooks/01_gradient_descent.ipynb   re-execute one notebook in place"
	@echo "make assignments  nbgrader release versions of every notebook (solutions and hidden"
	@echo "               tests removed, outputs cleared) into build/assignments/release/"
	@echo "make grade SUBMISSIONS=dir [JOBS=2]  autograde dir/<student>/<notebook>.ipynb with"
	@echo "               nbgrader: build/grades/grades.csv and feedback HTML per student"
	@echo "make lock      re-pin requirements.txt from pyproject.toml (needs the network)"

# The environment is (re)built whenever the lock or the package metadata changes.
$(STAMP): requirements.txt requirements-no-deps.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
		"Python 3.11 or newer is needed; run: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-no-deps.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

course: $(STAMP)
	$(BIN)/python -m course_tools run --profile default --report --out build

test: lint unit check

lint: $(STAMP)
	$(BIN)/ruff check course_lib course_tools tests notebooks

# Two workers, a test file each at a time (so a file's module fixture runs once): most of the
# slow tests wait on kernels that start, so two at once save about a quarter (109 s -> 82 s).
unit: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

# The one execution of every notebook in `make test`: each runs at its committed parameters,
# its outputs are compared with the committed ones (cells tagged nbval-ignore-output excepted),
# and its metrics are checked against the default baselines.
check: $(STAMP)
	$(BIN)/python -m course_tools run --profile default --compare-outputs -j $(CHECK_JOBS) \
		--out build/check

regression: $(STAMP)
	$(BIN)/python -m course_tools run --profile $(PROFILE) -j $(JOBS) --report --out build/$(PROFILE)

baselines: $(STAMP)
	$(BIN)/python -m course_tools run --profile $(PROFILE) -j $(JOBS) --update-baselines \
		--out build/$(PROFILE)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

execute: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make execute NB=notebooks/NN_slug.ipynb"; exit 2; }
	$(BIN)/python -m course_tools execute $(NB)

assignments: $(STAMP)
	$(BIN)/python -m course_tools assignments --out build/assignments

SUBMISSIONS ?=
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir [JOBS=2]"; exit 2; }
	$(BIN)/python -m course_tools grade $(SUBMISSIONS) -j $(JOBS) --out build/grades

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra test --extra lock --universal \
		--python-version 3.11 --fork-strategy fewest --generate-hashes -c constraints.txt \
		-o requirements.txt

clean:
	rm -rf build .pytest_cache .ruff_cache
