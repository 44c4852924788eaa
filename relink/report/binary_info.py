"""What an ELF executable contains, read with lief: the shared libraries it needs, the newest glibc symbol
version it requires, whether it exports the Python C API, the builtin modules in its inittab, its section
sizes and whether it is stripped.

This module owns reading, not judging (that is `relink.report.verify`). The inittab is read from the binary's
data: the `_PyImport_Inittab` symbol (in `.symtab`, or `.dynsym` when exported) is an array of
`struct _inittab {const char *name; PyObject *(*initfunc)(void);}` ended by `{0, 0}`. In a PIE the pointer
slots are filled by dynamic relocations (`R_X86_64_RELATIVE`: the addend is the target; symbolic ones:
symbol value + addend; 32-bit `R_386_RELATIVE` is a REL relocation whose addend is the slot's own contents);
in a non-PIE executable they hold the address itself. 32- and 64-bit ELF of either byte order are read;
Mach-O and PE executables are refused by name (reading them would be guessing).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import lief

from relink.errors import RelinkError

__all__ = ["C_API_SYMBOLS", "INITTAB_SYMBOL", "BinaryInfo", "InittabEntry", "read_binary"]

# Exported (defined, default-visibility, in .dynsym) only when linked with --export-dynamic or as a
# shared libpython: what external extension modules (.so) call first.
C_API_SYMBOLS = ("Py_Initialize", "PyObject_GetAttr", "PyModule_Create2", "PyArg_ParseTuple")
INITTAB_SYMBOL = "_PyImport_Inittab"
_GLIBC_VERSION = re.compile(r"GLIBC_(\d+(?:\.\d+)+)")
_MAX_INITTAB_ROWS = 4096   # a corrupt table without a sentinel must not read forever
# Thin Mach-O in both byte orders and widths, and universal (fat) binaries.
_MACHO_MAGICS = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce", b"\xca\xfe\xba\xbe")


@dataclass(frozen=True)
class InittabEntry:
    """One inittab row: module `name` and its init function's symbol name (None for a NULL function, as
    for builtins and sys; `0x…` when the binary is stripped of the name)."""

    name: str
    init_fn: str | None


@dataclass(frozen=True)
class BinaryInfo:
    path: str
    machine: str
    pie: bool
    interpreter: str | None
    needed: tuple[str, ...]
    glibc_required: tuple[int, ...] | None
    glibc_symbols: tuple[str, ...]          # imported symbols that need `glibc_required`
    exports_c_api: bool
    inittab: tuple[InittabEntry, ...] | None  # None: no _PyImport_Inittab symbol to read
    sections: Mapping[str, int]
    stripped: bool
    size: int

    @property
    def glibc_required_text(self) -> str | None:
        return ".".join(map(str, self.glibc_required)) if self.glibc_required else None

    @property
    def builtin_names(self) -> tuple[str, ...] | None:
        return None if self.inittab is None else tuple(entry.name for entry in self.inittab)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "machine": self.machine,
            "pie": self.pie,
            "interpreter": self.interpreter,
            "needed": list(self.needed),
            "glibc_required": self.glibc_required_text,
            "glibc_symbols": list(self.glibc_symbols),
            "exports_c_api": self.exports_c_api,
            "inittab": None if self.inittab is None else [
                {"name": entry.name, "init_fn": entry.init_fn} for entry in self.inittab
            ],
            "sections": dict(self.sections),
            "stripped": self.stripped,
            "size": self.size,
        }


def _parse(path: Path) -> lief.ELF.Binary:
    try:
        head = path.read_bytes()[:4]
    except OSError as error:
        raise RelinkError(f"{path}: cannot read ({error.strerror})") from None
    if head != b"\x7fELF":
        if head[:2] == b"MZ":
            kind = "a PE (Windows) executable, which relink cannot read"
        elif head in _MACHO_MAGICS:
            kind = "a Mach-O (macOS) executable, which relink cannot read"
        else:
            kind = "not an ELF file"
        raise RelinkError(f"{path}: {kind}; relink verify reads ELF executables (32- and 64-bit) only")
    lief.logging.disable()
    binary = lief.ELF.parse(str(path))
    if binary is None or binary.header.machine_type == lief.ELF.ARCH.NONE:
        raise RelinkError(f"{path}: damaged ELF file (lief cannot parse it)")
    if binary.header.file_type not in (lief.ELF.Header.FILE_TYPE.EXEC, lief.ELF.Header.FILE_TYPE.DYN):
        raise RelinkError(f"{path}: an ELF {str(binary.header.file_type).rsplit('.', 1)[-1]} file, not an executable")
    return binary


def _glibc(binary: lief.ELF.Binary) -> tuple[tuple[int, ...] | None, tuple[str, ...]]:
    newest: tuple[int, ...] | None = None
    users: dict[tuple[int, ...], set[str]] = {}
    for symbol in binary.dynamic_symbols:
        version = symbol.symbol_version
        aux = version.symbol_version_auxiliary if version is not None else None
        match = _GLIBC_VERSION.fullmatch(aux.name) if aux is not None else None
        if not match:
            continue
        number = tuple(int(part) for part in match[1].split("."))
        if symbol.imported:
            users.setdefault(number, set()).add(symbol.name)
    # Version requirements name versions even when no symbol shows them (e.g. GLIBC_ABI_DT_RELR is skipped
    # by the regex; GLIBC_2.34 needed only by the loader's checks).
    for requirement in binary.symbols_version_requirement:
        for aux in requirement.get_auxiliary_symbols():
            match = _GLIBC_VERSION.fullmatch(aux.name)
            if match:
                users.setdefault(tuple(int(part) for part in match[1].split(".")), set())
    if users:
        newest = max(users)
    return newest, tuple(sorted(users.get(newest, ()))) if newest else ()


def _exports_c_api(binary: lief.ELF.Binary) -> bool:
    exported = {s.name for s in binary.dynamic_symbols if s.exported and not s.imported}
    return all(name in exported for name in C_API_SYMBOLS[:2])


class _Memory:
    """Pointer-sized reads at virtual addresses, with relocations applied."""

    def __init__(self, binary: lief.ELF.Binary) -> None:
        self.binary = binary
        self.pointer = 8 if binary.header.identity_class == lief.ELF.Header.CLASS.ELF64 else 4
        self.endian = "<" if binary.header.identity_data == lief.ELF.Header.ELF_DATA.LSB else ">"
        self.relocations: dict[int, lief.ELF.Relocation] = {r.address: r for r in binary.dynamic_relocations}
        self.functions = {s.value: s.name for s in (*binary.symbols, *binary.dynamic_symbols) if s.is_function and s.value}

    def bytes_at(self, address: int, size: int) -> bytes:
        return bytes(self.binary.get_content_from_virtual_address(address, size))

    def _stored(self, address: int) -> int:
        raw = self.bytes_at(address, self.pointer)
        if len(raw) != self.pointer:
            raise RelinkError(f"{self.binary.name}: inittab runs past the end of its section")
        return struct.unpack(self.endian + ("Q" if self.pointer == 8 else "I"), raw)[0]

    def pointer_at(self, address: int) -> int:
        relocation = self.relocations.get(address)
        if relocation is not None:
            # RELA (x86-64, AArch64) carries the addend in the entry; REL (i386, ARM) leaves it in place.
            addend = relocation.addend if relocation.is_rela else self._stored(address)
            if "RELATIVE" in str(relocation.type):
                return addend
            if relocation.has_symbol and relocation.symbol.value:
                return relocation.symbol.value + addend
        return self._stored(address)

    def c_string(self, address: int) -> str:
        data = b""
        while b"\0" not in data and len(data) < 4096:
            chunk = self.bytes_at(address + len(data), 64)
            if not chunk:
                break
            data += chunk
        if b"\0" not in data:
            raise RelinkError(f"{self.binary.name}: inittab name at {address:#x} is not a C string")
        return data.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _inittab(binary: lief.ELF.Binary) -> tuple[InittabEntry, ...] | None:
    symbol = binary.get_symbol(INITTAB_SYMBOL)
    if symbol is None or not symbol.value:
        return None
    memory = _Memory(binary)
    rows = []
    address = symbol.value
    for _ in range(_MAX_INITTAB_ROWS):
        name = memory.pointer_at(address)
        function = memory.pointer_at(address + memory.pointer)
        if name == 0 and function == 0:
            return tuple(rows)
        if name == 0:
            raise RelinkError(f"{binary.name}: inittab row at {address:#x} has an init function but no name")
        init_fn = None if function == 0 else memory.functions.get(function, f"{function:#x}")
        rows.append(InittabEntry(memory.c_string(name), init_fn))
        address += 2 * memory.pointer
    raise RelinkError(f"{binary.name}: inittab has no {{0, 0}} sentinel within {_MAX_INITTAB_ROWS} rows")


def read_binary(path: str | Path) -> BinaryInfo:
    """Read an ELF executable (RelinkError for a non-ELF or damaged file)."""
    path = Path(path)
    binary = _parse(path)
    glibc, glibc_symbols = _glibc(binary)
    sections = {s.name: s.size for s in binary.sections if s.name and s.size}
    return BinaryInfo(
        path=str(path),
        machine=str(binary.header.machine_type).rsplit(".", 1)[-1],
        pie=binary.is_pie,
        interpreter=binary.interpreter if binary.has_interpreter else None,
        needed=tuple(binary.libraries),
        glibc_required=glibc,
        glibc_symbols=glibc_symbols,
        exports_c_api=_exports_c_api(binary),
        inittab=_inittab(binary),
        sections=MappingProxyType(dict(sorted(sections.items()))),
        stripped=not binary.has_section(".symtab"),
        size=path.stat().st_size,
    )
