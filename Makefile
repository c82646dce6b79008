# The two commands of the README:
#   make run    install what is needed, then run the workflow on config.yaml
#   make test   install what is needed, then run the test suite (CI calls this)
PYTHON ?= python3
SNAKEMAKE_ARGS ?= --cores all

.PHONY: install run test lint

# A CPU-only machine gets the pinned CPU wheel of torch (constraints/cpu.txt);
# a machine that already has torch (e.g. a CUDA build) keeps it untouched.
install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -c constraints/cpu.txt torch
	$(PYTHON) -m pip install -e ".[test]"

run: install
	$(PYTHON) -m snakemake $(SNAKEMAKE_ARGS)

test: install
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m snakemake --lint
