"""The `relink` command line: argument parsing, error printing and exit codes.

Each subcommand lives in a module of `relink.commands` that registers its parser; this module only
assembles them, runs the chosen one, and turns a `RelinkError` into one line on stderr and its code.
"""

from __future__ import annotations

import argparse
import os
import sys

from relink import __version__
from relink.commands import COMMAND_MODULES
from relink.errors import EXIT_CODES_HELP, ExitCode, RelinkError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relink",
        description="Relink python-build-standalone full archives into custom executables.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"relink {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    try:
        return int(args.func(args) or 0)
    except RelinkError as error:
        print(f"relink: error: {error.message}", file=sys.stderr)
        return int(error.code)
    except KeyboardInterrupt:
        print("relink: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`relink … | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
