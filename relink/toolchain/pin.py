"""The pinned toolchain: which LLVM relink targets, and which LLVM each PBS release was built with.

Reads `toolchain/pin.json`, the single machine-readable source of these facts (also used by
`toolchain/setup.sh` and `toolchain/clang.cmake`).
"""

from __future__ import annotations

import functools
import json
import shutil
from typing import NamedTuple

from relink.errors import ExitCode, RelinkError
from relink.resources import toolchain_dir

__all__ = ["PinnedToolchain", "pinned_toolchain", "pbs_release_llvm", "find_pinned_tool"]


class PinnedToolchain(NamedTuple):
    """The pinned LLVM's version and tool names (a NamedTuple, not a dataclass: every command's parser
    names the pinned clang, and importing dataclasses would double `relink --help`'s import time)."""

    major: int
    version: str
    clang: str
    clangxx: str
    lld: str
    ar: str
    ranlib: str
    nm: str


@functools.cache
def _pin() -> dict:
    return json.loads((toolchain_dir() / "pin.json").read_text())


def pinned_toolchain() -> PinnedToolchain:
    c = _pin()["consumer_llvm"]
    return PinnedToolchain(
        major=c["major"], version=c["version"], clang=c["clang"], clangxx=c["clangxx"],
        lld=c["lld"], ar=c["ar"], ranlib=c["ranlib"], nm=c["nm"],
    )


def pbs_release_llvm(tag: str, *, musl: bool = False) -> str | None:
    """The LLVM version PBS release `tag` (YYYYMMDD) was built with, or None if older than the table."""
    table = _pin()["pbs_releases"]
    if musl:
        for row in _pin()["pbs_musl_releases"]:
            if row["from_tag"] <= tag <= row.get("through_tag", "99999999"):
                return row["llvm"]
    found = None
    for row in sorted(table, key=lambda r: r["from_tag"]):
        if row["from_tag"] <= tag:
            found = row["llvm"]
    return found


def find_pinned_tool(name: str) -> str:
    """Absolute path of a pinned tool (e.g. 'clang-22'), or a RelinkError saying how to install it."""
    path = shutil.which(name)
    if path is None:
        from relink.toolchain.hints import install_hint  # hints reads the pin: imported when needed

        raise RelinkError(
            f"{name} not found on PATH: to install the pinned LLVM {pinned_toolchain().major} toolchain, "
            f"{install_hint('llvm')}",
            ExitCode.TOOLCHAIN,
        )
    return path
