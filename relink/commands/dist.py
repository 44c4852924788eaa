"""`relink dist …`: producing distributions (a PBS-format full archive built from CPython source)."""

from __future__ import annotations

import argparse
from pathlib import Path

from relink.errors import EXIT_CODES_HELP

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dist", help="build a PBS-format full archive from CPython source",
        description="Produce relinkable distributions in python-build-standalone's full-archive format.",
    )
    actions = parser.add_subparsers(dest="dist_command", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build", help="build cpython-X.Y.Z+local-<triple>-<options>-full.tar.zst from CPython source",
        description=(
            "Build CPython with the pinned clang into a PBS-format full archive (objects, static libraries, "
            "PYTHON.json, licenses, install tree). Without SOURCE, Debian's python3.11 source package is "
            "fetched with apt. Results are cached by source hash, options, builder revision and compiler "
            "version: a second request is instant."
        ),
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("source", nargs="?", type=Path,
                       help="a CPython source tarball (Python-3.X.Y.tgz or .tar.xz, 3.11-3.14)")
    build.add_argument("--no-lto", action="store_true",
                       help="native ELF objects (object_file_format 'elf', build options 'noopt') instead of "
                            "ThinLTO LLVM bitcode ('lto')")
    build.add_argument("-o", "--output-dir", type=Path, help="also copy the archive into this directory")
    build.add_argument("-j", "--jobs", type=int, help="parallel make jobs (default: number of CPUs)")
    build.add_argument("--force", action="store_true", help="rebuild even if the cache has this archive")
    build.add_argument("--print-path", action="store_true", help="print only the archive's path on stdout")
    build.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    build.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    from relink.distribution import BuildOptions, build_distribution

    options = BuildOptions(lto=not args.no_lto, **({"jobs": args.jobs} if args.jobs else {}))
    archive = build_distribution(args.source, options, output_dir=args.output_dir, force=args.force,
                                 quiet=args.quiet or args.print_path)
    print(archive)
    return 0
