"""`relink extract DIST`: extract a whole distribution into the cache and say where it is.

This module owns the command's arguments and output only; the extraction itself (streaming, filtered,
locked, published by rename) is `Distribution.extract`. `add_arguments` and `run` are shared so another
command group can offer the same action (e.g. `relink dist extract`).
"""

from __future__ import annotations

import argparse

from relink.errors import EXIT_CODES_HELP

__all__ = ["register", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dist", metavar="DIST", help="a .tar.zst/.tar.gz full archive or an extracted folder")
    parser.add_argument(
        "--print-path", action="store_true", help="print only the directory that contains python/ (for scripts)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relink.distribution import open_distribution

    dist = open_distribution(args.dist)
    root = dist.extract()
    if args.print_path:
        print(root)
    else:
        print(f"{dist.source}: extracted; python/ is in {root}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="extract a full archive into the cache and print where",
        description="Extract a whole distribution into relink's cache (once per archive content; later runs "
        "reuse it) and print the directory that contains python/.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
