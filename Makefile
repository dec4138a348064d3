# One place for the project's commands. `make install` then `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install typing-path system-deps test lint typecheck bench schema docs snapshots clean nemo-catalog

install: system-deps  ## create .venv with everything (CPU torch pinned: it installs from a local wheel)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0" -e ".[all]"
	$(MAKE) typing-path

typing-path:  ## a link tree of the package on the venv's path, so mypy and editors find `specc` and its py.typed (they cannot follow the editable install's import hook)
	rm -rf $(VENV)/specc-typing && mkdir -p $(VENV)/specc-typing/specc
	for f in specc/*; do ln -s "$$PWD/$$f" $(VENV)/specc-typing/specc/; done
	for d in spec compiler runtime tui; do ln -s "$$PWD/$$d" $(VENV)/specc-typing/specc/$$d; done
	$(BIN)/python -c "import os, sysconfig; open(os.path.join(sysconfig.get_path('purelib'), 'specc-typing.pth'), 'w').write(os.path.abspath('$(VENV)/specc-typing') + '\\n')"

system-deps:  ## Debian packages the tests drive: Chromium (the report), zsh and fish (completion)
	@missing=""; for c in chromium zsh fish; do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
	  { $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; fi

test:  ## the whole suite (what CI runs)
	$(BIN)/python -m pytest -q

lint:  ## ruff + mypy
	$(BIN)/ruff check .
	$(MAKE) typecheck

typecheck:  ## mypy over the package as it is imported (specc.spec, specc.compiler, ...) and the tests
	rm -rf .typecheck && mkdir -p .typecheck/specc
	for f in specc/*; do ln -s "$$PWD/$$f" .typecheck/specc/; done
	for d in spec compiler runtime tui; do ln -s "$$PWD/$$d" .typecheck/specc/$$d; done
	cd .typecheck && ../$(BIN)/mypy --config-file ../pyproject.toml -p specc
	cd .typecheck && ../$(BIN)/mypy --config-file ../pyproject.toml ../tests

bench:  ## benchmarks whose figures the README quotes
	$(BIN)/python benchmarks/validate_speed.py
	$(BIN)/python benchmarks/plan_speed.py
	$(BIN)/python benchmarks/memory_accuracy.py
	$(BIN)/python benchmarks/run_overhead.py
	$(BIN)/python benchmarks/tui_startup.py
	$(BIN)/python benchmarks/report_speed.py
	$(BIN)/python benchmarks/backends_compare.py

schema:  ## regenerate the exported JSON Schema
	$(BIN)/specc schema --output docs/spec.schema.json

docs:  ## regenerate docs/spec.schema.json, docs/reference.md, docs/codes/ and spec/code_help.json
	$(BIN)/python -m specc.docgen

snapshots:  ## regenerate the TUI's SVG snapshots in tests/__snapshots__/ (review before committing)
	$(BIN)/python -m pytest tests/test_tui_snapshots.py --snapshot-update

clean:
	rm -rf .typecheck .mypy_cache .ruff_cache .pytest_cache build *.egg-info

NEMO_RL ?= ../shared/corpora/nemo-rl
NEMO_RL_COMMIT ?= 7ea279abfbeb698b092856d0dab61e7cf39bc909
nemo-catalog:  ## regenerate spec/nemo/catalog.json from a NeMo RL checkout (see docs/nemo-rl.md)
	$(BIN)/python -m specc.spec.nemo.generate $(NEMO_RL)/nemo_rl --commit $(NEMO_RL_COMMIT)
