"""Which LLVM a consumer toolchain brings: C compiler drivers, linkers and rustc, asked by running them.

`detect_cc` runs `CC --version` (clang → its LLVM version; gcc → no LLVM, it drives GNU ld), `detect_linker`
runs `LD --version` (LLD → its LLVM version; GNU ld and gold read bitcode only through a plugin, so not at
all as far as relink is concerned), and `detect_rustc` reads `LLVM version:` from `rustc -vV`. Each returns
a `Consumer`; a tool that is missing, fails, or is not what its role needs raises a one-line RelinkError
with exit code TOOLCHAIN. Nothing here decides whether a consumer is good enough: that is `relink.toolchain.gate`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

from relink.errors import ExitCode, RelinkError
from relink.toolchain.hints import install_hint

__all__ = ["Consumer", "detect_cc", "detect_linker", "detect_rustc"]

_CLANG_VERSION = re.compile(r"\bclang version (\d+\.\d+(?:\.\d+)?)")
_APPLE_CLANG = re.compile(r"^Apple (?:LLVM|clang) version (\S+)", re.MULTILINE)
# gcc and g++ (the driver of a C++ target's link) print the same banner with their own name.
_GCC_VERSION = re.compile(r"^(?:gcc|cc|c\+\+|\S*gcc\S*|\S*g\+\+\S*) \(.*\) (\d+\.\d+(?:\.\d+)?)", re.MULTILINE)
_LLD_VERSION = re.compile(r"\bLLD (\d+\.\d+(?:\.\d+)?)")
_GNU_LD_VERSION = re.compile(r"^GNU ld .*?(\d+\.\d+(?:\.\d+)?)\s*$", re.MULTILINE)
_GOLD_VERSION = re.compile(r"^GNU gold .*?(\d+\.\d+(?:\.\d+)?)\s*$", re.MULTILINE)
_RUSTC_RELEASE = re.compile(r"^release: (\S+)", re.MULTILINE)
_RUSTC_LLVM = re.compile(r"^LLVM version: (\d+\.\d+(?:\.\d+)?)", re.MULTILINE)
_TIMEOUT = 30


@dataclass(frozen=True)
class Consumer:
    """One tool that will read the distribution's objects.

    `role` is cc, linker or rustc; `kind` is clang, apple-clang, gcc, lld, gnu-ld, gold or rustc;
    `llvm_version` is the LLVM inside it (None for GNU tools and for Apple clang, whose LLVM is not
    printed); `reads_bitcode` says whether it can read LLVM bitcode at all.
    """

    role: str
    command: str
    path: str
    kind: str
    version: str
    llvm_version: str | None
    reads_bitcode: bool

    @property
    def llvm_major(self) -> int | None:
        return int(self.llvm_version.split(".")[0]) if self.llvm_version else None

    def describe(self) -> str:
        llvm = f", LLVM {self.llvm_version}" if self.kind == "rustc" else ""
        return f"{self.command} ({self.kind} {self.version}{llvm})"

    def to_json(self) -> dict:
        return asdict(self) | {"llvm_major": self.llvm_major}


def _run_version(command: str, args: list[str], role: str) -> tuple[str, str]:
    """(resolved path, combined output) of `command args`; RelinkError if it is missing or fails."""
    path = shutil.which(command)
    if path is None:
        hint = f"install it ({install_hint('llvm')} for the pinned LLVM) or pass its full path"
        raise RelinkError(f"{role} '{command}' not found on PATH: {hint}", ExitCode.TOOLCHAIN)
    from relink.support.runner import announce

    announce([path, *args])
    try:
        result = subprocess.run(
            [path, *args], capture_output=True, text=True, errors="replace", timeout=_TIMEOUT,
            env={**os.environ, "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RelinkError(f"{role} '{command}' could not be run: {error}", ExitCode.TOOLCHAIN) from None
    output = result.stdout + result.stderr
    if result.returncode != 0:
        first = output.strip().splitlines()[0] if output.strip() else f"exit status {result.returncode}"
        raise RelinkError(
            f"{role} '{command}' failed on '{' '.join(args)}': {first}", ExitCode.TOOLCHAIN
        )
    return path, output


def detect_cc(command: str) -> Consumer:
    """The C compiler driver `command`: clang (with its LLVM version) or gcc; anything else is refused."""
    path, output = _run_version(command, ["--version"], "compiler")
    if match := _CLANG_VERSION.search(output):
        if apple := _APPLE_CLANG.search(output):
            return Consumer("cc", command, path, "apple-clang", apple.group(1), None, True)
        return Consumer("cc", command, path, "clang", match.group(1), match.group(1), True)
    if (match := _GCC_VERSION.search(output)) and "Free Software Foundation" in output:
        return Consumer("cc", command, path, "gcc", match.group(1), None, False)
    first = output.strip().splitlines()[0] if output.strip() else "(no output)"
    raise RelinkError(
        f"compiler '{command}' is neither clang nor gcc ('--version' says: {first}): pass a clang, "
        "e.g. --cc clang-22",
        ExitCode.TOOLCHAIN,
    )


def detect_linker(command: str) -> Consumer:
    """The linker `command` (e.g. ld.lld-22, ld, ld.gold): LLD reads bitcode of its LLVM; GNU linkers do not."""
    path, output = _run_version(command, ["--version"], "linker")
    if match := _LLD_VERSION.search(output):
        return Consumer("linker", command, path, "lld", match.group(1), match.group(1), True)
    if match := _GOLD_VERSION.search(output):
        return Consumer("linker", command, path, "gold", match.group(1), None, False)
    if match := _GNU_LD_VERSION.search(output):
        return Consumer("linker", command, path, "gnu-ld", match.group(1), None, False)
    first = output.strip().splitlines()[0] if output.strip() else "(no output)"
    raise RelinkError(
        f"linker '{command}' is not LLD, GNU ld or gold ('--version' says: {first}): pass e.g. --linker ld.lld-22",
        ExitCode.TOOLCHAIN,
    )


def detect_rustc(command: str) -> Consumer:
    """rustc's release and the LLVM it was built with (`rustc -vV` → `LLVM version: 22.1.2`).

    rustc links with its bundled rust-lld (same LLVM) or with clang + lld for cross-language LTO, so it
    reads bitcode of its own LLVM major.
    """
    path, output = _run_version(command, ["-vV"], "rustc")
    release, llvm = _RUSTC_RELEASE.search(output), _RUSTC_LLVM.search(output)
    if release is None or llvm is None:
        raise RelinkError(
            f"rustc '{command}' did not report 'release:' and 'LLVM version:' in 'rustc -vV': is it rustc?",
            ExitCode.TOOLCHAIN,
        )
    return Consumer("rustc", command, path, "rustc", release.group(1), llvm.group(1), True)
