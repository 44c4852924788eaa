"""The one error type users see, and the exit codes it maps to.

Every failure caused by input, environment or an external tool is a `RelinkError` carrying one clear
line (what happened, which file, what to do) and an exit code from `ExitCode`. The CLI prints the line
and exits with the code; nothing else should print a traceback for bad input.
"""

from __future__ import annotations

import enum

__all__ = ["ExitCode", "RelinkError", "EXIT_CODES_HELP"]


class ExitCode(enum.IntEnum):
    OK = 0
    INTERNAL = 1          # a bug in relink: please report it
    USAGE = 2             # bad command-line arguments
    INVALID_INPUT = 3     # a file or distribution is missing, corrupt, hostile or unsupported (or unwritable)
    TOOLCHAIN = 4         # a compiler/linker is missing or cannot read the distribution's objects
    BUILD_FAILED = 5      # an external build step (configure, make, cmake, ninja) failed
    NETWORK = 6           # a download failed or a checksum did not match
    VERIFY_FAILED = 7     # `relink verify`: the binary contradicts what was expected of it
    INTERRUPTED = 130


EXIT_CODES_HELP = """exit codes:
  0    success
  1    internal error (a bug in relink)
  2    bad command-line usage
  3    invalid input: missing, corrupt, hostile or unsupported file or distribution, or a file
       or folder the machine refuses (disk full, read-only, unwritable)
  4    toolchain problem: compiler or linker missing or incompatible with the objects
  5    an external build step failed (the message names its log file)
  6    network or checksum failure
  7    verification failed: the binary contradicts the expectations (one line per problem)
  130  interrupted"""


class RelinkError(Exception):
    """A user-facing failure: `message` is one line; `code` is the process exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.INVALID_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
