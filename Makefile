# notis — two commands: `make run` (the local stack) and `make test` (the whole suite).
# Both create the virtualenv in .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: run test lint package clean bench

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt -e .
	touch $(STAMP)

run: $(STAMP)
	PORT=$(PORT) $(PY) -m notis_cli.stack

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The deployable CloudFormation (SAM) template and zip, from app.py + .chalice/resources.json; no AWS account
# needed. Deploy with the commands in docs/deploy.md.
OUT ?= out
package: $(STAMP)
	rm -rf $(OUT)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-north-1} $(VENV)/bin/chalice package --stage prod \
		--merge-template .chalice/resources.json $(OUT)
	$(VENV)/bin/cfn-lint $(OUT)/sam.json

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
