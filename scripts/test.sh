#!/usr/bin/env bash
# Set up, then run the whole test suite (plus the lint and layer checks).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check sfxstudio tests bench
.venv/bin/lint-imports
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
