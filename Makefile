# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: demo test serve seed lint format bench clean widget synth package deploy

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

## test: install everything the tests need (pip packages, Debian's gdal-bin and chromium, the
## widget's npm packages), build the widget, lint, and run the whole suite
test: $(VENV)/.dev
	bash scripts/install-system-deps.sh
	$(MAKE) --no-print-directory widget
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

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
	rm -rf $(VENV) .data .pytest_cache .ruff_cache widget/dist widget/node_modules infra/build
