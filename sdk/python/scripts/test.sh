#!/usr/bin/env bash
# The Python SDK's whole test run, from a fresh clone: creates or refreshes
# sdk/python/.venv, type-checks the package (mypy --strict), then runs the
# SDK's tests (conformance vectors, stores, keyring, sandboxed HTTP, host,
# end to end against the emulator, the CLI, the wheel installed into a fresh
# venv) and the examples' tests.
# Needs python3 (3.11+) and go (to build the emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/venv.sh
.venv/bin/python -m mypy
# The Redis and PostgreSQL stores' tests need those servers: make test-platform runs them.
.venv/bin/python -m pytest -q -p no:cacheprovider tests --ignore=tests/test_shared_stores.py
.venv/bin/python -m pytest -q -p no:cacheprovider ../../examples/python
