"""Target-specific link arguments for a `LinkPlan`: GNU-style driver arguments, Cargo build-script lines
and a PyO3 config file's lines.

This module owns how each kind of plan item becomes a linker argument on each target (linux-gnu,
linux-musl, apple-darwin, windows-msvc): static libraries grouped for single-pass linkers, `-l` system
libraries, frameworks, `.lib` names and DLL import libraries on Windows, and the exported C API for
`--export-dynamic`. Pure: `python_dir` (the distribution's `python/` directory) and `extra_objects`
(the compiled config.c, a launcher) are strings the caller chooses.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from relink.errors import RelinkError
from relink.plan import LinkPlan, PlannedLibrary

__all__ = ["cargo_lines", "check_local_path", "gnu_link_args", "pyo3_config_lines", "export_dynamic_flag"]

# Plan values are checked in relink.plan.safety. Local paths (the distribution's folder, config.o) may hold
# spaces and quotes (response files quote them) but no control character, which would end a Cargo line;
# CMake strings also cannot carry a quote, backslash, '$' or ';' unescaped.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_FOR_CMAKE = re.compile(r"[\x00-\x1f\x7f\"\\$;]")


def check_local_path(path: str, what: str, *, cmake: bool = False) -> str:
    """Refuse a local path that generated files cannot carry (RelinkError naming it); return it."""
    if (_NOT_FOR_CMAKE if cmake else _CONTROL).search(path):
        characters = "a quote, backslash, '$', ';' or control character" if cmake else "a control character"
        raise RelinkError(
            f"{path!r}: {what} has {characters}, which generated build files cannot carry; use a plain "
            "folder (e.g. RELINK_CACHE_DIR)"
        )
    return path


def _abs(python_dir: str, rel: str) -> str:
    return posixpath.join(python_dir, rel)


def export_dynamic_flag(plan: LinkPlan) -> str | None:
    """The driver flag that exports the C API from the executable, or None (Windows exports by dllexport)."""
    if plan.platform == "windows":
        return None
    return "-rdynamic" if plan.platform == "darwin" else "-Wl,--export-dynamic"


def _import_lib_dirs(plan: LinkPlan, python_dir: str) -> list[str]:
    # A Windows DLL entry links through its import library `<name>.lib`, shipped in build/lib.
    return [_abs(python_dir, "build/lib")] if any(lib.kind == "dynamic" for lib in plan.libraries) else []


def _system_arg(plan: LinkPlan, lib: PlannedLibrary) -> list[str]:
    if lib.kind == "framework":
        return ["-framework", lib.name]
    if plan.platform == "windows":
        return [f"{lib.name}.lib"]
    return [f"-l{lib.name}"]


def gnu_link_args(plan: LinkPlan, python_dir: str, extra_objects: Sequence[str] = ()) -> list[str]:
    """Arguments for a GNU-style compiler driver (clang/gcc) linking the plan: objects, then static
    libraries (in a --start-group/--end-group on ELF targets, since PYTHON.json's order is not always
    dependency order), then system libraries and frameworks, then the export flag if asked."""
    check_local_path(python_dir, "the distribution's folder")
    args = [check_local_path(obj, "an extra object") for obj in extra_objects] + [_abs(python_dir, obj.path) for obj in plan.objects]
    static = [_abs(python_dir, lib.path) for lib in plan.libraries if lib.kind == "static" and lib.path]
    grouped = plan.platform == "linux" and len(static) > 1
    args += (["-Wl,--start-group"] if grouped else []) + static + (["-Wl,--end-group"] if grouped else [])
    args += [f"-L{d}" for d in _import_lib_dirs(plan, python_dir)]
    for lib in plan.libraries:
        if lib.kind == "dynamic":
            args.append(f"{lib.name}.lib")
        elif lib.kind in ("system", "framework"):
            args += _system_arg(plan, lib)
    flag = export_dynamic_flag(plan) if plan.export_dynamic else None
    return args + ([flag] if flag else [])


def _static_lib_name(path: str, platform: str) -> str | None:
    base = posixpath.basename(path)
    if platform == "windows":
        return base[: -len(".lib")] if base.endswith(".lib") else None
    return base[3:-2] if base.startswith("lib") and base.endswith(".a") and len(base) > 5 else None


def cargo_lines(plan: LinkPlan, python_dir: str, extra_objects: Sequence[str] = ()) -> list[str]:
    """`cargo:` lines a build script prints to link the plan into a Rust binary.

    On ELF targets every argument of `gnu_link_args` becomes a `rustc-link-arg`, in order: static
    libraries must stay inside their --start-group/--end-group and before the system libraries they use
    (rustc's own `rustc-link-lib` entries go before all link args, and with --as-needed a GNU ld would
    then drop libm before an archive asks for it). On macOS and Windows, whose linkers need no order,
    objects are link args and libraries are `rustc-link-search=native` + `rustc-link-lib=static|dylib|
    framework`."""
    if plan.platform == "linux":
        return [f"cargo:rustc-link-arg={arg}" for arg in gnu_link_args(plan, python_dir, extra_objects)]
    check_local_path(python_dir, "the distribution's folder")
    lines = [f"cargo:rustc-link-arg={check_local_path(obj, 'an extra object')}" for obj in extra_objects]
    lines += [f"cargo:rustc-link-arg={_abs(python_dir, obj.path)}" for obj in plan.objects]
    searches: dict[str, None] = {}
    libs: list[str] = []
    for lib in sorted(plan.libraries, key=lambda lib: lib.kind not in ("static", "dynamic")):
        if lib.kind == "static" and lib.path:
            name = _static_lib_name(lib.path, plan.platform)
            if name is None:
                libs.append(f"cargo:rustc-link-arg={_abs(python_dir, lib.path)}")
                continue
            searches.setdefault(_abs(python_dir, posixpath.dirname(lib.path)))
            libs.append(f"cargo:rustc-link-lib=static={name}")
        elif lib.kind == "dynamic":
            searches.setdefault(_abs(python_dir, "build/lib"))
            libs.append(f"cargo:rustc-link-lib=dylib={lib.name}")
        else:
            libs.append(f"cargo:rustc-link-lib={'framework' if lib.kind == 'framework' else 'dylib'}={lib.name}")
    lines += [f"cargo:rustc-link-search=native={d}" for d in searches] + libs
    flag = export_dynamic_flag(plan) if plan.export_dynamic else None
    return lines + ([f"cargo:rustc-link-arg={flag}"] if flag else [])


def _pointer_width(triple: str) -> int:
    arch = triple.split("-")[0]
    return 32 if arch in ("i686", "i386", "armv7", "arm") or arch.startswith("armv") else 64


def pyo3_config_lines(plan: LinkPlan, python_dir: str, extra_objects: Sequence[str] = ()) -> list[str]:
    """A PYO3_CONFIG_FILE for embedding the plan with PyO3: a static interpreter whose link lines PyO3
    does not write itself (`suppress_build_script_link_lines=true`) but takes, one per
    `extra_build_script_line`, from `cargo_lines`."""
    version = plan.python_major_minor_version
    lib_name = f"python{version.replace('.', '')}" if plan.platform == "windows" else f"python{version}"
    lines = [
        "implementation=CPython",
        f"version={version}",
        "shared=false",
        "abi3=false",
        f"lib_name={lib_name}",
        f"pointer_width={_pointer_width(plan.target_triple)}",
        "suppress_build_script_link_lines=true",
    ]
    return lines + [f"extra_build_script_line={line}" for line in cargo_lines(plan, python_dir, extra_objects)]
