"""What to tell a user to install, fitting how relink was installed.

A source checkout has `toolchain/setup.sh`, which installs the pinned LLVM, the -dev packages and the
deb-src entry; a wheel user has no such file and gets the package-manager command instead.
"""

from __future__ import annotations

import sys

from relink.resources import source_checkout
from relink.toolchain.pin import pinned_toolchain

__all__ = ["install_hint"]

# What each need is, as Debian/Ubuntu packages (what toolchain/setup.sh installs for it).
_DEBIAN_PACKAGES = {
    "llvm": lambda major: f"clang-{major} lld-{major} llvm-{major}",
    "dev": lambda major: "zlib1g-dev libbz2-dev liblzma-dev libsqlite3-dev libffi-dev libssl-dev uuid-dev "
                         "libncurses-dev libedit-dev libexpat1-dev libreadline-dev",
}


def install_hint(need: str) -> str:
    """How to install `need`: "llvm" (the pinned clang, lld and llvm tools), "dev" (the static libraries
    CPython's extensions link) or "deb-src" (Debian's CPython source packages)."""
    checkout = source_checkout()
    if checkout is not None:
        return f"run 'bash {checkout / 'toolchain' / 'setup.sh'}' (as root)"
    major = pinned_toolchain().major
    if need == "deb-src":
        return "add a deb-src line for your Debian release to /etc/apt/sources.list.d/ and run 'apt-get update'"
    if sys.platform == "darwin" and need == "llvm":
        return f"install LLVM {major} (e.g. 'brew install llvm@{major} lld@{major}') and put its bin/ on PATH"
    return (f"install them with your package manager, e.g. 'apt-get install {_DEBIAN_PACKAGES[need](major)}' "
            f"(Debian/Ubuntu; apt.llvm.org has LLVM {major} for older releases)")
