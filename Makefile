# ftnb — the two set-up commands are `make demo` and `make test`; both work from a fresh clone. `make lab` opens the chapters.
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
SMOKE_ENV := FTNB_SMOKE=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

.PHONY: install demo test sync readme export clean-nbs docs bench mpi browser lab postgres

# A CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
$(BIN)/.installed: setup.py settings.ini
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -U pip
	$(BIN)/pip install -q --disable-pip-version-check "$(TORCH)"
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev,offline]"
	touch $@

install: $(BIN)/.installed

# JupyterLab (the `lab` extra) in the same venv; tests/test_lab.py needs it too, so `make test` installs it.
$(BIN)/.lab-installed: $(BIN)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev,offline,lab]"
	touch $@

# The chapters (nbs/) in JupyterLab, on 127.0.0.1 only (open the URL with the token that it prints). The notebooks'
# `python3` kernel is this venv's python (it imports ftnb); kernels start in nbs/, as `nbdev_test` runs them.
# The full profile (the real embedded model and data, minutes per chapter on a CPU) is the default;
# `make lab FTNB_SMOKE=1` gives the seconds-long smoke profile CI runs. HF_HUB_OFFLINE=1 unless you set it (the
# embedded defaults need no hub). Nothing else leaves the machine: no news feed, update check or extension listing.
# More `jupyter lab` options: `make lab LAB_ARGS='--port=8890 --no-browser'`.
LAB_ARGS ?=
lab: $(BIN)/.lab-installed
	@echo "make lab: $$( [ -n "$$FTNB_SMOKE" ] && echo 'smoke profile (FTNB_SMOKE=1)' || echo 'full profile (make lab FTNB_SMOKE=1 for the smoke one)'), HF_HUB_OFFLINE=$${HF_HUB_OFFLINE-1}"
	HF_HUB_OFFLINE=$${HF_HUB_OFFLINE-1} TOKENIZERS_PARALLELISM=$${TOKENIZERS_PARALLELISM-false} JUPYTER_PREFER_ENV_PATH=1 \
	  $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=nbs \
	  --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate --LabApp.extension_manager=readonly \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(LAB_ARGS)

# Multi-process CPU training under `accelerate launch` uses OpenMPI (Debian's openmpi-bin).
mpi:
	@command -v mpirun >/dev/null || { echo "installing openmpi-bin"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openmpi-bin >/dev/null) \
	  || echo "could not install openmpi-bin: the 2-process test will be skipped"; }

# The shared-search test (tests/test_shared_tune.py) starts a real PostgreSQL server (Debian's `postgresql`).
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "installing postgresql"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "could not install postgresql: tests/test_shared_tune.py will skip its PostgreSQL test"; }

# The docs test (tests/test_docs.py) opens the built site in headless Chromium (Debian's `chromium`).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || { \
	  echo "installing chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "could not install chromium: tests/test_docs.py will skip its browser tests"; }

demo: install
	HF_HUB_OFFLINE=1 $(BIN)/ftnb train --output-dir runs/demo

# The notebooks and ftnb/ (and README.md) must be in sync: exporting must change nothing.
sync: install
	@snap() { find ftnb -name '*.py' | sort | xargs md5sum; md5sum README.md; }; \
	before=$$(snap); $(BIN)/nbdev_export && $(BIN)/python docs/make_readme.py; after=$$(snap); \
	if [ "$$before" != "$$after" ]; then diff <(echo "$$before") <(echo "$$after"); \
	  echo "out of sync: nbdev_export/make_readme changed the files above; commit them with their notebooks"; exit 1; fi
	@echo "notebooks, ftnb/ and README.md are in sync"

# Every `make test` starts from an empty ftnb and datasets cache, as a new user's first run does (the ranks of
# `accelerate launch` then build the smoke model and data at the same moment). FTNB_TEST_CACHE=folder reuses one.
# Two pytest workers (pytest-xdist), a test file each at a time, one thread per process: 2 cores kept busy without
# oversubscribed OpenMP threads (on a 2-core AMD EPYC: 533 s instead of 912 s). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: install $(BIN)/.lab-installed mpi browser postgres sync
	@cache="$${FTNB_TEST_CACHE:-$$(mktemp -d -t ftnb-test-cache.XXXXXX)}"; \
	if [ -n "$$FTNB_TEST_CACHE" ]; then echo "make test: reusing FTNB_CACHE=$$cache"; else echo "make test: empty FTNB_CACHE=$$cache (removed afterwards)"; fi; \
	FTNB_CACHE="$$cache" HF_DATASETS_CACHE="$$cache/hf-datasets" $(SMOKE_ENV) OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} \
	  $(BIN)/python -m pytest tests/ -p no:cacheprovider --durations=0 -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile); rc=$$?; \
	[ -n "$$FTNB_TEST_CACHE" ] || rm -rf "$$cache"; exit $$rc

export: install
	$(BIN)/nbdev_export && $(BIN)/python docs/make_readme.py

clean-nbs: install
	$(BIN)/nbdev_clean

docs: install
	$(BIN)/python docs/build.py

bench: install
	$(BIN)/python bench/run_all.py
