"""`relink verify BINARY`: check a built executable's needed libraries, glibc floor, exported C API and
inittab against expectations (options, a saved plan, or a distribution's crt_features).

This module owns the command's arguments and output only; reading is `relink.report.binary_info`, judging is
`relink.report.verify` (imported on use: lief is slow to import). Each problem is one line on stderr and the exit code is 7 (ExitCode.VERIFY_FAILED).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from relink import json_output
from relink.errors import EXIT_CODES_HELP, ExitCode

if TYPE_CHECKING:
    from relink.report import Expectations, VerifyReport

__all__ = ["register", "run"]


def _expectations(args: argparse.Namespace) -> Expectations:
    import dataclasses

    from relink.distribution import open_distribution
    from relink.report import Expectations, load_plan_expectations, parse_glibc_version

    metadata = open_distribution(args.dist).metadata if args.dist else None
    if args.plan:
        expected = load_plan_expectations(args.plan, metadata)
    else:
        expected = Expectations(max_glibc=metadata.crt_features.glibc_max_version if metadata else None)
    if args.expect_builtins is not None:
        names = tuple(n.strip() for n in args.expect_builtins.split(",") if n.strip())
        expected = dataclasses.replace(expected, builtins=names)
    if args.max_glibc:
        expected = dataclasses.replace(expected, max_glibc=parse_glibc_version(args.max_glibc))
    if args.export_dynamic:
        expected = dataclasses.replace(expected, exports_c_api=True)
    return dataclasses.replace(expected, allowed_libraries=tuple(args.allow_library or ()))


def _print(report: VerifyReport) -> None:
    info = report.info
    print(f"{info.path}: ELF {info.machine}{' PIE' if info.pie else ''}, {info.size} bytes"
          f"{', stripped' if info.stripped else ''}")
    print(f"  needs: {', '.join(info.needed) or '(nothing: static)'}")
    if report.extra_libraries:
        print(f"  beyond the base libraries: {', '.join(report.extra_libraries)}")
    print(f"  newest glibc symbol version: {info.glibc_required_text or '-'}")
    print(f"  exports the Python C API: {'yes' if info.exports_c_api else 'no'}")
    names = info.builtin_names
    print(f"  builtin modules (inittab): {len(names) if names is not None else 'not found'}")
    sizes = {name: info.sections[name] for name in (".text", ".rodata", ".data", ".bss") if name in info.sections}
    print("  sections: " + ", ".join(f"{name} {size}" for name, size in sizes.items()))


def run(args: argparse.Namespace) -> int:
    from relink.report import verify_binary  # lief takes half a second to import: only when verifying

    report = verify_binary(args.binary, _expectations(args))
    if args.json:
        print(json_output.dumps(report.to_json()))
    else:
        _print(report)
    for problem in report.problems:
        print(f"relink: verify: {args.binary}: {problem}", file=sys.stderr)
    return int(ExitCode.OK if report.ok else ExitCode.VERIFY_FAILED)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check a built executable: shared libraries, glibc version, C API exports, inittab",
        description="Read an ELF executable with lief and check it: every shared library it needs beyond "
        "the base ones (libc, libm, libdl, libpthread, libutil, librt, the dynamic loader, libgcc_s) is a "
        "problem, as is a glibc symbol version newer than --max-glibc (or DIST's crt_features), an inittab "
        "that differs from --expect-builtins or --plan, and a missing C API export when one is expected.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("binary", metavar="BINARY", help="the executable to check")
    parser.add_argument("--max-glibc", metavar="X.Y", help="newest glibc symbol version allowed")
    parser.add_argument("--dist", metavar="DIST", help="take --max-glibc from this distribution's crt_features")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--expect-builtins", metavar="A,B,C", help="the exact builtin modules the inittab must hold")
    source.add_argument("--plan", metavar="PLAN.json", help="a plan saved by 'relink plan --json': its extensions "
                        "are the expected inittab; --export-dynamic plans must export the C API")
    parser.add_argument("--export-dynamic", action="store_true", help="require the Python C API to be exported")
    parser.add_argument("--allow-library", action="append", metavar="SONAME",
                        help="a shared library that may be needed besides the base ones (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the findings and problems as JSON")
    parser.set_defaults(func=run)
