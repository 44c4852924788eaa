"""Outputs that never destroy inputs: the check every command writing a user-named file runs first.

An output may not be (or, through a link, point to) a file the same command reads — the app's source, the
distribution archive, a PYTHON.json — nor replace an existing file inside a folder it reads (the app
folder, an `--include` folder, an extracted distribution) unless that file is a previous relink
executable (an ELF file), so rebuilding in place works while sources and data are never overwritten.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from relink.errors import ExitCode, RelinkError

__all__ = ["refuse_overwriting_inputs"]


def _is_executable_output(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def refuse_overwriting_inputs(outputs: Iterable[Path], inputs: Iterable[tuple[Path, str]]) -> None:
    """RelinkError (usage) if writing any of `outputs` would replace one of `inputs` ((path, what) pairs:
    files or folders) or a non-executable file inside an input folder."""
    inputs = [(Path(path), what) for path, what in inputs if os.path.lexists(path)]
    for output in outputs:
        target = Path(os.path.abspath(output))
        resolved = target.resolve()
        for source, what in inputs:
            source_resolved = source.resolve()
            same = resolved == source_resolved or target == Path(os.path.abspath(source))
            if not same and os.path.lexists(target) and os.path.exists(source):
                try:
                    same = os.path.samefile(target, source)
                except OSError:
                    same = False
            if same:
                raise RelinkError(f"{output}: the output is {what} ({source}); choose another output path",
                                  ExitCode.USAGE)
            inside = source_resolved.is_dir() and resolved.is_relative_to(source_resolved)
            if inside and os.path.lexists(target) and not _is_executable_output(target):
                raise RelinkError(f"{output}: the output would replace a file inside {what} ({source}); "
                                  "choose another output path", ExitCode.USAGE)
