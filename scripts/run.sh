#!/usr/bin/env bash
# The run command: set up, train if the data changed, start everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
exec .venv/bin/python -m bot serve
