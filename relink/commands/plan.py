"""`relink plan`, `relink generate` and `relink link-args`: choose extensions, then show the plan, write a
project from it, or print its link arguments.

This module owns the selection options every planning command shares (`--extensions`, `--no-copyleft`,
`--no-libraries`, `--export-dynamic`) and the printing of a plan; the work is in relink.plan.selection
(`make_plan`), relink.render.files and relink.render.project.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from relink import json_output
from relink.commands.toolchain import add_consumer_arguments, gate_from_args
from relink.errors import EXIT_CODES_HELP, ExitCode, RelinkError
from relink.plan import DEFAULT_SPEC, SELECTION_HELP
from relink.render import FORMAT_FILES, FORMATS, expand_formats

if TYPE_CHECKING:
    from relink.distribution import Distribution
    from relink.plan import LinkPlan

__all__ = ["register", "add_selection_arguments", "plan_from_args"]

_EPILOG = SELECTION_HELP + "\n\n" + EXIT_CODES_HELP + "\n  (a selection that cannot be satisfied exits 2)"


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """DIST and the extension-selection options shared by every command that makes a plan."""
    parser.add_argument("dist", metavar="DIST", help="full archive (.tar.zst/.tar.gz), extracted folder or PYTHON.json")
    parser.add_argument(
        "--extensions", default=DEFAULT_SPEC, metavar="SPEC",
        help="preset and edits, e.g. 'minimal,+_json,+zlib,-readline' (default: %(default)s; see below)",
    )
    parser.add_argument("--no-copyleft", action="store_true",
                        help="leave out extensions with any copyleft license (see below)")
    parser.add_argument("--no-libraries", action="store_true",
                        help="leave out extensions linking any library beyond the OS baseline (see below)")
    parser.add_argument(
        "--export-dynamic", action="store_true",
        help="export the C API so the executable can load external extension modules (.so)",
    )


def plan_from_args(args: argparse.Namespace) -> tuple[LinkPlan, Distribution]:
    """Open DIST and make the plan the selection options describe; returns (plan, distribution)."""
    from relink.distribution import open_distribution
    from relink.plan import make_plan
    from relink.render import resolve_windows_dlls

    dist = open_distribution(args.dist)
    plan = make_plan(
        dist, args.extensions, no_copyleft=args.no_copyleft, no_libraries=args.no_libraries,
        export_dynamic=args.export_dynamic,
    )
    return resolve_windows_dlls(plan, dist), dist


def _print_plan(plan: LinkPlan) -> None:
    lto = f", LLVM {plan.producer_llvm} bitcode (ThinLTO link)" if plan.lto else ""
    print(f"Python {plan.python_version} for {plan.target_triple} ({plan.object_format}{lto})")
    print(f"--extensions '{plan.extensions_spec}'" + "".join(
        f" {flag}" for flag, on in (("--no-copyleft", plan.no_copyleft), ("--no-libraries", plan.no_libraries),
                                    ("--export-dynamic", plan.export_dynamic)) if on))
    print(f"\n{len(plan.extensions)} built-in modules:")
    width = max(len(ext.name) for ext in plan.extensions)
    for ext in plan.extensions:
        variant = f" [{ext.variant}]" if ext.variant != "default" else ""
        print(f"  {ext.name:<{width}}  {', '.join(ext.why)}{variant}")
    if plan.excluded:
        print(f"\n{len(plan.excluded)} left out:")
        width = max(len(ext.name) for ext in plan.excluded)
        for ext in plan.excluded:
            print(f"  {ext.name:<{width}}  {ext.reason}")
    core = sum(1 for obj in plan.objects if obj.why == ("core",))
    print(f"\n{len(plan.objects)} objects ({core} core, {len(plan.objects) - core} from extensions)")
    print(f"{len(plan.libraries)} libraries:")
    for lib in plan.libraries:
        where = f" {lib.path}" if lib.path else ""
        print(f"  {lib.kind:<9} {lib.name}{where}  ({', '.join(lib.why)})")


def _run_plan(args: argparse.Namespace) -> int:
    plan, _ = plan_from_args(args)
    if args.json:
        print(plan.to_json_text(), end="")
    else:
        _print_plan(plan)
    return 0


def _refuse_metadata_only(dist: Distribution, what: str) -> None:
    if dist.is_metadata_only:
        raise RelinkError(
            f"{dist.source}: a bare PYTHON.json has metadata only; {what} compiles config.c against the "
            "distribution's headers: open the full archive or its extracted folder instead",
            ExitCode.INVALID_INPUT,
        )


def _target(args: argparse.Namespace, dist: Distribution):
    from relink.toolchain import link_target

    return link_target(dist.metadata, args.glibc, where=str(dist.source))


def _interpreter_runs_here(dist: Distribution) -> bool:
    """Whether the distribution's own interpreter starts on this machine (it compiles the stdlib zip)."""
    from relink.app import interpreter_magic

    if dist.is_metadata_only or not dist.metadata.python_exe:
        return False
    try:
        return interpreter_magic(dist.path(dist.metadata.python_exe)) is not None
    except RelinkError:
        return False


def _run_generate(args: argparse.Namespace) -> int:
    from relink.render import render_project

    plan, dist = plan_from_args(args)
    target = _target(args, dist)
    formats = args.format or ["cmake"]
    compiled = [f for f in expand_formats(formats) if "config.o" in FORMAT_FILES[f]]
    if compiled:
        _refuse_metadata_only(dist, f"--format {compiled[0]}")
        gate_from_args(args, dist)
    stdlib = None
    cmake_here = "cmake" in expand_formats(formats) and not dist.is_metadata_only and target.compilable_here
    want_zip = cmake_here and (args.stdlib == "zip" or (args.stdlib == "auto" and _interpreter_runs_here(dist)))
    if want_zip:
        # The generated executable carries the stdlib beside it, as bytecode (relink stdlib); for another
        # target the distribution's interpreter does not run here, and the project has none.
        from relink.app import stdlib_zip, stdlib_zip_name

        archive = stdlib_zip(dist, "full", deflate="zlib" in plan.extension_names)
        stdlib = (stdlib_zip_name(plan.python_major_minor_version), archive.data)
    out = render_project(plan, dist, args.output, formats, name=args.name, cc=args.cc, target=target,
                         stdlib_zip=stdlib)
    if cmake_here and args.stdlib == "auto" and not want_zip:
        print("relink: note: the distribution's interpreter does not run here, so the project carries no stdlib "
              "zip; its executable needs PYTHONHOME or -DRELINK_PYTHON_HOME", file=sys.stderr)
    if dist.is_metadata_only:
        python_dir = dist.source.resolve().parent
        if not (python_dir / "build").is_dir():
            print(
                f"relink: note: {dist.source} is a bare PYTHON.json: the project points at {python_dir}, which has "
                "no build/ folder; extract the full archive there or configure with -DRELINK_PYTHON_DIR=<its python/>",
                file=sys.stderr,
            )
    print(out)
    return 0


def _run_link_args(args: argparse.Namespace) -> int:
    from relink.render import cargo_lines, gnu_link_args, inittab_object, pyo3_config_lines, python_dir_for, python_library

    plan, dist = plan_from_args(args)
    target = _target(args, dist)
    _refuse_metadata_only(dist, "link-args")
    gate_from_args(args, dist)
    python_dir = python_dir_for(plan, dist)
    if args.format == "gnu":
        lines = gnu_link_args(plan, python_dir.as_posix(), [str(inittab_object(plan, python_dir, args.cc, target))])
    else:
        render = cargo_lines if args.format == "cargo" else pyo3_config_lines
        lines = render(plan, python_dir.as_posix(), str(python_library(plan, python_dir, args.cc, target)))
    print(json_output.dumps({"format": args.format, "arguments": lines}) if args.json else "\n".join(lines))
    return 0


def _add_glibc_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--glibc", metavar="X.Y",
                        help="glibc floor of what is compiled and linked for glibc targets (default: the "
                             "distribution's own, from its crt_features)")


def _add_parser(subparsers: argparse._SubParsersAction, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name, help=help_text, description=description, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_selection_arguments(parser)
    return parser


def register(subparsers: argparse._SubParsersAction) -> None:
    plan = _add_parser(
        subparsers, "plan", "show which extensions, objects and libraries a link would use, and why",
        "Choose extensions and show the link plan: each module, object and library with the reason it is "
        "there, and each extension left out with the reason. Reads only PYTHON.json.",
    )
    plan.add_argument("--json", action="store_true", help="print the plan as JSON (what every output is made from)")
    plan.set_defaults(func=_run_plan)

    generate = _add_parser(
        subparsers, "generate", "write a CMake project, link response file, Cargo or PyO3 lines for a plan",
        "Write the generated files for a plan into a new folder (atomically: a temporary folder renamed "
        "into place). Everything is compiled for the distribution's target (its CPU and C library, "
        "glibc at --glibc). cmake: CMakeLists.txt + config.c + main.c, built with the pinned clang/lld "
        "and the target's libc; rsp, cargo, pyo3: config.c compiled to config.o (after the toolchain gate; "
        "Windows and macOS targets: config.c only, for your build to compile) plus link.rsp, "
        "cargo-link.txt or pyo3-config.txt; json: plan.json only. plan.json is always written.",
    )
    generate.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder (new, empty, or an earlier output)")
    generate.add_argument("--format", action="append", choices=FORMATS,
                          help="what to write (repeatable; default: cmake)")
    generate.add_argument("--name", default="python", help="executable name in the CMake project (default: %(default)s)")
    generate.add_argument("--stdlib", choices=("auto", "zip", "none"), default="auto",
                          help="zip: the CMake project carries the stdlib as python3XY.zip beside its executable "
                               "(compiled by the distribution's interpreter, which must run here); none: no "
                               "stdlib, the executable uses PYTHONHOME or -DRELINK_PYTHON_HOME; auto: zip when "
                               "that interpreter runs here, else none with a note (default: %(default)s)")
    _add_glibc_argument(generate)
    add_consumer_arguments(generate)
    generate.set_defaults(func=_run_generate)

    link_args = _add_parser(
        subparsers, "link-args", "print the arguments that link a plan (GNU driver, Cargo or PyO3)",
        "Run the toolchain gate, compile the plan's config.c once (cached), and print the link arguments: "
        "gnu (one argument per line, a clang/gcc response file), cargo (build-script lines) or pyo3 "
        "(a PYO3_CONFIG_FILE: `relink link-args DIST --format pyo3 > $PWD/pyo3.cfg`, then "
        "PYO3_CONFIG_FILE=$PWD/pyo3.cfg cargo build; PyO3 wants an absolute path). cargo and pyo3 link one "
        "static library, libpython3.X.a, packed once (cached) from config.o, the plan's objects and static "
        "libraries, so their lines work from any crate's build script (pyo3-ffi's included).",
    )
    link_args.add_argument("--format", choices=("gnu", "cargo", "pyo3"), default="gnu", help="(default: %(default)s)")
    link_args.add_argument("--json", action="store_true", help="print the lines as a JSON list")
    _add_glibc_argument(link_args)
    add_consumer_arguments(link_args)
    link_args.set_defaults(func=_run_link_args)
