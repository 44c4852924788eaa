"""A typed, quirk-absorbing model of a distribution's `python/PYTHON.json` (format versions "5" to "8").

This module owns the translation from the JSON text that python-build-standalone writes to frozen
dataclasses that the rest of relink can trust: every known metadata bug (see shared/pbs-format.md §4) is
absorbed here, once, so no caller ever sees a `%` in a version, a `"NULL"` init function, a stray `)` or a
path that escapes the distribution. It knows nothing about archives, caches or building.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from relink.errors import RelinkError

__all__ = ["ObjectFileFormat", "ObjectFileKind", "parse_object_file_format"]

ObjectFileKind = Literal["elf", "mach-o", "coff", "llvm-bitcode"]

_NATIVE_KINDS: tuple[ObjectFileKind, ...] = ("elf", "mach-o", "coff")
# `llvm-bitcode:18.0.8`, `llvm-bitcode:%18.0.8` (Linux since 20230116), `llvm-bitcode:18.0.8+20240713`.
_BITCODE_VERSION = re.compile(r"%?(?P<version>\d+(?:\.\d+){0,3})(?:\+\d{8})?")


@dataclass(frozen=True)
class ObjectFileFormat:
    """What the distribution's object files are, as `build_info.object_file_format` declares it.

    `llvm_version` is the producing LLVM's version ("18.0.8") for bitcode, None for native objects;
    `raw` is the string as written. GCC-built cross targets claim `llvm-bitcode` for GCC fat-LTO ELF
    objects, so a caller that must be sure checks the object bytes too.
    """

    kind: ObjectFileKind
    llvm_version: str | None
    raw: str

    @property
    def is_bitcode(self) -> bool:
        return self.kind == "llvm-bitcode"

    @property
    def llvm_major(self) -> int | None:
        return int(self.llvm_version.split(".")[0]) if self.llvm_version else None


def parse_object_file_format(text: str) -> ObjectFileFormat:
    """Parse `object_file_format`: `elf`, `mach-o`, `coff` or `llvm-bitcode:<version>`.

    The literal `%` and the `+YYYYMMDD` suffix PBS writes around bitcode versions are dropped.
    Any other form raises `RelinkError` (exit code INVALID_INPUT).
    """
    if not isinstance(text, str):
        raise RelinkError(f"object_file_format must be a string, got {type(text).__name__}")
    raw = text
    kind, sep, version = text.strip().partition(":")
    if kind in _NATIVE_KINDS and not sep:
        return ObjectFileFormat(kind=kind, llvm_version=None, raw=raw)
    if kind == "llvm-bitcode" and sep:
        match = _BITCODE_VERSION.fullmatch(version.strip())
        if match:
            return ObjectFileFormat(kind="llvm-bitcode", llvm_version=match["version"], raw=raw)
    raise RelinkError(
        f"unknown object_file_format {raw!r}: expected elf, mach-o, coff or llvm-bitcode:<LLVM version>"
    )
