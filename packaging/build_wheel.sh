#!/usr/bin/env bash
# Build a wheel and an sdist into dist/ (models/ and sounds/ travel in the sdist; see README).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install -q build
.venv/bin/python -m build --outdir dist .
