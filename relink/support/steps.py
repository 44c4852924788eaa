"""Progress of multi-step commands (extraction, compilation, link, embedding), out of the way.

Text mode prints one line on stderr when a step starts and one when it ends with its duration; JSON
mode prints the same as JSON lines on stderr (`{"event": "step", "name": …, "seconds": …}`), so
machines can follow along; quiet mode prints nothing. Each finished step is also kept in `steps`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from relink import json_output

__all__ = ["StepReporter"]


@dataclass
class StepReporter:
    mode: str = "text"                       # "text", "json" or "quiet"
    steps: list[dict] = field(default_factory=list)

    def _emit(self, record: dict) -> None:
        if self.mode == "json":
            print(json_output.dumps(record, indent=None, sort_keys=True), file=sys.stderr, flush=True)
        elif self.mode == "text":
            if record["event"] == "start":
                print(f"relink: {record['name']}…", file=sys.stderr, flush=True)
            elif record["event"] == "step":
                detail = f" ({record['detail']})" if record.get("detail") else ""
                print(f"relink: {record['name']}: {record['seconds']:.2f} s{detail}", file=sys.stderr, flush=True)
            else:
                print(f"relink: {record['message']}", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        self._emit({"event": "note", "message": message})

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[dict]:
        """Times a step; the body may add a short `detail` (e.g. "cached") to the yielded dict."""
        self._emit({"event": "start", "name": name})
        record: dict = {"event": "step", "name": name}
        started = time.monotonic()
        yield record
        record["seconds"] = round(time.monotonic() - started, 3)
        self.steps.append(record)
        self._emit(record)
