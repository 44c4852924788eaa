"""Renderers: a `LinkPlan` into the text of each generated file, through the jinja2 templates in
`templates/`.

This module owns the template environment (StrictUndefined: a missing variable is a bug, not an empty
string; fixed newlines: the same plan gives byte-identical text) and one function per output:
config.c (the inittab), main.c (the launcher), CMakeLists.txt, a GNU-style response file, Cargo
build-script lines, a PyO3 config file and the plan's JSON. Pure: no files are written here
(relink.render.project writes them); `python_dir` is the distribution's `python/` directory as text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

import jinja2

from relink.errors import ExitCode, RelinkError
from relink.plan import LinkPlan
from relink.render.formats import expand_formats
from relink.render.linkargs import (
    cargo_lines,
    check_local_path,
    export_dynamic_flag,
    gnu_link_args,
    pyo3_config_lines,
)
from relink.resources import cmake_dir, templates_dir

__all__ = [
    "render_files",
    "render_cargo_lines",
    "render_cmake",
    "render_config_c",
    "render_main_c",
    "render_pyo3_config",
    "render_response_file",
]


# Plan values are checked in relink.plan.safety; these are the local paths and names added here.
_TARGET_NAME = re.compile(r"[A-Za-z0-9_.+\-]+")


def _rsp_quote(arg: str) -> str:
    """Quote one argument for a GNU/clang response file (whitespace, quotes and backslashes escaped)."""
    if arg and not any(c in arg for c in " \t\n'\"\\"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["rsp_quote"] = _rsp_quote
    return env


def _render(template: str, **variables: object) -> str:
    return _environment().get_template(template).render(**variables)


def render_config_c(plan: LinkPlan) -> str:
    """The inittab source: one extern per init function (none for NULL rows), one row per extension."""
    return _render("config.c.j2", plan=plan)


def render_main_c(
    plan: LinkPlan, *, use_environment: bool = True, site_import: bool = True,
    module_search_paths: Sequence[str] = (), stdlib_zip: str | None = None,
) -> str:
    """The launcher: PyConfig_InitIsolatedConfig made a normal interpreter (parse_argv=1, signal handlers,
    environment honoured unless `use_environment` is False), then Py_RunMain. `module_search_paths`, when
    given, fixes sys.path; `stdlib_zip` (a file name) makes that zip beside the executable the stdlib,
    through relink_embed.h; `-DRELINK_PYTHON_HOME=...` compiles in PyConfig.home instead."""
    return _render(
        "main.c.j2", plan=plan, use_environment=use_environment, site_import=site_import,
        module_search_paths=list(module_search_paths), stdlib_zip=stdlib_zip,
    )


def render_cmake(plan: LinkPlan, python_dir: str, *, name: str = "python", toolchain_file: str | None = None,
                 stdlib_zip: str | None = None) -> str:
    """A complete CMake project (beside config.c and main.c) building executable `name` from the plan with
    the pinned clang + lld (`toolchain_file`, used unless the caller passes CMAKE_TOOLCHAIN_FILE or
    CMAKE_C_COMPILER): ThinLTO with a cache directory for bitcode plans, an ordinary link for native
    objects. `stdlib_zip` (a file in the project) is copied beside the executable after each build."""
    libs = plan.libraries
    static_libs = [lib.path for lib in libs if lib.kind == "static"]
    return _render(
        "CMakeLists.txt.j2",
        plan=plan,
        name=name,
        python_dir=python_dir,
        toolchain_file=toolchain_file if plan.platform != "windows" else None,
        objects=[obj.path for obj in plan.objects],
        static_libs=static_libs,
        grouped=plan.platform == "linux" and len(static_libs) > 1,
        dynamic_libs=[lib.name for lib in libs if lib.kind == "dynamic"],
        system_libs=[lib.name for lib in libs if lib.kind == "system"],
        frameworks=[lib.name for lib in libs if lib.kind == "framework"],
        export_flag=export_dynamic_flag(plan) if plan.export_dynamic else None,
        runtime_files=list(plan.runtime_files),
        stdlib_zip=stdlib_zip,
    )


def render_response_file(plan: LinkPlan, python_dir: str, extra_objects: Sequence[str] = ()) -> str:
    """A response file (`clang @link.rsp`) with every link input of the plan, one argument per line."""
    return _render("link.rsp.j2", args=gnu_link_args(plan, python_dir, extra_objects))


def render_cargo_lines(plan: LinkPlan, python_dir: str, library_dir: str) -> str:
    """The lines a Cargo build script prints (`println!`) to link the plan's packed library."""
    return _render("cargo-link.txt.j2", lines=cargo_lines(plan, python_dir, library_dir))


def render_pyo3_config(plan: LinkPlan, python_dir: str, library_dir: str) -> str:
    """A PYO3_CONFIG_FILE linking the plan's packed library in `library_dir`."""
    return _render("pyo3-config.txt.j2", lines=pyo3_config_lines(plan, python_dir, library_dir))


def render_files(
    plan: LinkPlan, python_dir: str, formats: Iterable[str], *, name: str = "python",
    toolchain_file: str | None = None, inittab_object: str = "config.o", library_dir: str = ".",
    stdlib_zip: str | None = None,
) -> dict[str, str]:
    """File name to text for `formats` (see relink.render.formats), plan.json included, config.o and the packed
    library excluded. `inittab_object` is where the link arguments expect the compiled config.c,
    `library_dir` the folder of the packed library. With `stdlib_zip` (the name of a stdlib zip the caller
    writes into the project), the cmake format's executable runs on that zip beside it (relink_embed.h
    is added to the files)."""
    if not _TARGET_NAME.fullmatch(name):
        raise RelinkError(f"--name {name!r}: use letters, digits, '_', '.', '+' or '-'", ExitCode.USAGE)
    cmake = "cmake" in expand_formats(formats)
    for what, path in (("the distribution's folder", python_dir), ("the inittab object", inittab_object),
                       ("the toolchain file", toolchain_file or "")):
        check_local_path(path, what, cmake=cmake)
    files = {"plan.json": plan.to_json_text()}
    for fmt in expand_formats(formats):
        if fmt == "json":
            continue
        files["config.c"] = render_config_c(plan)
        if fmt == "cmake":
            files["CMakeLists.txt"] = render_cmake(plan, python_dir, name=name, toolchain_file=toolchain_file,
                                                   stdlib_zip=stdlib_zip)
            files["main.c"] = render_main_c(plan, stdlib_zip=stdlib_zip)
            if stdlib_zip:
                files["relink_embed.h"] = (cmake_dir() / "include" / "relink_embed.h").read_text()
        elif fmt == "rsp":
            files["link.rsp"] = render_response_file(plan, python_dir, [inittab_object])
        elif fmt == "cargo":
            files["cargo-link.txt"] = render_cargo_lines(plan, python_dir, library_dir)
        elif fmt == "pyo3":
            files["pyo3-config.txt"] = render_pyo3_config(plan, python_dir, library_dir)
    return dict(sorted(files.items()))
