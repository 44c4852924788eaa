"""Target-specific link arguments for a `LinkPlan`: GNU-style driver arguments, Cargo build-script lines
and a PyO3 config file's lines.

This module owns how each kind of plan item becomes a linker argument on each target (linux-gnu,
linux-musl, apple-darwin, windows-msvc): static libraries grouped for single-pass linkers, `-l` system
libraries, frameworks, `.lib` names and DLL import libraries on Windows, and the exported C API for
`--export-dynamic`; for Cargo and PyO3, which library lines propagate through crates, one static library
packing the plan's objects and static libraries. Pure: `python_dir` (the distribution's `python/`
directory), `extra_objects` (the compiled config.c, a launcher) and `library_dir` (where the packed
library is) are strings the caller chooses.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from relink.errors import RelinkError
from relink.plan import LinkPlan, PlannedLibrary

__all__ = ["cargo_lines", "check_local_path", "gnu_link_args", "pyo3_config_lines", "export_dynamic_flag",
           "python_library_inputs", "python_library_name"]

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


def python_library_name(plan: LinkPlan) -> str:
    """The file name of the one static library Cargo and PyO3 link: `libpython3.X.a` (`python3X.lib`)."""
    if plan.platform == "windows":
        return f"{_python_lib_name(plan)}.lib"
    return f"lib{_python_lib_name(plan)}.a"


def _python_lib_name(plan: LinkPlan) -> str:
    version = plan.python_major_minor_version
    return f"python{version.replace('.', '')}" if plan.platform == "windows" else f"python{version}"


def python_library_inputs(plan: LinkPlan, python_dir: str, extra_objects: Sequence[str] = ()) -> list[str]:
    """What goes into `python_library_name`: the extra objects (config.o), the plan's objects, then every
    static library of the plan, whose members are added. One archive needs no link order: a linker
    rescans a single archive until nothing new is pulled in, which separate archives in PYTHON.json's
    order (not always dependency order) would not get from a single-pass linker."""
    static = [_abs(python_dir, lib.path) for lib in plan.libraries if lib.kind == "static" and lib.path]
    return list(extra_objects) + [_abs(python_dir, obj.path) for obj in plan.objects] + static


def _native_library_lines(plan: LinkPlan, python_dir: str) -> list[str]:
    """`rustc-link-lib`/`rustc-link-search` lines for what is not in the packed library: OS libraries,
    frameworks and Windows DLL import libraries. Unlike `rustc-link-arg`, these reach the final link from
    any crate's build script (pyo3-ffi's, a -sys crate's), not only from the binary's own."""
    lines = [f"cargo:rustc-link-search=native={d}" for d in _import_lib_dirs(plan, python_dir)]
    for lib in plan.libraries:
        if lib.kind in ("dynamic", "system"):
            lines.append(f"cargo:rustc-link-lib=dylib={lib.name}")
        elif lib.kind == "framework":
            lines.append(f"cargo:rustc-link-lib=framework={lib.name}")
    return lines


def _python_library_line(plan: LinkPlan) -> str:
    # --export-dynamic links the whole core (every object, so every C API symbol is there to export).
    modifiers = ":+whole-archive" if plan.export_dynamic else ""
    return f"cargo:rustc-link-lib=static{modifiers}={_python_lib_name(plan)}"


def cargo_lines(plan: LinkPlan, python_dir: str, library_dir: str) -> list[str]:
    """`cargo:` lines a build script prints to link the plan: the packed static library in `library_dir`
    (see `python_library_inputs`), then the OS libraries it needs. They work from any crate's build
    script. Only the export flag of `--export-dynamic` is a `rustc-link-arg`, which Cargo applies only
    when printed by the binary's own build script."""
    check_local_path(python_dir, "the distribution's folder")
    lines = [f"cargo:rustc-link-search=native={check_local_path(library_dir, 'the library folder')}",
             _python_library_line(plan)]
    lines += _native_library_lines(plan, python_dir)
    flag = export_dynamic_flag(plan) if plan.export_dynamic else None
    return lines + ([f"cargo:rustc-link-arg={flag}"] if flag else [])


def _pointer_width(triple: str) -> int:
    arch = triple.split("-")[0]
    return 32 if arch in ("i686", "i386", "armv7", "arm") or arch.startswith("armv") else 64


def pyo3_config_lines(plan: LinkPlan, python_dir: str, library_dir: str) -> list[str]:
    """A PYO3_CONFIG_FILE for embedding the plan with PyO3, as PyO3 consumes it by design: a static
    interpreter (`shared=false`) whose library `lib_name` is in `lib_dir`, for which pyo3-ffi's build
    script prints the `rustc-link-lib`/`rustc-link-search` lines itself, plus one
    `extra_build_script_line` per OS library. With --export-dynamic the library is linked whole (PyO3's
    own line is suppressed for that), and the binary's build script must still print the export flag."""
    check_local_path(python_dir, "the distribution's folder")
    lines = [
        "implementation=CPython",
        f"version={plan.python_major_minor_version}",
        "shared=false",
        "abi3=false",
        f"lib_name={_python_lib_name(plan)}",
        f"lib_dir={check_local_path(library_dir, 'the library folder')}",
        f"pointer_width={_pointer_width(plan.target_triple)}",
    ]
    extra = _native_library_lines(plan, python_dir)
    if plan.export_dynamic:
        lines.append("suppress_build_script_link_lines=true")
        extra = [f"cargo:rustc-link-search=native={library_dir}", _python_library_line(plan), *extra]
    return lines + [f"extra_build_script_line={line}" for line in extra]
