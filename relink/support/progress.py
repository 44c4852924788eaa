"""Byte-count progress for long transfers, on stderr, staying out of the way.

On a terminal `ByteProgress` redraws one line (`name  12.0/36.9 MiB  32%  5.1 MiB/s`, the name shortened to
fit) at most ten times a second and ends it with the final size; elsewhere (logs, CI) it prints one line when it
starts and one when it ends. `quiet` silences it. It knows nothing about where the bytes come from.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

__all__ = ["ByteProgress", "human_bytes"]

_REDRAW_SECONDS = 0.1


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


class ByteProgress:
    """Progress of one transfer of `total` bytes (None if unknown), resumed at `done` bytes."""

    def __init__(self, label: str, total: int | None, done: int = 0, *, quiet: bool = False,
                 stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = done
        self._start_done = done
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._live = not quiet and self._stream.isatty()
        self._started = time.monotonic()
        self._drawn = 0.0
        if not quiet and not self._live:
            resumed = f", resuming at {human_bytes(done)}" if done else ""
            size = human_bytes(total) if total is not None else "unknown size"
            print(f"relink: downloading {label} ({size}{resumed})", file=self._stream, flush=True)

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self._live and now - self._drawn >= _REDRAW_SECONDS:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = (self.done - self._start_done) / max(now - self._started, 1e-6)
        if self.total:
            amount = f"{human_bytes(self.done)}/{human_bytes(self.total)}  {100 * self.done // self.total:3d}%"
        else:
            amount = human_bytes(self.done)
        stats = f"  {amount}  {human_bytes(rate)}/s"
        room = shutil.get_terminal_size().columns - len(stats) - 1
        label = self.label if len(self.label) <= room else self.label[: max(room - 1, 0)] + "…"
        self._stream.write(f"\r{label}{stats}\x1b[K")
        self._stream.flush()

    def finish(self, ok: bool) -> None:
        """End the line: with the size and time when `ok`, or leave the last state when interrupted."""
        if self._quiet:
            return
        elapsed = time.monotonic() - self._started
        if self._live:
            self._draw(time.monotonic())
            self._stream.write("\n")
        if ok:
            print(f"relink: downloaded {self.label} ({human_bytes(self.done)} in {elapsed:.1f} s)",
                  file=self._stream, flush=True)
