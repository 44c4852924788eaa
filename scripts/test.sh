#!/usr/bin/env bash
# The whole test suite, after setting up everything it needs (see scripts/setup-env.sh).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k archive`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-env.sh"
cd "$root"
exec .venv/bin/python -m pytest "$@"
