# eventapp — the README's commands. Needs Python 3.11+; everything else is installed into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 4
# Fictional participants registered with the demo event on first start (0 for none).
DEMO_PARTICIPANTS ?= 60
export FLASK_APP := eventapp
# The Nu HTML Checker for the HTML validity test: the npm package vnu-jar (runs on java 11+).
VNU_VERSION := 26.9.27
VNU_JAR := $(VENV)/vnu/node_modules/vnu-jar/build/dist/vnu.jar

.PHONY: compile-translations run serve test bench lint format translations migration check-system clean vendor

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "eventapp needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

compile-translations: | $(BIN)/python
	@$(BIN)/pybabel compile -d eventapp/translations 2>/dev/null || $(BIN)/pybabel compile -d eventapp/translations

check-system: $(VENV)/.installed
	@$(BIN)/python -m eventapp.cli.syscheck

# Links in mails and from the worker point at the server started here, unless an address is given.
run serve: export EVENTAPP_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

## make run: install, migrate, load the demo Innovationstag (with 60 participants) on first start,
## serve on http://$(HOST):$(PORT) with the worker (mail, change notices, print jobs) beside it;
## Ctrl-C stops both
run: $(VENV)/.installed compile-translations check-system
	$(BIN)/eventapp db upgrade
	$(BIN)/eventapp seed-demo --if-empty --participants $(DEMO_PARTICIPANTS)
	$(BIN)/python -m eventapp.cli.supervise $(BIN)/eventapp run --host $(HOST) --port $(PORT)

## make serve: the same app under gunicorn with several workers, and the worker beside it
serve: $(VENV)/.installed compile-translations check-system
	$(BIN)/eventapp db upgrade
	$(BIN)/eventapp seed-demo --if-empty --participants $(DEMO_PARTICIPANTS)
	$(BIN)/python -m eventapp.cli.supervise $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - --logger-class eventapp.log_redaction.RedactingLogger 'eventapp:create_app()'

$(VNU_JAR): | $(BIN)/python
	@if command -v npm >/dev/null; then \
	  npm install --no-save --no-audit --no-fund --silent --prefix $(VENV)/vnu vnu-jar@$(VNU_VERSION); \
	else echo "npm not found: the HTML validity test cannot run (apt-get install npm default-jre-headless)"; fi

## make test: install test dependencies (and the Nu HTML Checker) and run the suite
test: $(VENV)/.installed-test compile-translations $(VNU_JAR)
	$(BIN)/pytest $(PYTEST_ARGS)

## make bench: benchmarks, printed as a table
bench: $(VENV)/.installed-test compile-translations
	$(BIN)/python -m bench $(BENCH)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check eventapp tests bench
	$(BIN)/ruff format --check eventapp tests bench

format: $(VENV)/.installed-test
	$(BIN)/ruff format eventapp tests bench
	$(BIN)/ruff check --fix eventapp tests bench

## make translations: extract strings and update the English catalogue
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o eventapp/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i eventapp/translations/messages.pot -d eventapp/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d eventapp/translations

## make migration MESSAGE="what changes": a new schema migration from the models, on top of the others
migration: $(VENV)/.installed
	$(BIN)/python -m eventapp.migrations.new_revision "$(MESSAGE)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

## make vendor: refresh the vendored browser libraries from npm (needs node/npm): the Redoc build
## behind /api/v1/docs (static/vendor/redoc/) and jsQR, the QR decoder of the desk's camera
## (static/vendor/jsqr/). The committed files are what the app serves; it never loads them from a CDN.
REDOC_VERSION ?= 2.5.4
JSQR_VERSION ?= 1.4.0
vendor:
	rm -rf .vendor-build && mkdir -p .vendor-build static/vendor/redoc
	cd .vendor-build && npm pack --silent redoc@$(REDOC_VERSION) && tar xzf redoc-$(REDOC_VERSION).tgz
	cp .vendor-build/package/bundles/redoc.standalone.js static/vendor/redoc/redoc.standalone.js
	cp .vendor-build/package/bundles/redoc.standalone.js.LICENSE.txt static/vendor/redoc/THIRD-PARTY-LICENSES.txt
	cp .vendor-build/package/LICENSE static/vendor/redoc/LICENSE
	echo "redoc $(REDOC_VERSION) (npm), bundles/redoc.standalone.js" > static/vendor/redoc/VERSION
	mkdir -p static/vendor/jsqr
	cd .vendor-build && npm pack --silent jsqr@$(JSQR_VERSION) && mkdir jsqr && tar xzf jsqr-$(JSQR_VERSION).tgz -C jsqr
	cp .vendor-build/jsqr/package/dist/jsQR.js static/vendor/jsqr/jsQR.js
	cp .vendor-build/jsqr/package/LICENSE static/vendor/jsqr/LICENSE
	echo "jsqr $(JSQR_VERSION) (npm), dist/jsQR.js" > static/vendor/jsqr/VERSION
	rm -rf .vendor-build
