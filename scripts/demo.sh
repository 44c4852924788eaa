#!/usr/bin/env bash
# The main job end to end: build the default distribution (CPython 3.11 from Debian's source package,
# ThinLTO bitcode, cached after the first run) and run its interpreter.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup-env.sh"
cd "$root"
archive="$(.venv/bin/relink dist build --print-path)"
echo "distribution: $archive"
root_dir="$(.venv/bin/relink extract "$archive" --print-path)"
"$root_dir/python/install/bin/python3" -c 'import sys, ssl, sqlite3, ctypes, decimal; print("Python", sys.version.split()[0], "with", len(sys.builtin_module_names), "builtin modules; OpenSSL:", ssl.OPENSSL_VERSION)'
