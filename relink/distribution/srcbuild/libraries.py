"""Libraries that extensions link: shipped as static archives in build/lib, or left to the system.

Each `-lX` (or path to a `libX.a`) named by a module's Setup flags is resolved here, together with what
that library itself needs (pkg-config's `--static` closure): libc-family libraries stay `system`; every
other library is copied as `build/lib/libX.a` and linked by path, with its license text and SPDX ids.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from relink.errors import RelinkError

__all__ = ["SYSTEM_LIBRARIES", "LibraryLicense", "LIBRARY_LICENSES", "LibraryResolver", "ResolvedLibrary"]

# Part of the C runtime on every glibc system: linked dynamically, never shipped.
SYSTEM_LIBRARIES = frozenset({"c", "m", "dl", "pthread", "util", "rt", "crypt", "nsl", "resolv"})


@dataclass(frozen=True)
class LibraryLicense:
    file_stem: str               # licenses/LICENSE.<file_stem>.txt
    spdx: tuple[str, ...]        # all of them apply (AND)
    public_domain: bool = False


# What each library we may ship is licensed under (the library's own code, not its whole source package).
LIBRARY_LICENSES: dict[str, LibraryLicense] = {
    "ssl": LibraryLicense("openssl-3", ("Apache-2.0",)),
    "crypto": LibraryLicense("openssl-3", ("Apache-2.0",)),
    "sqlite3": LibraryLicense("sqlite", (), public_domain=True),
    "ffi": LibraryLicense("libffi", ("MIT",)),
    "z": LibraryLicense("zlib", ("Zlib",)),
    "bz2": LibraryLicense("bzip2", ("bzip2-1.0.6",)),
    "lzma": LibraryLicense("liblzma", (), public_domain=True),
    "uuid": LibraryLicense("libuuid", ("BSD-3-Clause",)),
    "ncursesw": LibraryLicense("ncurses", ("X11",)),
    "panelw": LibraryLicense("ncurses", ("X11",)),
    "tinfo": LibraryLicense("ncurses", ("X11",)),
    "edit": LibraryLicense("libedit", ("BSD-3-Clause",)),
    "bsd": LibraryLicense("libbsd", ("BSD-2-Clause", "BSD-3-Clause", "BSD-4-Clause", "ISC", "MIT", "Beerware")),
    "md": LibraryLicense("libmd", ("BSD-2-Clause", "BSD-3-Clause", "ISC", "Beerware")),
    "expat": LibraryLicense("expat", ("MIT",)),
    "mpdec": LibraryLicense("mpdecimal", ("BSD-2-Clause",)),
    "Hacl_Hash_SHA2": LibraryLicense("hacl-star", ("MIT",)),   # 3.13+: CPython's vendored HACL* SHA-2
}


@dataclass(frozen=True)
class ResolvedLibrary:
    name: str
    system: bool
    archive: Path | None = None      # the libX.a to ship (None for system libraries)
    license: LibraryLicense | None = None
    license_text_source: Path | None = None


class LibraryResolver:
    """Resolves library names to shipped archives or system libraries, with their dependencies."""

    def __init__(self, search_dirs: list[Path]) -> None:
        self.search_dirs = search_dirs
        self._pc_by_library: dict[str, str] | None = None

    def expand(self, names: list[str]) -> list[str]:
        """`names` plus every library they need when linked statically, in link order, no duplicates."""
        ordered: list[str] = []
        pending = list(names)
        while pending:
            name = pending.pop(0)
            if name in ordered:
                continue
            ordered.append(name)
            if name not in SYSTEM_LIBRARIES:
                pending.extend(self._static_dependencies(name))
        return ordered

    def resolve(self, name: str, explicit_archive: Path | None = None) -> ResolvedLibrary:
        if name in SYSTEM_LIBRARIES:
            return ResolvedLibrary(name, system=True)
        archive = explicit_archive or self._find_archive(name)
        if archive is None:
            from relink.toolchain import install_hint

            raise RelinkError(
                f"no static lib{name}.a found in {', '.join(map(str, self.search_dirs))}: install the "
                f"matching -dev package ({install_hint('dev')}) or disable the module that needs it"
            )
        license_ = LIBRARY_LICENSES.get(name)
        if license_ is None:
            raise RelinkError(f"relink does not know the license of lib{name}; refusing to ship it unlabelled")
        return ResolvedLibrary(name, system=False, archive=archive, license=license_,
                               license_text_source=_debian_copyright(archive))

    def canonical_name(self, name: str) -> str:
        """Debian aliases (libtermcap.a -> libtinfo.a) resolve to the real archive's name."""
        archive = self._find_archive(name)
        if archive is None:
            return name
        match = re.fullmatch(r"lib(.+)\.a", archive.resolve().name)
        return match[1] if match else name

    def _find_archive(self, name: str) -> Path | None:
        for directory in self.search_dirs:
            candidate = directory / f"lib{name}.a"
            if candidate.is_file():
                return candidate.resolve()
        return None

    def _static_dependencies(self, name: str) -> list[str]:
        pc = self._pkg_config_index().get(name)
        if pc is None:
            return []
        result = subprocess.run(["pkg-config", "--static", "--libs", pc], capture_output=True, text=True)
        deps = []
        for word in result.stdout.split():
            if word == "-pthread":
                deps.append("pthread")
            elif word.startswith("-l"):
                deps.append(self.canonical_name(word[2:]))
        return [d for d in deps if d != name]

    def _pkg_config_index(self) -> dict[str, str]:
        """Maps a library name to the pkg-config module whose first -l is that library."""
        if self._pc_by_library is None:
            index: dict[str, str] = {}
            listing = subprocess.run(["pkg-config", "--list-all"], capture_output=True, text=True).stdout
            for line in sorted(listing.splitlines()):
                module = line.split(" ", 1)[0]
                libs = subprocess.run(["pkg-config", "--libs-only-l", module], capture_output=True, text=True)
                first = next((w[2:] for w in libs.stdout.split() if w.startswith("-l")), None)
                if first:
                    index.setdefault(self.canonical_name(first), module)
            self._pc_by_library = index
        return self._pc_by_library


def _debian_copyright(archive: Path) -> Path | None:
    """The copyright file of the Debian package that installed `archive`, if any."""
    result = subprocess.run(["dpkg", "-S", str(archive)], capture_output=True, text=True)
    if result.returncode != 0:
        # dpkg records the path as packaged; a merged /usr or a symlinked name can hide it.
        result = subprocess.run(["dpkg", "-S", f"*/{archive.name}"], capture_output=True, text=True)
    for line in result.stdout.splitlines():
        package = line.split(":", 1)[0].strip()
        copyright_file = Path("/usr/share/doc") / package / "copyright"
        if copyright_file.is_file():
            return copyright_file
    return None
