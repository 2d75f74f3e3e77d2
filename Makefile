# notis — two commands: `make run` (the local stack) and `make test` (the whole suite).
# Both create the virtualenv in .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: run test lint package clean bench browser-deps letter-deps letter-screenshot screenshots

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

run: $(STAMP)
	PORT=$(PORT) $(PY) -m notis_cli.stack

test: $(STAMP) browser-deps letter-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The deployable CloudFormation (SAM) template and zip, from app.py + .chalice/resources.json; no AWS account
# needed. notis_cli.prebuild then adds every answer of the page (the API function serves them without Chalice,
# Jinja, Markdown or YAML) and the modules' bytecode to the zip. Deploy with the commands in docs/deploy.md.
OUT ?= out
package: $(STAMP)
	rm -rf $(OUT)
	$(PY) -m notis_cli.precompile
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-north-1} $(VENV)/bin/chalice package --stage prod \
		--merge-template .chalice/resources.json $(OUT)
	$(PY) -m notis_cli.prebuild $(OUT)
	$(VENV)/bin/cfn-lint $(OUT)/sam.json

# The benchmarks (bench/README.md: what each measures, and the figures). The page's measures the zip `make package`
# builds, so it is built first. A missed goal is printed and the next bench still runs.
bench: package
	-$(PY) bench/page.py
	-$(PY) bench/import.py --rows 100000
	-$(PY) bench/send.py --seconds 20
	-$(PY) bench/stack.py

# local-data/: the local stack's kept AWS state and its log (make run starts empty afterwards).
clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis local-data

# Browser tests (tests/browser/): Debian's Chromium + ChromeDriver, and axe-core from npm (package-lock.json);
# the spam-filter test (tests/test_mail_spam.py): Debian's spamassassin with its offline rules.
# Installs without prompts on a fresh CI machine (as root, or through sudo otherwise); never downloads a browser.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
AXE := node_modules/axe-core/axe.min.js

browser-deps: $(AXE)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || [ ! -x /usr/bin/spamassassin ]; then \
	  echo "installing Debian's chromium, chromium-driver and spamassassin for the browser and spam-filter tests"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    chromium chromium-driver spamassassin; \
	fi

# Letters (`notis letters --pdf`, tests/test_letters_pdf.py): the DejaVu Sans font that fpdf2 embeds, and
# pdftoppm for `make letter-screenshot`; Debian packages, installed without prompts like the browser's.
DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
letter-deps:
	@if [ ! -f $(DEJAVU) ] || [ ! -x /usr/bin/pdftoppm ]; then \
	  echo "installing Debian's fonts-dejavu-core and poppler-utils for the letters"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    fonts-dejavu-core poppler-utils; \
	fi

# Rewrite docs/screenshots/letter-sv.png: page one of a made-up letter, as pdftoppm renders it.
letter-screenshot: $(STAMP) letter-deps
	$(PY) bench/letters.py --people 1 --sample $(OUT)/letter-sample.pdf
	pdftoppm -png -r 70 -f 1 -l 1 -singlefile $(OUT)/letter-sample.pdf docs/screenshots/letter-sv

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Rewrite the committed screenshots (docs/screenshots/: sv/en at 375 and 1280 px, full page; print-sv.pdf; the
# /verify answers at 375 px, genuine and typo).
screenshots: $(STAMP) browser-deps
	NOTIS_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/browser/test_browser_layout.py tests/browser/test_browser_print.py \
		tests/browser/test_browser_verify.py
