"""`relink build`: a single-file executable (interpreter or app) from a distribution."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from relink import json_output
from relink.commands.tool_config import apply_tool_config, record_explicit_options
from relink.errors import EXIT_CODES_HELP

__all__ = ["register"]

DESCRIPTION = """\
Link libpython and the chosen extensions for the distribution's target (its CPU and C library; glibc
targets against the stub libraries of the --glibc floor, musl targets static) with the pinned clang/lld,
or with --cc/--linker for this machine (after the toolchain check of what links), and
append the Python code it needs as bytecode compiled by the distribution's own interpreter. The result is
one file that runs with nothing extracted at start-up and never reads the build machine's files.

Without --app, OUT is a Python interpreter taking the usual command line (OUT -c CODE, OUT script.py,
OUT -m module). With --app, OUT runs the app and passes it every argument.

Without DIST, the default distribution is used: CPython 3.11 built from Debian's source package by
`relink dist build` (built on first use, then cached). The linked interpreter is cached by plan and
toolchain, so a change to the app only re-embeds its bytecode. The freshly linked interpreter is checked
against the plan (its inittab, shared libraries and the glibc floor; exit 7 on a contradiction), and
OUT.LICENSES.txt is written beside OUT with the licenses of everything linked.

Options can be kept with the app in the current folder's pyproject.toml, under [tool.relink]: each key is
an option's long name (app, entry, include, extensions, stdlib, exclude, output, optimize, no-copyleft, …,
and dist), paths relative to that file, e.g.
  [tool.relink]
  app = "src/"
  entry = "mytool.cli:main"
  include = [".venv/lib/python3.11/site-packages"]
  extensions = "auto,+_hashlib"
  output = "dist/mytool"
`relink build` in that folder then needs no flags; an option on the command line overrides its key."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "build", help="build a single-file executable: an interpreter or an app", description=DESCRIPTION,
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dist", metavar="DIST", nargs="?",
                        help="full archive, extracted folder, version (3.12), cpython-3.X name or URL (default: source-built 3.11)")
    parser.add_argument("--extensions", default="auto", metavar="SPEC",
                        help="auto (default: minimal plus the extensions the app imports plus zlib; default "
                             "without an app), or a preset and edits, e.g. minimal,+_json,+zlib,-readline "
                             "(see `relink plan --help`); edits also apply after auto")
    parser.add_argument("-o", "--output", type=Path,
                        help="the executable to write (default: ./python, or the app's name)")
    parser.add_argument("--app", type=Path, help="an app script, or a folder with --entry")
    parser.add_argument("--entry", metavar="MODULE[:FUNCTION]",
                        help="with an app folder: the module to run, or the function to call")
    parser.add_argument("--include", type=Path, action="append", default=[], metavar="DIR",
                        help="a folder of dependencies (e.g. a venv's site-packages): their packages are embedded "
                             "whole, with data, dist-info and native modules (loaded from memory); repeatable")
    parser.add_argument("--strict", action="store_true",
                        help="an import that nothing provides is an error (exit 3), not a warning")
    parser.add_argument("--stdlib", default="auto", metavar="auto|full|NAMES",
                        help="stdlib modules to embed: auto (what the app reaches plus start-up needs; full when "
                             "there is no app), full, or a comma list of module names (plus start-up needs)")
    parser.add_argument("--exclude", action="append", default=[], metavar="NAME",
                        help="leave a module (and its submodules) out; an error if the app itself imports it")
    parser.add_argument("--optimize", type=int, choices=(0, 1, 2), default=0,
                        help="bytecode optimization level (2 drops docstrings and asserts)")
    parser.add_argument("--embed-source", action="store_true",
                        help="embed the .py sources too: tracebacks show source lines, inspect.getsource and "
                             "pydoc work (the payload about doubles)")
    parser.add_argument("--no-compress", action="store_true",
                        help="store the embedded bytecode uncompressed: start-up about 20%% faster (no inflating "
                             "at each import), the file 30-40%% bigger (see bench/corpus.md)")
    parser.add_argument("--no-copyleft", action="store_true", help="leave out extensions under copyleft licenses")
    parser.add_argument("--no-libraries", action="store_true",
                        help="leave out extensions that link any library beyond the C runtime")
    exports = parser.add_mutually_exclusive_group()
    exports.add_argument("--export-dynamic", action="store_true",
                         help="link the whole core and export the C API, so external extension modules can load "
                              "(the default without --app, as for stock python)")
    exports.add_argument("--no-export-dynamic", action="store_true",
                         help="without --app: export no C API (a smaller interpreter that loads no extension "
                              "module from disk)")
    parser.add_argument("--no-strip", action="store_true", help="keep symbols in the linked interpreter")
    parser.add_argument("--fast-link", action="store_true",
                        help="for LLVM bitcode: ThinLTO without cross-module inlining; links in about half the "
                             "time and relinks another extension set in seconds, but the interpreter runs "
                             "3-10%% slower in loops (see bench/results.md)")
    parser.add_argument("--glibc", metavar="X.Y",
                        help="the oldest glibc OUT must run on (default: the distribution's own floor, from its "
                             "crt_features; PBS: 2.17); linked against that glibc's symbol versions and verified")
    parser.add_argument("--python", type=Path, metavar="PATH",
                        help="a CPython of the distribution's X.Y that runs here, to compile the bytecode when the "
                             "distribution's own interpreter cannot (another CPU or C library); default: pythonX.Y "
                             "on PATH; its bytecode magic number must be the distribution's")
    parser.add_argument("--cc", metavar="CC",
                        help="compile and link with this C compiler driver (e.g. gcc, clang-19) instead of the "
                             "pinned clang + lld: for archives that need no LLVM (native ELF, or `relink lower`ed); "
                             "the toolchain gate checks it first; it links for this machine, against its glibc (no --glibc)")
    parser.add_argument("--linker", metavar="LD",
                        help="with --cc: the linker, e.g. ld.gold, ld.bfd, ld.lld-22 (clang takes it by path, gcc "
                             "by kind); default: the compiler's own")
    parser.add_argument("--skip-toolchain-check", action="store_true",
                        help="go on even if the toolchain gate refuses the compiler/linker for these objects")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    output.add_argument("--json", action="store_true",
                        help="progress as JSON lines on stderr, the result as JSON on stdout")
    parser.set_defaults(func=_build, options_parser=parser)
    record_explicit_options(parser)


def _default_output(args: argparse.Namespace) -> Path:
    if args.app is None:
        return Path("python")
    if args.entry:
        return Path(args.entry.partition(":")[0].split(".")[0])
    return Path(args.app.stem)


def _build(args: argparse.Namespace) -> int:
    from relink.app import AppSpec, BuildRequest, build_onefile
    from relink.errors import ExitCode, RelinkError
    from relink.support import StepReporter

    config = apply_tool_config(args, args.options_parser, Path.cwd())
    if config is not None and not (args.quiet or args.json):
        print(f"relink: options from [tool.relink] in {config}", file=sys.stderr)
    if args.linker and not args.cc:
        raise RelinkError("--linker needs --cc (the pinned clang links with its own lld)", ExitCode.USAGE)
    if args.cc and args.glibc:
        raise RelinkError("--glibc needs the pinned clang (it links against that glibc's stubs); --cc links "
                          "against this machine's glibc", ExitCode.USAGE)
    app = AppSpec(args.app, entry=args.entry, includes=tuple(args.include)) if args.app else None
    stdlib = args.stdlib if args.stdlib in ("auto", "full") else tuple(n for n in args.stdlib.split(",") if n)
    excludes = tuple(n for value in args.exclude for n in value.split(",") if n)
    request = BuildRequest(
        output=args.output or _default_output(args), dist=args.dist, extensions=args.extensions, app=app,
        stdlib=stdlib, excludes=excludes, optimize=args.optimize, embed_source=args.embed_source,
        compress=not args.no_compress,
        no_copyleft=args.no_copyleft,
        no_libraries=args.no_libraries, export_dynamic=True if args.export_dynamic else False if args.no_export_dynamic else None, strip=not args.no_strip,
        fast_link=args.fast_link, glibc=args.glibc, python=args.python, strict=args.strict,
        skip_toolchain_check=args.skip_toolchain_check, cc=args.cc, linker=args.linker,
    )
    reporter = StepReporter("json" if args.json else "quiet" if args.quiet else "text")
    result = build_onefile(request, reporter)
    if args.json:
        print(json_output.dumps(result.to_json()))
    elif not args.quiet:
        print(f"{result.output} ({result.size / 1e6:.1f} MB, {len(result.extensions)} builtin modules, "
              f"{result.modules} embedded Python modules{'' if result.relinked else ', interpreter from cache'})")
        print(f"licenses of what was linked: {result.licenses}")
    return 0
