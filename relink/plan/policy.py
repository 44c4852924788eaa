"""Facts about extensions that PYTHON.json does not carry: what an interpreter needs to start, which
modules are tests, which libraries an operating system always provides, which SPDX licenses are copyleft,
and which objects one extension borrows from another.

This module owns those tables and the small predicates over them; `relink.plan.selection` applies them. Each
table says where it comes from (shared/pbs-format.md §4, §6), so a new CPython or PBS release means a
one-line change here.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from relink.distribution import ExtensionVariant, LinkEntry

__all__ = [
    "BASELINE_SYSTEM_LIBRARIES",
    "MACOS_SYSTEM_LIBRARIES",
    "COPYLEFT_FAMILIES",
    "VENDORED_COMPONENTS",
    "VendoredComponent",
    "bootstrap_modules",
    "borrowed_objects",
    "copyleft_licenses",
    "is_copyleft",
    "is_baseline_link",
    "is_test_module",
    "unannotated_link",
    "vendored_component",
    "windows_import_library",
]

# CPython's Modules/Setup.bootstrap: the modules the interpreter itself imports while starting (encodings,
# io, site, importlib). 3.10 and older had the same set in Modules/Setup. Names a distribution lacks are
# skipped (Windows has `nt` in its core instead of `posix`/`pwd`).
_BOOTSTRAP_311 = (
    "atexit", "faulthandler", "posix", "_signal", "_tracemalloc", "_codecs", "_collections", "errno", "_io",
    "itertools", "_sre", "_thread", "time", "_weakref", "_abc", "_functools", "_locale", "_operator", "_stat",
    "_symtable", "pwd",
)
_BOOTSTRAP_ADDED = {
    (3, 12): ("_typing", "_tokenize"),
    (3, 13): ("_suggestions", "_sysconfig", "_opcode"),
    (3, 14): ("_datetime", "_types"),
}


def bootstrap_modules(major_minor: str) -> tuple[str, ...]:
    """The Setup.bootstrap module names for Python `major_minor` ("3.12"), oldest entries first."""
    major, minor = (int(part) for part in major_minor.split(".")[:2])
    names = list(_BOOTSTRAP_311)
    for version, added in sorted(_BOOTSTRAP_ADDED.items()):
        if (major, minor) >= version:
            names.extend(added)
    return tuple(names)


def is_test_module(name: str) -> bool:
    """CPython's test and example extensions: `_test*`, `*_test` (`_ctypes_test`), `_xxtestfuzz`, and the
    `xx*` examples (`xxsubtype`, `xxlimited`); not `_xxsubinterpreters`/`_xxinterpchannels`, which are real."""
    return name.startswith("_test") or name.endswith("_test") or name == "_xxtestfuzz" or name.startswith("xx")


# Libraries every target of that kind provides: the C runtime on Unix, frameworks on macOS, the Windows
# SDK's system import libraries on Windows. Linking them keeps an executable self-contained.
BASELINE_SYSTEM_LIBRARIES = frozenset({"c", "m", "dl", "pthread", "util", "rt"})
# macOS ships these as part of the OS (libSystem's neighbours in /usr/lib, stubs in every SDK): PBS's macOS
# builds link zlib, readline (libedit), _curses and _curses_panel against them as system libraries.
MACOS_SYSTEM_LIBRARIES = frozenset({"z", "edit", "ncurses", "panel", "form", "menu", "bz2", "iconv", "c++", "objc"})


def is_baseline_link(link: LinkEntry, platform: str) -> bool:
    """True when `link` is something the operating system always has (BASELINE_SYSTEM_LIBRARIES, and on
    macOS also MACOS_SYSTEM_LIBRARIES)."""
    if link.kind == "framework":
        return platform == "darwin"
    if link.kind == "system":
        if platform == "darwin" and link.name in MACOS_SYSTEM_LIBRARIES:
            return True
        return platform == "windows" or link.name in BASELINE_SYSTEM_LIBRARIES
    return False


# License families (SPDX id prefixes, matched up to a '-' or the end) whose terms reach the linked
# executable: strong (GPL, AGPL, OSL, Sleepycat, …) and weak/file-level (LGPL, MPL, EPL, CDDL, …) copyleft.
COPYLEFT_FAMILIES = (
    "AGPL", "APSL", "CC-BY-SA", "CDDL", "CECILL", "CPL", "EPL", "EUPL", "GPL", "LGPL", "LGPLLR", "MPL",
    "MS-RL", "OSL", "QPL", "RPL", "Sleepycat", "SSPL", "Watcom",
)


def is_copyleft(spdx_id: str) -> bool:
    """True for a copyleft SPDX id: `GPL-2.0-only`, `LGPL-2.1+`, `GPL-3.0-or-later WITH GCC-exception-3.1`
    (an exception narrows, it does not remove, the obligation), `MPL-2.0`, `Sleepycat`, …"""
    base = spdx_id.strip().split(" WITH ")[0].strip().rstrip("+").lower()
    return any(base == family.lower() or base.startswith(family.lower() + "-") for family in COPYLEFT_FAMILIES)


def copyleft_licenses(variant: ExtensionVariant) -> tuple[str, ...]:
    """The copyleft ones among `variant.licenses`. All of an extension's licenses apply (AND), so it is
    copyleft when ANY is (PyOxidizer joined them with OR, which understates the obligation)."""
    return tuple(spdx for spdx in variant.licenses or () if is_copyleft(spdx))


# Objects one extension needs from others (pbs-format.md §4.4): 3.14 `_hmac` calls the HACL* hash
# implementations whose objects PYTHON.json lists under the hash modules. Only objects whose path
# contains the marker are borrowed, never the lending module's own init code.
_BORROWED_OBJECTS: dict[str, tuple[tuple[str, ...], str]] = {
    "_hmac": (("_md5", "_sha1", "_sha2", "_sha3", "_blake2"), "/_hacl/"),
}


def borrowed_objects(name: str) -> tuple[tuple[str, ...], str] | None:
    """(lending extensions, path marker) for an extension that borrows objects, else None."""
    return _BORROWED_OBJECTS.get(name)


# Third-party code CPython vendors and compiles into its own objects, which PBS's metadata leaves without a
# license entry (measured on real archives: zlib compiled into the Windows core, expat into pyexpat and
# `_elementtree`, mpdecimal into `_decimal`, HACL* into the 3.12+ hash modules). Objects are recognised by
# file name, only within the modules (or "core") that are known to carry them: `compress.o` is zlib in
# the Windows core but bzip2 in `_bz2`.
@dataclass(frozen=True)
class VendoredComponent:
    key: str                      # also the license file's stem: licenses/LICENSE.<key>.txt
    spdx_ids: tuple[str, ...]
    owners: tuple[str, ...]       # extension names, or "core"
    stems: frozenset[str]         # object file names without suffix
    prefix: str | None            # or: object names starting with this
    upstream: str                 # where the license text is, for a distribution that lacks it


VENDORED_COMPONENTS = (
    VendoredComponent(
        "zlib", ("Zlib",), ("core", "zlib"),
        frozenset({"adler32", "compress", "crc32", "deflate", "gzclose", "gzlib", "gzread", "gzwrite", "infback",
                   "inffast", "inflate", "inftrees", "trees", "uncompr", "zutil"}),
        None, "https://zlib.net/zlib_license.html",
    ),
    VendoredComponent(
        "expat", ("MIT",), ("pyexpat", "_elementtree"), frozenset({"xmlparse", "xmlrole", "xmltok"}), None,
        "https://github.com/libexpat/libexpat/blob/master/expat/COPYING",
    ),
    VendoredComponent(
        "mpdecimal", ("BSD-2-Clause",), ("_decimal",),
        frozenset({"basearith", "constants", "context", "convolute", "crt", "difradix2", "fnt", "fourstep", "io",
                   "memory", "mpalloc", "mpdecimal", "numbertheory", "sixstep", "transpose", "vcdiv64"}),
        None, "https://www.bytereef.org/mpdecimal/ (LICENSE.txt of the mpdecimal source)",
    ),
    VendoredComponent(
        "hacl", ("MIT",), ("_md5", "_sha1", "_sha2", "_sha256", "_sha512", "_sha3", "_blake2", "_hmac"),
        frozenset(), "Hacl_", "https://github.com/hacl-star/hacl-star/blob/main/LICENSE",
    ),
)


def vendored_component(owner: str, obj: str) -> VendoredComponent | None:
    """The vendored component object `obj` (a PYTHON.json path) of `owner` (an extension or "core") is
    compiled from, or None for CPython's own code."""
    stem = posixpath.basename(obj).rsplit(".", 1)[0]
    for component in VENDORED_COMPONENTS:
        if owner in component.owners and (
            stem in component.stems or (component.prefix is not None and stem.startswith(component.prefix))
        ):
            return component
    return None


# Windows DLLs are linked through import libraries in build/lib named without the DLL's version and
# architecture suffix: PYTHON.json names `libcrypto-1_1-x64` (3.11 x64) or `libcrypto-1_1` (3.10 i686)
# where the archive has `build/lib/libcrypto.lib`, and `libffi-8` for `libffi.lib`.
_DLL_SUFFIX = re.compile(r"-\d+(?:_\d+)*(?:-(?:x64|x86|arm64|win32|amd64))?$", re.IGNORECASE)


def windows_import_library(dll_name: str) -> str:
    """`libcrypto-1_1-x64` → `libcrypto`, `libffi-8` → `libffi`; names without a suffix are unchanged."""
    return _DLL_SUFFIX.sub("", dll_name) or dll_name


# Links PBS's Windows metadata leaves out although the objects need them: `_lzma` says `links: []` but
# calls liblzma, shipped as build/lib/liblzma.lib.
_WINDOWS_UNANNOTATED = {"_lzma": LinkEntry(name="liblzma", kind="static", path="build/lib/liblzma.lib")}


def unannotated_link(name: str, platform: str, variant: ExtensionVariant) -> LinkEntry | None:
    """The library extension `name` needs but PYTHON.json does not list, or None."""
    link = _WINDOWS_UNANNOTATED.get(name) if platform == "windows" else None
    if link is None or any(existing.name == link.name for existing in variant.links):
        return None
    return link
