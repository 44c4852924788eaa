"""The output formats `relink generate` offers and the files each one consists of.

Kept apart from the renderers (`files`, which need jinja2) so that a command's parser gets the format
names without importing them.
"""

from __future__ import annotations

from collections.abc import Iterable

from relink.errors import ExitCode, RelinkError

__all__ = ["FORMATS", "FORMAT_FILES", "LIBRARY", "expand_formats"]

# What each output format consists of (plan.json is always written: it explains the other files).
# config.o is the compiled config.c and LIBRARY the packed static library (libpython3.X.a: config.o,
# the plan's objects and static libraries), which relink.render.project makes; the rest relink.render.files renders.
LIBRARY = "libpython"
FORMAT_FILES = {
    "cmake": ("CMakeLists.txt", "config.c", "main.c"),
    "rsp": ("config.c", "config.o", "link.rsp"),
    "cargo": ("config.c", "config.o", LIBRARY, "cargo-link.txt"),
    "pyo3": ("config.c", "config.o", LIBRARY, "pyo3-config.txt"),
    "json": (),
}
FORMATS = (*FORMAT_FILES, "all")


def expand_formats(formats: Iterable[str]) -> list[str]:
    """The formats named (\"all\" is every one), deduplicated; RelinkError(USAGE) for an unknown one."""
    chosen = list(dict.fromkeys(formats))
    for fmt in chosen:
        if fmt not in FORMATS:
            raise RelinkError(f"unknown format '{fmt}' (choose from {', '.join(FORMATS)})", ExitCode.USAGE)
    return list(FORMAT_FILES) if "all" in chosen else chosen
