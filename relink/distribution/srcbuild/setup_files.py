"""CPython's Modules/Setup files: the Setup.local we write, and which module owns which objects.

`write_setup_local` makes every stdlib extension builtin (3.11 still builds a few with setup.py, so they
get explicit lines) and disables the ones a relinkable distribution must not carry. `read_static_modules`
follows makesetup's own rules (first rule wins, `*static*`/`*shared*`/`*disabled*` sections, automatic
`$(MODULE_<NAME>_CFLAGS/LDFLAGS)`) to tell, for each builtin module, its object files and link flags.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SetupModule", "write_setup_local", "merge_stdlib_rules", "read_static_modules", "setup_files_used"]

# Modules a relinkable distribution leaves out: Tk drags X11 into every link, gdbm is GPL, nis needs
# the deprecated libnsl, _dbm has no free backend here, and readline's libedit needs a libbsd newer than
# the glibc floor (see floor_libraries).
DISABLED_MODULES = ("_tkinter", "_gdbm", "_dbm", "nis", "readline")

# 3.11 builds these with setup.py, not from Setup.stdlib: give them rules so they become builtin too.
SETUP_PY_MODULES_311 = (
    "_ctypes _ctypes/_ctypes.c _ctypes/callbacks.c _ctypes/callproc.c _ctypes/stgdict.c _ctypes/cfield.c"
    " -ldl -lffi -DHAVE_FFI_PREP_CIF_VAR -DHAVE_FFI_PREP_CLOSURE_LOC -DHAVE_FFI_CLOSURE_ALLOC",
    # No '=' in a Setup line: makesetup would take it for a make variable.
    "_curses _cursesmodule.c -DHAVE_NCURSESW -I/usr/include/ncursesw -lncursesw -ltinfo",
    "_curses_panel _curses_panel.c -DHAVE_NCURSESW -I/usr/include/ncursesw -lpanelw -lncursesw -ltinfo",
)

_SOURCE_SUFFIXES = (".c", ".C", ".cc", ".c++", ".cxx", ".cpp", ".m")


@dataclass
class SetupModule:
    name: str
    setup_file: str
    objs: list[str] = field(default_factory=list)       # relative to the build dir, e.g. Modules/_io/fileio.o
    link_words: list[str] = field(default_factory=list)  # unexpanded: -lX, paths to .a, $(VARS)


def write_setup_local(build_dir: Path, minor: int) -> None:
    lines = ["# Written by relink: every extension builtin, none loaded from lib-dynload.", "*static*"]
    if minor == 11:
        lines += SETUP_PY_MODULES_311
    lines += ["*disabled*", *DISABLED_MODULES, ""]
    (build_dir / "Modules" / "Setup.local").write_text("\n".join(lines))


def setup_files_used(minor: int) -> tuple[str, ...]:
    """The Setup files makesetup reads, in its order (the first rule for a module wins).

    3.11 does not read Setup.stdlib on Linux: `merge_stdlib_rules` copies its rules into Setup.local.
    """
    stdlib = () if minor == 11 else ("Modules/Setup.stdlib",)
    return ("Modules/Setup.local", *stdlib, "Modules/Setup.bootstrap", "Modules/Setup")


def merge_stdlib_rules(build_dir: Path) -> None:
    """3.11: copy the rules configure enabled in Setup.stdlib into Setup.local, then re-run makesetup.

    Configure has already decided which modules can be built (others are commented out); the
    disabled modules stay out because their `*disabled*` lines remain after the copied rules.
    """
    local = build_dir / "Modules" / "Setup.local"
    head, _, tail = local.read_text().partition("*disabled*")
    rules = []
    section = "static"
    for line in _logical_lines((build_dir / "Modules" / "Setup.stdlib").read_text()):
        if line.startswith("*") and line.endswith("*"):
            section = line.strip("*")
            continue
        name = line.split()[0]
        if section == "static" and "=" not in line and name not in DISABLED_MODULES:
            rules.append(line)
    local.write_text(head + "\n".join(rules) + "\n*disabled*" + tail)
    subprocess.run(
        ["sh", "Modules/makesetup", "-c", "Modules/config.c.in", "-s", "Modules",
         "Modules/Setup.local", "Modules/Setup.bootstrap", "Modules/Setup"],
        cwd=build_dir, check=True, capture_output=True,
    )
    os.replace(build_dir / "config.c", build_dir / "Modules" / "config.c")


def _logical_lines(text: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", text)
    lines = []
    for raw in joined.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def read_static_modules(build_dir: Path, minor: int) -> dict[str, SetupModule]:
    """Builtin modules by name, as makesetup assigns them from the generated Setup files."""
    mode = "static"
    seen: set[str] = set()
    modules: dict[str, SetupModule] = {}
    for rel in setup_files_used(minor):
        path = build_dir / rel
        if not path.is_file():
            continue
        mode = "static"  # makesetup emits *doconfig* at the start of every file
        for line in _logical_lines(path.read_text()):
            if line in ("*static*", "*doconfig*"):
                mode = "static"
                continue
            if line in ("*shared*", "*noconfig*"):
                mode = "shared"
                continue
            if line == "*disabled*":
                mode = "disabled"
                continue
            if "=" in line or line.startswith("include "):
                continue
            names, sources, link_words, has_flags = _split_rule(line)
            fresh = [n for n in names if n not in seen]
            seen.update(names)
            if not fresh or mode != "static":
                continue
            if not has_flags:
                link_words = [f"$(MODULE_{'_'.join(names).upper()}_LDFLAGS)"]
            objs = [_object_for(src) for src in sources]
            for name in fresh:
                modules[name] = SetupModule(name, rel, objs=list(objs), link_words=list(link_words))
    return modules


def _split_rule(line: str) -> tuple[list[str], list[str], list[str], bool]:
    names: list[str] = []
    sources: list[str] = []
    libs: list[str] = []
    has_flags = False
    words = line.split()
    skip: str | None = None
    for word in words:
        if skip:
            (libs if skip == "libs" else []).append(word)
            has_flags = True
            skip = None
            continue
        if word in ("-framework", "-Xlinker", "-rpath", "--rpath", "-u"):
            libs.append(word)
            skip, has_flags = "libs", True
        elif word == "-Xcompiler":
            skip, has_flags = "cpps", True
        elif re.match(r"-[IDUCfF]", word):
            has_flags = True
        elif re.match(r"-[A-Zl]", word) or word.endswith((".a", ".so", ".sl", ".def")) or (
            word.startswith("/") and word.endswith(".o")
        ):
            libs.append(word)
            has_flags = True
        elif word.endswith(".o"):
            sources.append(word[:-2] + ".c")
        elif word.endswith(_SOURCE_SUFFIXES):
            sources.append(word)
        elif re.fullmatch(r"\$\(\w+_(CFLAGS|INCLUDES)\)", word):
            has_flags = True
        elif word.startswith("$("):
            libs.append(word)
            has_flags = True
        elif re.match(r"[A-Za-z_]", word):
            names.append(word)
    return names, sources, libs, has_flags


def _object_for(source: str) -> str:
    stem = source.rsplit(".", 1)[0]
    return f"Modules/{stem}.o"
