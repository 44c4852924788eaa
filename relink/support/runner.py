"""Running external commands (configure, make, cmake, ninja, clang, strip…): shown, logged and followed.

With `-v` (`RELINK_VERBOSE=1`, which relink processes started by a build inherit) every external command
is printed on stderr as `relink: $ command` before it runs. `run_logged` sends a command's output to its
log file while a status line follows it: on a terminal, one redrawn line with a spinner, the elapsed time
and the latest progress (ninja's `[x/y]`, else the last output line); elsewhere (logs, CI) a plain line
every `PLAIN_EVERY_SECONDS` with the same facts. Quiet callers get neither.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from relink.support.processes import end_tool, start_tool

__all__ = ["VERBOSE_ENV", "LiveStatus", "announce", "is_verbose", "run_logged", "set_verbose"]

VERBOSE_ENV = "RELINK_VERBOSE"
PLAIN_EVERY_SECONDS = 15.0
_REDRAW_SECONDS = 0.1
_SPINNER = "|/-\\"
_NINJA = re.compile(r"^\[(\d+)/(\d+)\]\s*(.*)")


def set_verbose(on: bool) -> None:
    """Turn command echoing on for this process and the relink processes it starts."""
    if on:
        os.environ[VERBOSE_ENV] = "1"


def is_verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def announce(argv: Sequence[str | os.PathLike[str]], cwd: str | os.PathLike[str] | None = None) -> None:
    """Print `argv` (as a shell could run it) on stderr when verbose."""
    if is_verbose():
        where = f"(in {cwd}) " if cwd else ""
        print(f"relink: $ {where}{shlex.join(map(os.fspath, argv))}", file=sys.stderr, flush=True)


class LiveStatus:
    """A status line for one long step: `label` plus elapsed time and the latest `update` text."""

    def __init__(self, label: str, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.label = label
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._live = not quiet and self._stream.isatty()
        self._text = ""
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        if not quiet:
            # A thread, so the line moves (and the plain lines come) even while the command prints nothing.
            self._thread = threading.Thread(target=self._draw_loop, daemon=True)
            self._thread.start()

    def update(self, text: str) -> None:
        with self._lock:
            self._text = text

    def _line(self, tick: int) -> str:
        with self._lock:
            text = self._text
        head = f"{_SPINNER[tick % len(_SPINNER)]} {self.label}  {time.monotonic() - self._started:5.1f} s  "
        room = shutil.get_terminal_size().columns - len(head) - 1
        if len(text) > room:
            text = text[: max(room - 1, 0)] + "…"
        return head + text

    def _draw_loop(self) -> None:
        tick = 0
        while not self._done.wait(_REDRAW_SECONDS if self._live else PLAIN_EVERY_SECONDS):
            if self._live:
                self._stream.write(f"\r{self._line(tick)}\x1b[K")
            else:
                with self._lock:
                    text = self._text
                self._stream.write(f"relink: {self.label}: {time.monotonic() - self._started:.0f} s {text}".rstrip()
                                   + "\n")
            self._stream.flush()
            tick += 1

    def close(self) -> None:
        """Stop redrawing and clear the line (the caller prints the step's outcome)."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            if self._live:
                self._stream.write("\r\x1b[K")
                self._stream.flush()

    def __enter__(self) -> LiveStatus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _status_of(line: str) -> str:
    """What a line of output says about progress: ninja's `[x/y] what`, else the line itself."""
    match = _NINJA.match(line)
    if match:
        return f"[{match[1]}/{match[2]}] {match[3]}"
    return line


def run_logged(argv: Sequence[str | os.PathLike[str]], log: TextIO, label: str, *, cwd: Path | None = None,
               env: dict[str, str] | None = None, quiet: bool = False) -> int:
    """Run `argv` as a tool that ends with relink (`processes.start_tool`), its output (stdout and stderr)
    appended to `log` while a `LiveStatus` follows it; returns the exit status."""
    announce(argv, cwd)
    log.write(f"$ {shlex.join(map(os.fspath, argv))}\n")
    log.flush()
    process = start_tool([os.fspath(a) for a in argv], cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1)
    assert process.stdout is not None
    try:
        with LiveStatus(label, quiet=quiet) as status:
            for line in process.stdout:
                log.write(line)
                stripped = line.strip()
                if stripped:
                    status.update(_status_of(stripped))
            return process.wait()
    except BaseException:
        end_tool(process)  # interrupted: the tool and everything it started end with relink
        raise
    finally:
        process.stdout.close()
        log.flush()
