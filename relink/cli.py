"""The `relink` command line: argument parsing, error printing and exit codes.

Each subcommand lives in a module of `relink.commands` that registers its parser; this module only
assembles them, runs the chosen one, and turns a `RelinkError` into one line on stderr and its code.
Only the chosen command's module is imported (all of them for `relink --help`), so start-up stays fast.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys

from relink import __version__
from relink.commands import COMMANDS, command_modules
from relink.errors import EXIT_CODES_HELP, ExitCode, RelinkError

__all__ = ["main", "build_parser"]


def _commands_for(argv: list[str] | None) -> list[str] | None:
    """The commands whose parsers `argv` needs: the one it names, none for `--version`, else all (None)."""
    if argv is None:
        return None
    for word in argv:
        if not word.startswith("-"):
            return [word] if word in COMMANDS else None
    return [] if "--version" in argv and not {"-h", "--help"} & set(argv) else None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`'s command only; for every command when `argv` is None or names none."""
    parser = argparse.ArgumentParser(
        prog="relink",
        description="Relink python-build-standalone full archives into custom executables.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"relink {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=_VERBOSE_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules(_commands_for(argv)):
        module.register(subparsers)
    _add_verbose(subparsers)
    return parser


_VERBOSE_HELP = "print each external command (configure, make, cmake, clang, …) as it runs"


def _add_verbose(subparsers: argparse._SubParsersAction) -> None:
    """-v/--verbose on every command too (`relink build -v`), not only before it (`relink -v build`)."""
    for parser in subparsers.choices.values():
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in nested:
            _add_verbose(action)
        if not nested and "--verbose" not in parser._option_string_actions:
            # SUPPRESS: when not given here, `relink -v build` keeps the top-level value.
            parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                help=_VERBOSE_HELP)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    # SIGTERM unwinds like Ctrl-C: staging folders are removed and the tools relink started are stopped.
    try:
        signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:
        pass  # not the main thread (main() called by another program): only that one may set handlers
    if args.verbose:
        from relink.support.runner import set_verbose

        set_verbose(True)
    try:
        return int(args.func(args) or 0)
    except RelinkError as error:
        print(f"relink: error: {_one_line(error.message)}", file=sys.stderr)
        return int(error.code)
    except KeyboardInterrupt:
        print("relink: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except OSError as error:
        # `relink … | head`: the reader went away, not an error worth a message. Otherwise the machine said
        # no (disk full, read-only or unwritable folder, a path too long): one line, exit 3.
        if isinstance(error, BrokenPipeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return int(ExitCode.OK)
        print(f"relink: error: {_one_line(_describe_os_error(error))}", file=sys.stderr)
        return int(ExitCode.INVALID_INPUT)
    finally:
        # The command is over: it no longer uses the cache (matters when main() runs inside another program).
        cache = sys.modules.get("relink.support.cache")
        if cache is not None:
            cache.release_cache_locks()


def _describe_os_error(error: OSError) -> str:
    where = error.filename if error.filename is not None else "relink"
    if error.errno == errno.ENOSPC:
        return f"{where}: disk full (no space left on the device): free some space and retry"
    return f"{where}: {error.strerror or error}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _one_line(message: str) -> str:
    """`message` with control characters (a newline from a hostile file name or value) shown escaped, and
    text that cannot be encoded (lone surrogates from undecodable names) as escapes: always one line."""
    escaped = "".join(repr(c)[1:-1] if c < " " or c == "\x7f" else c for c in message)
    return escaped.encode("utf-8", "backslashreplace").decode("utf-8")
