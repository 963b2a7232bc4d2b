#!/usr/bin/env bash
# Set up, then run the built-in demo end to end (demo video, demo model, default sounds).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/sfxstudio demo --out "${1:-demo_out}"
