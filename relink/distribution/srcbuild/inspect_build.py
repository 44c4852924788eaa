"""Reading facts out of a finished CPython build tree: make variables, the inittab, link words.

Everything here asks the build itself (its Makefile, its generated Modules/config.c), so the metadata
describes what was really built rather than what we meant to build.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from relink.errors import ExitCode, RelinkError

__all__ = ["InittabRow", "make_variables", "read_inittab", "parse_link_words"]


@dataclass(frozen=True)
class InittabRow:
    name: str
    init_fn: str      # "NULL" for builtins/sys, as in config.c
    fixed: bool       # a row of config.c.in after ADDMODULE MARKER 2: code lives in the core


def make_variables(build_dir: Path, names: list[str]) -> dict[str, str]:
    """Values of Makefile variables, fully expanded by make itself."""
    printer = "relink-print-vars:\n" + "".join(f"\t$(info @@{n}=$({n}))\n" for n in names) + "\t@:\n"
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "relink-print-vars"],
        cwd=build_dir, input=printer, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RelinkError(f"{build_dir}/Makefile: cannot read make variables ({result.stderr.strip()[-200:]})",
                          ExitCode.BUILD_FAILED)
    values = {}
    for line in result.stdout.splitlines():
        if line.startswith("@@") and "=" in line:
            key, _, value = line[2:].partition("=")
            values[key] = " ".join(value.split())
    return values


_ROW_RE = re.compile(r'\{\s*"([^"]+)"\s*,\s*([A-Za-z_0-9]+)\s*\}')


def read_inittab(config_c: Path) -> list[InittabRow]:
    text = config_c.read_text()
    marker = "/* -- ADDMODULE MARKER 2 -- */"
    if marker not in text:
        raise RelinkError(f"{config_c}: no ADDMODULE MARKER 2; not a generated CPython config.c")
    added, fixed = text.split(marker, 1)
    table_start = added.rfind("_PyImport_Inittab[]")
    rows = [InittabRow(m[1], m[2], False) for m in _ROW_RE.finditer(added[table_start:])]
    rows += [InittabRow(m[1], m[2], True) for m in _ROW_RE.finditer(fixed)]
    return rows


def parse_link_words(words: str, build_dir: Path) -> list[tuple[str, Path | None]]:
    """(library name, explicit archive path or None) for each library named by linker words."""
    libraries: list[tuple[str, Path | None]] = []
    for word in words.split():
        if word == "-pthread":
            libraries.append(("pthread", None))
        elif word.startswith("-l:lib") and word.endswith(".a"):
            libraries.append((word[6:-2], None))
        elif word.startswith("-l"):
            libraries.append((word[2:], None))
        elif word.endswith(".a"):
            path = (build_dir / word).resolve()
            match = re.fullmatch(r"lib(.+)\.a", path.name)
            if match:
                libraries.append((match[1], path))
    return libraries
