#!/usr/bin/env bash
# Creates (or refreshes) sdk/python/.venv with the pinned tools and the
# package installed in editable mode, so that a fresh machine needs nothing
# by hand. Fast when nothing changed: a stamp remembers the inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3.12 python3.13 python3; do
    if command -v "$c" >/dev/null 2>&1; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "venv.sh: no python3 found" >&2; exit 1; }
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "venv.sh: $PY is $("$PY" --version 2>&1); the package needs Python 3.11 or later (set PYTHON=...)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi

stamp=.venv/.deviceflow-stamp
want=$("$PY" -c 'import hashlib,sys; h=hashlib.sha256(); [h.update(open(f,"rb").read()) for f in sys.argv[1:]]; print(h.hexdigest())' \
  requirements-dev.txt pyproject.toml hatch_build.py ../../plugin/deviceflow.wasm)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f src/deviceflow/deviceflow.wasm ]; then
  exit 0
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
# The runtime's wheels, for the test that installs the built wheel into a
# fresh virtual environment without asking an index.
.venv/bin/python -m pip download --quiet --disable-pip-version-check --only-binary :all: --dest .wheelhouse \
  extism==1.1.1 extism-sys==1.41.0 cffi==2.1.1 pycparser==3.12
# The editable install runs hatch_build.py, which copies plugin/deviceflow.wasm in.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e .
echo "$want" > "$stamp"
echo "venv.sh: sdk/python/.venv is ready"
