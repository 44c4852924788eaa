#!/usr/bin/env bash
# Installs the pinned consumer toolchain (clang/lld/llvm of the pinned major), an older clang for
# toolchain-gate tests, and the Debian -dev packages whose static libraries CPython's extensions link.
# Idempotent: packages already installed are skipped, and the deb-src entry is written once.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
major="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["consumer_llvm"]["major"])' "$here/pin.json")"
older="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["older_llvm_for_tests"]["major"])' "$here/pin.json")"

packages=(
  "clang-$major" "lld-$major" "llvm-$major"            # the pinned consumer LLVM
  "clang-$older" "lld-$older"                          # an older LLVM: proves the gate refuses it
  build-essential pkg-config dpkg-dev                  # CPython's configure/make, apt-get source
  zlib1g-dev libbz2-dev liblzma-dev libsqlite3-dev libffi-dev libssl-dev
  uuid-dev libncurses-dev libedit-dev libexpat1-dev libreadline-dev
  debootstrap                                          # the tests' Debian 11 roots (outputs on an older glibc)
  locales                                              # en_US.UTF-8 for the launchers' text tests
  librust-pyo3-dev                                     # PyO3 0.17 as a Cargo directory source (embedding tests, offline)
  tcl8.6                                               # generates SQLite's amalgamation (libraries rebuilt for the floor)
)

# Debian's CPython source packages: a deb-src twin of the configured bookworm entry, written once.
src_list=/etc/apt/sources.list.d/relink-debian-src.sources
if [ ! -f "$src_list" ]; then
  cat > "$src_list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  need_update=1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${need_update:-0}" = 1 ] || [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "relink setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "relink setup: clang-$major $(clang-$major --version | head -n1 | sed 's/.*version //')"
# The launchers' text handling is tested under en_US.UTF-8 (besides C and C.UTF-8, which glibc has built in).
if ! locale -a 2>/dev/null | grep -qix 'en_US.utf8'; then
  localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
fi
