# The two commands of the README:  `make run` (train the default model)  and  `make test`.
# Both create .venv on first use and reinstall only when pyproject.toml changes.
#
# torch: a torch that $(PYTHON) can already import (e.g. the CUDA build a GPU user installed
# first) is reused through a .pth file; otherwise the CPU wheel $(TORCH) is installed before
# anything else, so no dependency can pull a multi-GB CUDA build on a CPU machine.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
PY     := $(VENV)/bin/python

.PHONY: run test lint catalog clean-venv

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@torch_site=$$($(PYTHON) -c "import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))" 2>/dev/null); \
	if [ -n "$$torch_site" ]; then \
	  echo "reusing torch from $$torch_site"; \
	  echo "$$torch_site" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/zz_reuse_torch.pth"; \
	elif ! $(PY) -c "import torch" 2>/dev/null; then \
	  $(PY) -m pip install --disable-pip-version-check "$(TORCH)"; \
	fi
	$(PY) -m pip install --disable-pip-version-check -e ".[dev]"
	@touch $@

run: $(VENV)/.installed
	$(PY) -m lightning_app fit --config lightning_app/configs/mlp_digits.yaml

test: $(VENV)/.installed
	$(PY) -m pytest -n auto

lint: $(VENV)/.installed
	$(PY) -m ruff check .

catalog: $(VENV)/.installed
	$(PY) -m torchref.catalog

clean-venv:
	rm -rf $(VENV)
