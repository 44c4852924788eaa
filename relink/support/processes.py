"""Running compilers, linkers and build tools so that they end when relink ends.

Each tool runs in a process group of its own (so relink can signal it and everything it started), with
Linux's parent-death signal set, so even a `kill -9` of relink sends it SIGTERM. If relink is interrupted
(Ctrl-C, or SIGTERM, which `relink.cli` turns into KeyboardInterrupt), the group gets SIGTERM, then SIGKILL
after a grace period. Ninja passes SIGTERM on to the process groups it gives its jobs, and make's jobs are
in its own group, so no clang or lld runs on after relink has gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

__all__ = ["end_tool", "run_tool", "start_tool"]

_PR_SET_PDEATHSIG = 1
_GRACE_SECONDS = 5


def _die_with_parent() -> None:
    """In the child, before exec: ask the kernel for SIGTERM when relink dies (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _end_group(process: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(_GRACE_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def start_tool(argv: Sequence[str], **options: object) -> subprocess.Popen:
    """`subprocess.Popen(argv, **options)` in its own process group, with the parent-death signal; a caller
    that stops waiting for it (an exception) must `end_tool` it."""
    extra = {"preexec_fn": _die_with_parent} if sys.platform.startswith("linux") else {}
    return subprocess.Popen(list(argv), start_new_session=True, **extra, **options)  # type: ignore[arg-type]


def end_tool(process: subprocess.Popen) -> None:
    """Stop a tool from `start_tool` and everything it started: SIGTERM, then SIGKILL after a grace period."""
    _end_group(process)


def run_tool(argv: Sequence[str], **options: object) -> subprocess.CompletedProcess:
    """`subprocess.run(argv, **options)` (no `check`, no `timeout`) in its own process group, ended with
    relink: an exception while waiting (KeyboardInterrupt included) stops the whole group first."""
    process = start_tool(argv, **options)
    try:
        stdout, stderr = process.communicate()
    except BaseException:
        _end_group(process)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
