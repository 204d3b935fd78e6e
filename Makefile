# Two set-up commands: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck install fonts assets bench translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) fonts assets

# The designer studio's editors (bpmn-js, dmn-js, form-js): installed from the npm registry at the versions
# web/assets/package-lock.json pins and bundled into web/static/build/, which the app serves (no CDN).
# Node.js and npm come from Debian when missing (as root).
ASSETS := web/static/build/studio-lib.js
assets: $(ASSETS)
$(ASSETS): web/assets/package-lock.json web/assets/build.mjs $(wildcard web/assets/src/*)
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null); } || \
	  { echo "install Node.js and npm to build the designer studio's editors"; exit 1; }
	cd web/assets && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && node build.mjs

# The CJK fonts printed documents embed (services/platform/documents.py): Debian packages, installed
# with apt-get when missing (as root, or with password-less sudo); otherwise say how.
FONT_PACKAGES := fonts-arphic-uming fonts-wqy-microhei
fonts:
	@if fc-list : family 2>/dev/null | grep -q "AR PL UMing CN" && fc-list : family | grep -q "WenQuanYi Micro Hei"; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "installing the document fonts ($(FONT_PACKAGES))"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig $(FONT_PACKAGES) >/dev/null) \
	  || echo "warning: could not install $(FONT_PACKAGES); printed documents will be refused"; \
	elif command -v apt-get >/dev/null && sudo -n true 2>/dev/null; then \
	  sudo -n sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fontconfig $(FONT_PACKAGES)" >/dev/null \
	  || echo "warning: could not install $(FONT_PACKAGES); printed documents will be refused"; \
	else echo "warning: install the fonts $(FONT_PACKAGES) (Debian) for printed documents"; fi

run: install
	$(BIN)/banjian db-upgrade
	$(BIN)/banjian deploy
	$(BIN)/banjian demo
	$(BIN)/banjian serve --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# The suite runs in parallel pytest-xdist workers, one per core (at most 4), each with databases of its
# own (tests/conftest.py); the tests of a file go to one worker together, a group marked xdist_group
# (the browser tests) to one worker too. PYTEST_ARGS is passed on last: `-n 0` or `-p no:xdist` runs
# the suite in one process, as before.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -gt 4 ] && n=4; echo $$n)
XDIST_ARGS := $(if $(findstring no:xdist,$(PYTEST_ARGS)),,-n $(TEST_WORKERS) --dist loadgroup)

test: install lint typecheck
	$(BIN)/python -m pytest $(XDIST_ARGS) $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/reminder_scan.py

translations: install
	$(BIN)/python -m web.pages.catalogue
