"""What an object file or static library really contains, read from its bytes.

`sniff_file` / `sniff_bytes` classify raw or wrapped LLVM bitcode (with its producer, e.g. "LLVM22.1.8"),
ELF (with the `.comment` compiler strings, GCC LTO sections `.gnu.lto_*`, and clang's embedded bitcode
`.llvm.lto` / `.llvmbc` whose producer is read too), Mach-O (with bitcode embedded in `__LLVM,__bitcode`),
COFF objects, the anonymous COFF objects MSVC writes (`/GL` link-time code generation objects, which only
MSVC's link.exe reads; `/bigobj` objects, which are native; import-library members), and `ar` archives
(GNU, BSD and MSVC `.lib` member names) whose members may be any of these. Only headers are touched: files are memory-mapped
and a bitcode producer sits in the first few hundred bytes, so surveying a whole distribution reads a few
pages per object. ELF section headers are read with `struct` rather than lief because lief parses whole
files, which is what this module exists to avoid.
"""

from __future__ import annotations

import mmap
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from relink.errors import ExitCode, RelinkError
from relink.toolchain.bitcode import BitcodeError, is_bitcode, read_identification

__all__ = [
    "BITCODE",
    "ELF",
    "MACHO",
    "COFF",
    "COFF_LTCG",
    "COFF_IMPORT",
    "ARCHIVE",
    "UNKNOWN",
    "ObjectInfo",
    "ArchiveMember",
    "sniff_bytes",
    "sniff_file",
    "iter_archive_members",
    "llvm_major",
]

BITCODE, ELF, MACHO, COFF, ARCHIVE, UNKNOWN = "llvm-bitcode", "elf", "mach-o", "coff", "ar", "unknown"
# MSVC /GL objects: anonymous COFF whose class id says "link-time code generation" (LLVM: ClGlObjMagic).
# Import-library members (short import objects): native, any COFF linker reads them.
COFF_LTCG, COFF_IMPORT = "coff-ltcg", "coff-import"

_AR_MAGIC = b"!<arch>\n"
_THIN_AR_MAGIC = b"!<thin>\n"
_ELF_MAGIC = b"\x7fELF"
_MACHO_MAGICS = {b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe"}
_COFF_MACHINES = {0x014C, 0x8664, 0x01C4, 0xAA64, 0xA641}  # i386, x86-64, ARMv7, ARM64, ARM64EC
_BSD_SYMBOL_TABLES = {"__.SYMDEF", "__.SYMDEF SORTED", "__.SYMDEF_64", "__.SYMDEF_64 SORTED"}
_ANON_COFF_SIGNATURE = b"\x00\x00\xff\xff"  # Sig1 = IMAGE_FILE_MACHINE_UNKNOWN, Sig2 = 0xFFFF
_LTCG_CLASS_ID = bytes.fromhex("38feb30ca5d9ab4dac9bd6b6222653c2")
_BIGOBJ_CLASS_ID = bytes.fromhex("c7a1bad1eebaa94baf20faf66aa4dcb8")
_MACHO_SEGMENT_COMMANDS = {0x1: ("I", 56, 68), 0x19: ("Q", 72, 80)}  # LC_SEGMENT(_64): word, header, section size
_EMBEDDED_BITCODE_SECTIONS = (".llvm.lto", ".llvmbc")
_PRODUCER_VERSION = re.compile(r"^LLVM(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class ObjectInfo:
    """One object (or archive) as its bytes describe it.

    `format` is one of llvm-bitcode, elf, mach-o, coff, ar, unknown. `producer` is the bitcode
    IDENTIFICATION string ("LLVM22.1.8"), including bitcode embedded in an ELF object, else the ELF
    `.comment` strings joined by "; ". `gcc_lto` is "fat" (native code plus GIMPLE: any linker works) or
    "slim" (GIMPLE only: needs gcc's LTO plugin). `members` lists an archive's members in order.
    """

    name: str
    format: str
    producer: str | None = None
    comment: str | None = None
    gcc_lto: str | None = None
    embedded_bitcode: bool = False
    members: tuple[ObjectInfo, ...] = field(default=())

    @property
    def llvm_version(self) -> str | None:
        """"22.1.8" from a producer "LLVM22.1.8", else None."""
        match = _PRODUCER_VERSION.match(self.producer or "")
        return match.group(0).removeprefix("LLVM") if match else None

    @property
    def is_bitcode(self) -> bool:
        """Needs an LLVM to be linked: bitcode itself, or an archive with a bitcode member."""
        return self.format == BITCODE or any(m.is_bitcode for m in self.members)

    def bitcode_members(self) -> list[ObjectInfo]:
        """This object if it is bitcode, or the bitcode members of an archive."""
        if self.format == BITCODE:
            return [self]
        return [m for m in self.members if m.format == BITCODE]


@dataclass(frozen=True)
class ArchiveMember:
    name: str
    offset: int  # of the member's data within the archive
    size: int


def llvm_major(version: str | None) -> int | None:
    """22 from "22.1.8", "LLVM22.1.8" or "%22.1.8"; None if there is no leading number."""
    match = re.match(r"^(?:LLVM|%)?(\d+)", version or "")
    return int(match.group(1)) if match else None


def sniff_file(path: Path | str) -> ObjectInfo:
    """Classify the object or archive at `path`; a missing, unreadable or corrupt file is a RelinkError."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            size = path.stat().st_size
            if size == 0:
                return ObjectInfo(str(path), UNKNOWN)
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                view = memoryview(mapped)
                try:
                    return sniff_bytes(view, str(path))
                finally:
                    view.release()
    except OSError as error:
        raise RelinkError(f"cannot read object file {path}: {error.strerror or error}") from None


def sniff_bytes(data: bytes | memoryview, name: str = "<bytes>") -> ObjectInfo:
    """Classify an object or archive given as bytes; raises RelinkError on a truncated or corrupt header."""
    try:
        return _sniff(memoryview(data), name)
    except (BitcodeError, struct.error, ValueError, IndexError) as error:
        problem = str(error)  # raised below, outside this block, so no traceback keeps slices of `data` alive
    raise RelinkError(
        f"{name}: corrupt or truncated object file ({problem}); re-extract the distribution",
        ExitCode.INVALID_INPUT,
    )


def _sniff(view: memoryview, name: str) -> ObjectInfo:
    head = bytes(view[:8])
    if is_bitcode(head):
        ident = read_identification(view)
        return ObjectInfo(name, BITCODE, producer=ident.producer)
    if head.startswith(_ELF_MAGIC):
        return _sniff_elf(view, name)
    if head[:4] in _MACHO_MAGICS:
        return _sniff_macho(view, name)
    if head == _AR_MAGIC:
        members = tuple(
            _sniff(view[m.offset:m.offset + m.size], f"{name}({m.name})") for m in iter_archive_members(view)
        )
        return ObjectInfo(name, ARCHIVE, members=members)
    if head == _THIN_AR_MAGIC:
        raise ValueError("thin archives (members stored outside the archive) are not supported")
    if head[:4] == _ANON_COFF_SIGNATURE:
        return ObjectInfo(name, _anonymous_coff(view))
    if len(view) >= 20 and _looks_like_coff(view):
        return ObjectInfo(name, COFF)
    return ObjectInfo(name, UNKNOWN)


def _anonymous_coff(view: memoryview) -> str:
    """The kind of a COFF file that starts with an anonymous header (Sig1 0, Sig2 0xFFFF)."""
    version, machine = struct.unpack_from("<HH", view, 4)
    if machine not in _COFF_MACHINES and machine != 0:
        return UNKNOWN
    if version == 0:
        return COFF_IMPORT
    class_id = bytes(view[12:28])
    if class_id == _LTCG_CLASS_ID:
        return COFF_LTCG
    return COFF if class_id == _BIGOBJ_CLASS_ID else UNKNOWN


def _sniff_macho(view: memoryview, name: str) -> ObjectInfo:
    """A Mach-O object; bitcode embedded by `-fembed-bitcode` (`__LLVM,__bitcode`) is found and read."""
    magic = bytes(view[:4])
    end = "<" if magic in (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe") else ">"
    wide = magic in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
    ncmds, = struct.unpack_from(end + "I", view, 16)
    offset = 32 if wide else 28
    producer, embedded = None, False
    for _ in range(ncmds):
        cmd, cmdsize = struct.unpack_from(end + "II", view, offset)
        if cmdsize < 8:
            raise ValueError(f"bad Mach-O load command size {cmdsize}")
        layout = _MACHO_SEGMENT_COMMANDS.get(cmd)
        if layout is not None:
            word, header_size, section_size = layout
            nsects, = struct.unpack_from(end + "I", view, offset + header_size - 8)
            for index in range(nsects):
                at = offset + header_size + index * section_size
                sectname = bytes(view[at:at + 16]).rstrip(b"\0")
                segname = bytes(view[at + 16:at + 32]).rstrip(b"\0")
                if segname == b"__LLVM" and sectname == b"__bitcode":
                    size, = struct.unpack_from(end + word, view, at + 32 + struct.calcsize(word))
                    data_offset, = struct.unpack_from(end + "I", view, at + 32 + 2 * struct.calcsize(word))
                    embedded = True
                    section = view[data_offset:data_offset + size]
                    if is_bitcode(section):
                        producer = read_identification(section).producer
        offset += cmdsize
    return ObjectInfo(name, MACHO, producer=producer, embedded_bitcode=embedded)


def _looks_like_coff(view: memoryview) -> bool:
    machine, sections, _stamp, _symtab, _nsyms, optional_size, _flags = struct.unpack_from("<HHIIIHH", view, 0)
    return machine in _COFF_MACHINES and 0 < sections < 0xFFFF and optional_size == 0


def _sniff_elf(view: memoryview, name: str) -> ObjectInfo:
    sections = dict(_elf_sections(view))
    comment_bytes = sections.get(".comment")
    comment = None
    if comment_bytes is not None:
        strings = [s.decode("utf-8", "replace").strip() for s in bytes(comment_bytes).split(b"\0")]
        comment = "; ".join(dict.fromkeys(s for s in strings if s)) or None
    gcc_lto = None
    if any(n.startswith(".gnu.lto_") for n in sections):
        strtab = sections.get(".strtab")
        gcc_lto = "slim" if strtab is not None and b"__gnu_lto_slim" in bytes(strtab) else "fat"
    producer = None
    embedded = next((sections[n] for n in _EMBEDDED_BITCODE_SECTIONS if n in sections), None)
    if embedded is not None and is_bitcode(embedded):
        producer = read_identification(embedded).producer
    return ObjectInfo(
        name, ELF, producer=producer or comment, comment=comment, gcc_lto=gcc_lto,
        embedded_bitcode=embedded is not None,
    )


def _elf_sections(view: memoryview) -> Iterator[tuple[str, memoryview]]:
    """(name, contents) of every section with file contents; SHT_NOBITS sections yield empty views."""
    ei_class, ei_data = view[4], view[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise ValueError(f"bad ELF identification (class {ei_class}, data {ei_data})")
    end = "<" if ei_data == 1 else ">"
    if ei_class == 2:
        shoff, = struct.unpack_from(end + "Q", view, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", view, 0x3A)
        section_format = end + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(end + "I", view, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", view, 0x2E)
        section_format = end + "IIIIIIIIII"
    # Both layouts: sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, ...
    name_at, type_at, offset_at, size_at, link_at = 0, 1, 4, 5, 6
    if shoff == 0:
        return
    first = struct.unpack_from(section_format, view, shoff)
    if shnum == 0:
        shnum = first[size_at]  # more than 0xff00 sections: the count lives in section 0
    if shstrndx == 0xFFFF:
        shstrndx = first[link_at]
    headers = [struct.unpack_from(section_format, view, shoff + i * shentsize) for i in range(shnum)]
    names = headers[shstrndx]
    names_view = view[names[offset_at]:names[offset_at] + names[size_at]]
    for header in headers[1:]:
        raw_name = bytes(names_view[header[name_at]:]).split(b"\0", 1)[0].decode("ascii", "replace")
        if header[type_at] == 8:  # SHT_NOBITS
            yield raw_name, view[0:0]
            continue
        start, size = header[offset_at], header[size_at]
        if start + size > len(view):
            raise ValueError(f"section {raw_name} lies outside the file")
        yield raw_name, view[start:start + size]


def iter_archive_members(view: memoryview) -> Iterator[ArchiveMember]:
    """Members of an `ar` archive in order, with GNU (`//` table, `name/`) and BSD (`#1/N`) long names.

    Symbol tables (`/`, `/SYM64/`, `__.SYMDEF*`) and the GNU name table are not members.
    """
    long_names = b""
    pos = len(_AR_MAGIC)
    while pos + 60 <= len(view):
        header = bytes(view[pos:pos + 60])
        if header[58:60] != b"`\n":
            raise ValueError(f"bad archive member header at offset {pos}")
        raw_name = header[:16].decode("ascii", "replace").rstrip(" ")
        size = int(header[48:58].decode("ascii").strip() or "0")
        start = pos + 60
        pos = start + size + (size & 1)
        if start + size > len(view):
            raise ValueError(f"archive member at offset {start - 60} runs past the end of the file")
        if raw_name == "//":
            long_names = bytes(view[start:start + size])
            continue
        if raw_name in ("/", "/SYM64/"):
            continue
        if raw_name.startswith("#1/"):
            name_length = int(raw_name[3:])
            member_name = bytes(view[start:start + name_length]).rstrip(b"\0").decode("utf-8", "replace")
            start, size = start + name_length, size - name_length
        elif raw_name.startswith("/") and raw_name[1:].isdigit():
            offset = int(raw_name[1:])
            member_name = long_names[offset:].split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("/")
        else:
            member_name = raw_name[:-1] if raw_name.endswith("/") else raw_name
        if member_name in _BSD_SYMBOL_TABLES:
            continue
        yield ArchiveMember(member_name, start, size)
