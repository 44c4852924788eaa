"""Checking a built executable against what it should be: `verify_binary(path, expectations)`.

This module owns the judgement (what `relink.report.binary_info` reads is fact): which shared libraries a
binary may need, the newest glibc it may require, the builtin modules its inittab must hold, whether it
must export the Python C API. Each contradiction is one line in `VerifyReport.problems`.

Base libraries, which every glibc (or musl) Linux system has and which therefore never count against a
single-file executable: the C library's own parts (libc, libm, libdl, libpthread, libutil, librt — what
PBS's own binaries need), the dynamic loader (ld-linux*, ld-musl-*), and libgcc_s.so.1 (GCC's unwinder:
glibc itself dlopens it for thread cancellation, and manylinux allows it). Anything else — libz, libssl,
libffi, libstdc++, libcrypt (gone from newer glibc) — is a problem unless explicitly allowed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relink.errors import ExitCode, RelinkError
from relink.report.binary_info import INITTAB_SYMBOL, BinaryInfo, read_binary

if TYPE_CHECKING:
    from relink.distribution import PythonJson
    from relink.plan import LinkPlan

__all__ = [
    "BASE_LIBRARY_PATTERNS",
    "Expectations",
    "VerifyReport",
    "expectations_from_plan",
    "is_base_library",
    "load_plan_expectations",
    "parse_glibc_version",
    "verify_binary",
]

BASE_LIBRARY_PATTERNS = (
    re.compile(r"lib(c|m|dl|pthread|util|rt)\.so\.\d+"),
    re.compile(r"ld-linux(-[\w.-]+)?\.so\.\d+"),
    re.compile(r"libgcc_s\.so\.1"),
    re.compile(r"libc\.musl-[\w]+\.so\.1|ld-musl-[\w]+\.so\.1"),
)


def is_base_library(soname: str) -> bool:
    return any(pattern.fullmatch(soname) for pattern in BASE_LIBRARY_PATTERNS)


def parse_glibc_version(text: str) -> tuple[int, ...]:
    """`"2.17"` → (2, 17); RelinkError(USAGE) for anything else."""
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", text.strip()):
        raise RelinkError(f"--max-glibc wants a version like 2.17, got {text!r}", ExitCode.USAGE)
    return tuple(int(part) for part in text.strip().split("."))


@dataclass(frozen=True)
class Expectations:
    """What a binary must satisfy; None means "not checked". `allowed_libraries` extends the base set."""

    max_glibc: tuple[int, ...] | None = None
    builtins: tuple[str, ...] | None = None
    exports_c_api: bool | None = None
    allowed_libraries: tuple[str, ...] = ()


def expectations_from_plan(plan: LinkPlan, metadata: PythonJson | None = None) -> Expectations:
    """What a binary linked from `plan` must show: exactly its inittab rows, the C API exported when the
    plan asks for it, and (given the distribution's metadata) no glibc newer than its crt_features say."""
    max_glibc = metadata.crt_features.glibc_max_version if metadata is not None else None
    return Expectations(
        max_glibc=max_glibc,
        builtins=plan.extension_names,
        exports_c_api=True if plan.export_dynamic else None,
    )


def load_plan_expectations(path: str | Path, metadata: PythonJson | None = None) -> Expectations:
    """`expectations_from_plan` for a plan saved by `relink plan --json`."""
    from relink.plan import LinkPlan

    try:
        plan = LinkPlan.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except OSError as error:
        raise RelinkError(f"{path}: cannot read the plan ({error.strerror})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise RelinkError(f"{path}: not a plan written by 'relink plan --json' ({error})") from None
    return expectations_from_plan(plan, metadata)


@dataclass(frozen=True)
class VerifyReport:
    info: BinaryInfo
    expectations: Expectations
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def extra_libraries(self) -> tuple[str, ...]:
        allowed = set(self.expectations.allowed_libraries)
        return tuple(lib for lib in self.info.needed if not is_base_library(lib) and lib not in allowed)

    def to_json(self) -> dict[str, Any]:
        e = self.expectations
        return {
            "binary": self.info.to_json(),
            "expectations": {
                "max_glibc": ".".join(map(str, e.max_glibc)) if e.max_glibc else None,
                "builtins": list(e.builtins) if e.builtins is not None else None,
                "exports_c_api": e.exports_c_api,
                "allowed_libraries": list(e.allowed_libraries),
            },
            "extra_libraries": list(self.extra_libraries),
            "ok": self.ok,
            "problems": list(self.problems),
        }


def _problems(info: BinaryInfo, expected: Expectations) -> list[str]:
    problems = []
    allowed = set(expected.allowed_libraries)
    for lib in info.needed:
        if not is_base_library(lib) and lib not in allowed:
            problems.append(f"needs shared library {lib}, which is not a base system library")
    if expected.max_glibc and info.glibc_required and info.glibc_required > expected.max_glibc:
        users = f" (for {', '.join(info.glibc_symbols[:3])})" if info.glibc_symbols else ""
        problems.append(
            f"requires GLIBC_{info.glibc_required_text}{users}, newer than the allowed "
            f"{'.'.join(map(str, expected.max_glibc))}"
        )
    if expected.builtins is not None:
        names = info.builtin_names
        if names is None:
            problems.append(f"has no readable {INITTAB_SYMBOL} (stripped, or not a Python executable)")
        else:
            missing = sorted(set(expected.builtins) - set(names))
            extra = sorted(set(names) - set(expected.builtins))
            if missing:
                problems.append(f"inittab lacks expected builtin modules: {', '.join(missing)}")
            if extra:
                problems.append(f"inittab has unexpected builtin modules: {', '.join(extra)}")
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                problems.append(f"inittab lists modules more than once: {', '.join(duplicates)}")
    if expected.exports_c_api and not info.exports_c_api:
        problems.append(
            "does not export the Python C API (Py_Initialize, PyObject_GetAttr): cannot load external "
            "extension modules; link with -Wl,--export-dynamic"
        )
    return problems


def verify_binary(path: str | Path, expectations: Expectations | None = None) -> VerifyReport:
    """Read `path` and check it; RelinkError only when it cannot be read as an ELF executable."""
    expectations = expectations or Expectations()
    info = read_binary(path)
    return VerifyReport(info, expectations, tuple(_problems(info, expectations)))
