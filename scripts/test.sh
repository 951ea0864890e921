#!/usr/bin/env bash
# The test command: set up, train if the data changed, validate the data,
# run the Rasa conversation tests, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
scripts/browser.sh
scripts/haproxy.sh

echo "== Training (skipped when a model fits the data)"
model="$(.venv/bin/python -m bot train | tail -n 1)"

echo "== rasa data validate"
.venv/bin/rasa data validate --fail-on-warnings --config config.yml --domain domain --data nlu_data

echo "== Rasa conversation tests (tests/test_stories.yml)"
rm -rf var/test-results
.venv/bin/rasa test core --model "$model" --stories tests/test_stories.yml \
  --fail-on-prediction-errors --out var/test-results/core

echo "== pytest"
.venv/bin/python -m pytest "$@"
