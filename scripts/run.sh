#!/usr/bin/env bash
# The run command: set up, train if the data changed, start everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
if [ "${RASA_INSTANCES:-1}" != 1 ]; then scripts/haproxy.sh; fi
exec .venv/bin/python -m bot serve
