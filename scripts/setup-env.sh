#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: the pinned toolchain and build dependencies
# through apt (toolchain/setup.sh), then a virtual environment in .venv with relink installed editable.
# Idempotent: a second run only checks that everything is in place.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [ "$(id -u)" = 0 ]; then
  bash toolchain/setup.sh
else
  sudo bash toolchain/setup.sh
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# Reinstall only when the project's declared dependencies change.
stamp=.venv/.relink-installed
# cmake/ too: the install copies the CMake package into site-packages (found there by CMAKE_PREFIX_PATH).
want="$(sha256sum pyproject.toml CMakeLists.txt cmake/*.cmake cmake/include/* | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi

# A second environment on Debian's own python3 (3.11.2: no tarfile extraction filters), where
# scripts/test.sh runs the archive and command-line tests again: relink must not depend on a newer Python.
if [ -x /usr/bin/python3 ]; then
  if [ ! -x .venv-debian/bin/python ]; then
    /usr/bin/python3 -m venv .venv-debian
  fi
  stamp=.venv-debian/.relink-installed
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv-debian/bin/python -m pip install -q -e ".[test]"
    echo "$want" > "$stamp"
  fi
fi
