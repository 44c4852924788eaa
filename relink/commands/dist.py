"""`relink dist …`: producing distributions (building a PBS-format full archive from CPython source)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dist", help="build a PBS-format full archive from CPython source")
    sub = parser.add_subparsers(dest="dist_command", metavar="ACTION")
    sub.add_parser("build", help="build a full archive from a CPython source tarball (in progress)")
