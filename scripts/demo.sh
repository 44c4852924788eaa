#!/usr/bin/env bash
# The main job end to end: build the default distribution (CPython 3.11 from Debian's source package,
# ThinLTO bitcode, cached after the first run), link a single-file app from examples/hello-app with the
# pinned clang/lld, and run it from an empty directory with a clean environment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-env.sh"
cd "$root"
out="$(mktemp -d)"
.venv/bin/relink build --app examples/hello-app/hello_app.py -o "$out/hello"
ls -l "$out/hello"
cd "$out" && env -i PATH=/usr/bin:/bin ./hello
