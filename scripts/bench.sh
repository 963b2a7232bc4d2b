#!/usr/bin/env bash
# Run the benchmarks and refresh README's Performance table.
# Usage: bash scripts/bench.sh [--quick] [--only analysis,memory]   (arguments go to bench/run_all.py)
# Every bench prints one JSON object; bench/run_all.py collects them into bench/results.json and
# bench/report.py writes the table between <!-- perf:start --> and <!-- perf:end --> in README.md
# (or prints it when the markers are missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
status=0
.venv/bin/python bench/run_all.py "$@" || status=$?
.venv/bin/python bench/report.py
exit "$status"
