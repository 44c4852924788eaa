#!/usr/bin/env bash
# The corpus of real PyPI programs that tests/corpus builds and runs: the exact wheels pinned in
# tests/corpus/requirements.txt, installed flat into .corpus/site-packages (the folder apps pass to
# `relink build --include`). Idempotent: reinstalls only when the pins change.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
requirements=tests/corpus/requirements.txt
target=.corpus/site-packages
stamp=.corpus/.installed
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
rm -rf .corpus
mkdir -p .corpus
# Wheels only, no dependency resolution: exactly what is pinned, built for CPython 3.11 on this machine.
.venv/bin/python -m pip install -q --no-deps --only-binary :all: --no-compile --target "$target" -r "$requirements"
echo "$want" > "$stamp"
