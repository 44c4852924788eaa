"""What a plan may carry into generated files: every value from PYTHON.json checked against a strict form.

Plans are rendered into CMakeLists.txt, C (config.c), response files, Cargo build-script lines and PyO3
config files; each has its own quoting, and a newline, quote, `;`, `$` or `*/` in a value would add a CMake
command, a Cargo directive or C code. Rather than trust five escapers, a plan's values must match the forms
real distributions use (clean relative paths of plain characters, library and module names, C identifiers,
plain compiler flags); anything else is refused in one line before a file is written.
"""

from __future__ import annotations

import re

from relink.errors import RelinkError
from relink.plan.model import LinkPlan

__all__ = ["LIBRARY_NAME", "check_plan_values"]

LIBRARY_NAME = re.compile(r"[A-Za-z0-9_.+\-]+")
_PATH_PART = r"[A-Za-z0-9_+@=,\-][A-Za-z0-9_.+@=,\-]*"
_CLEAN_PATH = re.compile(rf"{_PATH_PART}(?:/{_PATH_PART})*")
_C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_CFLAG = re.compile(r"-[A-Za-z0-9_=.,+/:\-]+")
_SPEC = re.compile(r"[A-Za-z0-9_,+\-.: ]*")
_VERSION_TEXT = re.compile(r"[A-Za-z0-9_.+\-]+")


def _refuse(where: str, what: str, value: str, expected: str) -> RelinkError:
    return RelinkError(
        f"{where}: {what} {value[:80]!r} is not {expected}: refusing to write it into generated files"
    )


def check_plan_values(plan: LinkPlan, where: str) -> LinkPlan:
    """Return `plan` unchanged if every value a renderer writes has a safe form; else RelinkError naming
    `where` (the distribution) and the value."""
    checks: list[tuple[str, str | None, re.Pattern[str], str]] = [
        ("python_version", plan.python_version, _VERSION_TEXT, "a version"),
        ("python_major_minor_version", plan.python_major_minor_version, _VERSION_TEXT, "a version"),
        ("target_triple", plan.target_triple, _VERSION_TEXT, "a target triple"),
        ("include path", plan.include_dir, _CLEAN_PATH, "a clean relative path"),
        ("--extensions", plan.extensions_spec, _SPEC, "a list of extension names"),
    ]
    checks += [("inittab flag", flag, _CFLAG, "a plain compiler flag") for flag in plan.inittab_cflags]
    checks += [("object path", obj.path, _CLEAN_PATH, "a clean relative path") for obj in plan.objects]
    for lib in plan.libraries:
        checks.append((f"{lib.kind} library name", lib.name, LIBRARY_NAME, "a library name"))
        checks.append((f"{lib.kind} library path", lib.path, _CLEAN_PATH, "a clean relative path"))
    for ext in plan.extensions:
        checks.append(("extension name", ext.name, _MODULE_NAME, "a module name"))
        checks.append((f"init function of {ext.name}", ext.init_fn, _C_IDENTIFIER, "a C identifier"))
    for what, value, pattern, expected in checks:
        if value is not None and not pattern.fullmatch(value):
            raise _refuse(where, what, value, expected)
    return plan
