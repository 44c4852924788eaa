"""`relink lower DIST`: compile a bitcode distribution's objects to native ones, once; prints the new root."""

from __future__ import annotations

import argparse

from relink.errors import ExitCode
from relink.toolchain import pinned_toolchain

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lower",
        help="turn LLVM bitcode objects into native ones any linker can use",
        description="Compile every LLVM bitcode object and static-library member of DIST to a native object "
        "with a clang at least as new as the producer, into relink's cache, and print the folder of the "
        "derived distribution (its PYTHON.json says object_file_format 'elf'); open it like any distribution.",
    )
    parser.add_argument("dist", metavar="DIST", help="full archive (.tar.zst/.tar.gz) or extracted folder")
    parser.add_argument("--cc", help=f"clang used to lower (default: the pinned {pinned_toolchain().clang})")
    parser.add_argument("-j", "--jobs", type=int, help="parallel compiles (default: the number of CPUs)")
    parser.set_defaults(func=_lower)


def _lower(args: argparse.Namespace) -> int:
    from relink.toolchain import lower_distribution

    print(lower_distribution(args.dist, cc=args.cc, jobs=args.jobs))
    return ExitCode.OK
