#!/usr/bin/env bash
# The whole test suite, after setting up everything it needs (see scripts/setup-env.sh).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k archive`; without any, the archive and
# command-line tests also run on Debian's own python3 (3.11.2) from .venv-debian.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-env.sh"
cd "$root"
.venv/bin/python -m pytest "$@"
# Without arguments: the archive, hostile-input and command-line tests again on Debian's python3 3.11.2.
if [ $# -eq 0 ] && [ -x .venv-debian/bin/python ]; then
  .venv-debian/bin/python -m pytest -m "not slow" tests/hostile tests/distribution/test_archive_bad_input.py \
    tests/distribution/test_archive_distribution.py tests/distribution/test_info_cli.py \
    tests/distribution/test_metadata_model.py tests/plan/test_plan_cli.py tests/cli
fi
