# The two commands of the README: `make demo` and `make test`. Everything else is a helper
# (`make test-e2e` and `make test-aws` are the suite's outer rings; .ci/run runs all three).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: demo test test-e2e test-aws serve seed lint format bench clean widget synth package deploy

STAGE ?= dev

# Runtime install: what the service needs (requirements.txt) plus the `mikrokort` command.
$(VENV)/.runtime: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -e .
	touch $@

# Test install: the runtime plus test tools, and GDAL from Debian.
$(VENV)/.dev: $(VENV)/.runtime dev-requirements.txt
	$(BIN)/python -m pip install -q -r dev-requirements.txt
	touch $@

# The map widget (widget/): `npm ci` from the lock file, then esbuild into widget/dist/ (build
# output, not committed). Each step reruns only when its inputs changed.
WIDGET_SRC := $(wildcard widget/src/*) widget/build.mjs widget/package.json widget/package-lock.json

widget/node_modules/.mikrokort-ci: widget/package.json widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund --loglevel=error
	touch $@

widget/dist/.built: widget/node_modules/.mikrokort-ci $(WIDGET_SRC)
	cd widget && npm run -s build
	touch $@

## widget: build the embeddable map (widget/dist/mikrokort.js and .css)
widget: widget/dist/.built

## demo: create the venv, install, build the widget, seed the demo data, serve on 127.0.0.1:$(PORT)
demo: $(VENV)/.runtime widget
	$(BIN)/mikrokort seed --demo
	$(BIN)/mikrokort serve --port $(PORT)

# dynalite (npm), the DynamoDB server of the fast ring: it indexes GSIs, so a Query costs what
# its page costs. Installed under a gitignored folder.
DYNALITE := tests/.dynalite/node_modules/.bin/dynalite
$(DYNALITE):
	bash scripts/install-system-deps.sh node
	npm install --no-audit --no-fund --loglevel=error --prefix tests/.dynalite dynalite@4.0.0
	touch $@

# checkov (PyPI) in a venv of its own: its many pinned dependencies never touch the project's.
# tests/infra/test_checkov.py runs it over the synthesized templates.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: infra/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q -r infra/requirements-checkov.txt
	touch $@

# One ring of the suite: pytest with these arguments; "no tests collected" (exit 5) is no failure.
ring = $(BIN)/python -m pytest $(1) || [ $$? -eq 5 ]

## test: the fast ring: unit tests, the store contract on SQLite and on DynamoDB (dynalite), the
## API in-process, intake against its stand-in servers; installs what it needs, lints first
test: $(VENV)/.dev $(DYNALITE) $(CHECKOV_VENV)/.installed
	bash scripts/install-system-deps.sh node
	$(MAKE) --no-print-directory widget
	$(BIN)/ruff check .
	$(call ring,-m "not e2e and not aws")

## test-e2e: the real `mikrokort serve` over TCP, GDAL (ogrinfo/ogr2ogr), OWSLib, ogctests,
## schemathesis, the widget in Debian's chromium, the commands as commands
test-e2e: $(VENV)/.dev $(DYNALITE)
	bash scripts/install-system-deps.sh e2e
	$(MAKE) --no-print-directory widget
	$(call ring,-m e2e)

## test-aws: DynamoDB, S3, SSM and Secrets Manager through boto3 on moto's server on 127.0.0.1:
## conditional writes, S3 multipart, the functions under their IAM policies, the no-Scan count,
## the production path on DynamoDB and S3 (with the widget in chromium)
test-aws: $(VENV)/.dev
	bash scripts/install-system-deps.sh e2e
	$(MAKE) --no-print-directory widget
	$(call ring,-m aws --dynamodb-server=moto)

serve: $(VENV)/.runtime
	$(BIN)/mikrokort serve --port $(PORT)

seed: $(VENV)/.runtime
	$(BIN)/mikrokort seed --demo

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .

## bench: the benchmarks of docs/BENCHMARKS.md (slow; prints figures, asserts nothing)
bench: $(VENV)/.dev widget
	$(BIN)/python bench/bbox_queries.py
	$(BIN)/python bench/dynamodb_viewports.py
	$(BIN)/python bench/cvr_refresh.py
	$(BIN)/python bench/snapshot.py
	$(BIN)/python bench/matchmaking.py
	$(BIN)/python bench/widget.py
	$(BIN)/python bench/package.py

## synth: write the CloudFormation templates of dev and prod (infra/build/STAGE/sam.json), offline
synth: $(VENV)/.runtime
	$(BIN)/python -m infra.synth --stage dev
	$(BIN)/python -m infra.synth --stage prod

## package: build the Lambda package infra/build/deployment.zip (needs PyPI, about a minute)
package: $(VENV)/.runtime widget
	$(BIN)/python -m infra.package --stage $(STAGE)

## deploy: package, synthesize and deploy STAGE=dev|prod with the AWS CLI (needs ARTIFACT_BUCKET)
deploy: package
	$(BIN)/python -m infra.synth --stage $(STAGE)
	bash infra/deploy.sh $(STAGE)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .data tests/.dynalite .pytest_cache .ruff_cache widget/dist widget/node_modules infra/build
