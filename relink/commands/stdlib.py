"""`relink stdlib DIST -o FILE.zip`: the distribution's stdlib as bytecode, for a program that embeds the
relinked interpreter to carry beside it (see relink.app.stdlib)."""

from __future__ import annotations

import argparse
from pathlib import Path

from relink.errors import EXIT_CODES_HELP, RelinkError

__all__ = ["register"]

DESCRIPTION = """\
Write the distribution's standard library as one zip of bytecode compiled by the distribution's own
interpreter, for a program that embeds the relinked interpreter (relink_target_link_python, a generated
project, Cargo or PyO3) to carry with it: put it beside the executable as python3XY.zip (the default
name) and make it the interpreter's only module search path. Start-up needs (encodings, runpy's
imports) are always in. --extensions names what the program links: the zip is deflated only if that
includes zlib (zipimport needs it to inflate), else stored. The output is written to a temporary file
beside FILE (its folder created if missing) and renamed, so a failure leaves no partial file."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stdlib", help="write the stdlib as a zip of bytecode for an embedding program", description=DESCRIPTION,
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dist", metavar="DIST", help="full archive, extracted folder, cpython-3.X name or URL")
    parser.add_argument("--extensions", default="default", metavar="SPEC",
                        help="the extensions the embedding program links (default: %(default)s), as in "
                             "`relink plan`: decides whether the zip can be deflated")
    parser.add_argument("--modules", default="full", metavar="full|NAMES",
                        help="full (default: every module but tests, GUI and installers) or a comma list of "
                             "modules, embedded with what they import at import time")
    parser.add_argument("--exclude", action="append", default=[], metavar="NAME",
                        help="leave a module (and its submodules) out; repeatable")
    parser.add_argument("--optimize", type=int, choices=(0, 1, 2), default=0,
                        help="bytecode optimization level (2 drops docstrings and asserts)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE.zip",
                        help="the zip to write (default: python3XY.zip in the current folder)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from relink.app import stdlib_zip, stdlib_zip_name
    from relink.distribution import open_distribution
    from relink.plan import make_plan
    from relink.support import atomic_write_bytes

    if args.output is not None and args.output.is_dir():
        raise RelinkError(f"{args.output}: is a folder; name the zip to write, e.g. {args.output}/python3XY.zip")
    dist = open_distribution(args.dist)
    plan = make_plan(dist, args.extensions)
    modules = "full" if args.modules == "full" else [name for name in args.modules.split(",") if name]
    excludes = tuple(name for value in args.exclude for name in value.split(",") if name)
    result = stdlib_zip(dist, modules, excludes=excludes, optimize=args.optimize,
                        deflate="zlib" in plan.extension_names)
    output = args.output or Path(stdlib_zip_name(plan.python_major_minor_version))
    atomic_write_bytes(output, result.data)
    print(f"{output} ({result.modules} modules, {len(result.data) / 1e6:.1f} MB, "
          f"{'deflated' if result.deflated else 'stored: the program links no zlib'})")
    return 0
