# Two commands do all set-up: `make lab` opens the course, `make test` runs every test.
# Each creates .venv (if missing) and installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is the CPU build. Here `torch==2.13.0` installs from a local CPU wheel; elsewhere run e.g.
#   make lab TORCH_SPEC=torch==2.5.1 TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed
# axe-core, injected into pages by the accessibility test (tests/test_browser_a11y.py): the npm package
# pinned in package-lock.json
AXE := node_modules/axe-core/axe.min.js
# JupyterLab refuses to run as root (containers, CI) unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: install sandbox hub-setup class-demo lab lab-instructor test test-fast test-a11y lint bench bench-grading checkpoints quizzes demo-class bundle clean-notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[dev]" $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
	# jsonschema imports rfc3987-syntax whenever it is installed (jupyter-events asks for it through
	# jsonschema[format-nongpl]), and that module builds an Earley parser at import: 1.6 s added to every
	# process that imports nbformat (each nbgrader command, grading worker and queue command). It checks
	# only the "iri" string format, which nothing here validates.
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	# the course runs offline: JupyterLab should not ask to fetch news
	mkdir -p $(VENV)/share/jupyter/lab/settings
	# and its file browser shows whole lesson names (no "Modified" column cutting them to "05_self_attenti...")
	echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"},' \
		'"@jupyterlab/filebrowser-extension:browser": {"showLastModifiedColumn": false}}' \
		> $(VENV)/share/jupyter/lab/settings/overrides.json
	# the browser tests (tests/test_browser.py) drive Debian's Chromium through Playwright, which never
	# downloads a browser of its own; as root on Debian/Ubuntu, install it when it is missing
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq chromium \
		|| echo 'WARNING: chromium could not be installed: the browser tests will skip (fail on CI)'; fi
	# the PostgreSQL gradebook and queue tests (tests/test_queue_*.py) start Debian's server on a socket
	@if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq postgresql \
		|| echo 'WARNING: postgresql could not be installed: the PostgreSQL tests will skip (fail on CI)'; fi
	$(MAKE) --no-print-directory sandbox
	$(MAKE) --no-print-directory hub-setup
	touch $@

# Grading runs every notebook in a bubblewrap sandbox (attnkit/grading/grader/sandbox.py) and refuses
# without one. As root on Debian/Ubuntu, install bubblewrap (and util-linux's setpriv/prlimit) when
# missing; the sandbox user is uid/gid 65534 (nobody/nogroup), present on every Debian system.
sandbox:
	@if ! command -v bwrap >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq bubblewrap util-linux \
		|| echo 'WARNING: bubblewrap could not be installed: grading will refuse to run'; fi
	@command -v bwrap >/dev/null || echo 'WARNING: no bwrap: grading refuses (apt-get install -y bubblewrap as root)'

install: $(STAMP) $(AXE)

# npm ci installs exactly package-lock.json into node_modules/ (nothing is fetched at test time); as
# root on Debian/Ubuntu, npm is installed when it is missing; without it the accessibility test skips
$(AXE): package-lock.json
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq npm || true; fi
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo 'WARNING: no npm: axe-core is not installed, the accessibility browser test will skip'; fi

# The class on JupyterHub (deploy/hub/, `make class-demo`, tests/test_hub_*.py) needs three things pip's
# resolver cannot give the course environment:
# - ngshare (the exchange service) in its own environment with SQLAlchemy<2 (with SQLAlchemy 2,
#   ngshare 0.6.0 answers "Successfully released" and stores nothing) and psycopg2 (its database is
#   one of the class's PostgreSQL server; SQLAlchemy 1.4 has no psycopg 3 driver);
# - ngshare-exchange (its nbgrader plug-in) without its dependencies: it pins jupyter_core<4.11.2,
#   which nbgrader 0.9 cannot use; it needs only rapidfuzz (in pyproject.toml) besides;
# - configurable-http-proxy, JupyterHub's proxy, from npm (deploy/hub/package-lock.json), and PostgreSQL.
NGSHARE_VENV := .venv-ngshare
hub-setup:
	@test -x $(NGSHARE_VENV)/bin/python || $(PYTHON) -m venv $(NGSHARE_VENV)
	$(NGSHARE_VENV)/bin/python -m pip install --quiet "ngshare==0.6.0" "sqlalchemy>=1.4,<2" "psycopg2-binary>=2.9,<3"
	$(BIN)/python -m pip install --quiet --no-deps "ngshare-exchange==0.5.3"
	@if command -v npm >/dev/null; then cd deploy/hub && npm ci --no-audit --no-fund --loglevel=error; \
		else echo 'WARNING: no npm: the class hub (make class-demo, tests/test_hub_*.py) cannot start its proxy'; fi
	@if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq postgresql \
		|| echo 'WARNING: PostgreSQL could not be installed: the hub tests will skip (fail on CI)'; fi

# The learners' JupyterLab: its settings (opens on lessons/, no news feed, nbgrader's instructor tools
# hidden) live in jupyter_config/learner/; tests/test_browser.py starts its server from this recipe.
lab: install
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter_config/learner" $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(ALLOW_ROOT)

# The same lab with nbgrader's menu, Create Assignment sidebar, Validate button and formgrader.
lab-instructor: install
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter_config/instructor:$(CURDIR)/jupyter_config/learner" $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(ALLOW_ROOT)

# A private --basetemp: pytest prunes old /tmp/pytest-of-$USER runs, including those of another
# pytest running at the same time, whose grading folders would then vanish mid-test.
test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 --basetemp="$$(mktemp -d)/pytest" $(PYTEST_ARGS)

# the inner loop: everything but the notebooks, nbgrader, JupyterLab and the browser (< 60 s)
test-fast: install
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow" --durations=10 --basetemp="$$(mktemp -d)/pytest" $(PYTEST_ARGS)

# the accessibility checks alone (all are part of make test too): figures' alt text and text size, axe-core
# on every lesson after Run All and on the pages the course writes; ATTNKIT_SCREENSHOTS=<dir> keeps pictures
test-a11y: install
	$(BIN)/python -m pytest -s --basetemp="$$(mktemp -d)/pytest" tests/test_accessibility.py tests/test_browser_a11y.py tests/test_report_browser.py tests/test_feedback_browser.py $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python benchmarks/bench_attention.py
	$(BIN)/python benchmarks/bench_parallelism.py
	$(BIN)/python benchmarks/bench_training.py

bench-grading: install
	$(BIN)/python benchmarks/bench_grading.py --workers 2 --also-workers 3

checkpoints: install
	$(BIN)/python scripts/make_checkpoints.py

# the quiz ids live in attnkit/grading/content/quizzes.py (one place)
QUIZ_IDS = $(shell $(BIN)/python -m attnkit.grading.content.quizzes)

# solutions/ from the readable sources in quizzes_src/, then the student releases in quizzes/
quizzes: install
	$(BIN)/python scripts/build_quiz_sources.py
	for q in $(QUIZ_IDS); do $(BIN)/nbgrader generate_assignment $$q --force || exit 1; done

demo-class: install
	$(BIN)/attnkit demo-class

# a class on this machine: PostgreSQL, the fake LMS, JupyterHub and its proxy, ngshare, a formgrader and a
# grading worker (attnkit queue worker) per course, all on 127.0.0.1 (ports 18100-18199); prints how to
# log in; Ctrl-C stops everything
class-demo: install
	$(BIN)/python -m attnkit.classroom.demo

# what a class receives: lessons, releases, the package; no solutions, hidden tests or answer key
bundle: install
	$(BIN)/attnkit bundle --out dist/attnkit-course.tar.gz

clean-notebooks: install
	$(BIN)/jupyter nbconvert --clear-output --inplace lessons/*.ipynb solutions/*/*.ipynb
