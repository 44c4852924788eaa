"""Generated hostile and broken inputs: archives (members, links, sizes, corruption) and PYTHON.json documents.

Each case is a name, a function writing the input into a work folder, and the exit code `relink extract`
must give (3 for everything hostile or corrupt; 0 for the few benign look-alikes that must keep working).
Escaping members aim at a canary folder around the work folder (`CANARY`, filled in by the test), either by
`..` counts that reach it from the cache entry or by its absolute path, so any write outside the work
folder shows up as a changed canary tree.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import zstandard
from helpers_archives import distribution_members, minimal_metadata

# Depth of python/ below the canary: canary/work/cache/extracted/<sha>/python.
UP_TO_CANARY = "../" * 5


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path, Path], Path]  # (work folder, canary folder) -> the input file
    extract_code: int


def _info(name: str, kind: bytes, linkname: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = size
    return info


def _tar(members: list, *, fmt: int = tarfile.PAX_FORMAT, end: bool = True) -> bytes:
    """A tar of `members`; with end=False, without the end-of-archive blocks and padding (to append to)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for spec, data in members:
            info = spec if isinstance(spec, tarfile.TarInfo) else tarfile.TarInfo(spec)
            if info.isreg():
                info.size = len(data or b"")
                info.mode = 0o644
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
        used = tar.offset
    return buffer.getvalue() if end else buffer.getvalue()[:used]


COMPRESSIONS = {
    "zst": lambda raw: zstandard.ZstdCompressor(level=3).compress(raw),
    "zst-checksum": lambda raw: zstandard.ZstdCompressor(level=3, write_checksum=True).compress(raw),
    "gz": lambda raw: gzip.compress(raw, mtime=0),
}


def _write(work: Path, compression: str, raw: bytes) -> Path:
    suffix = "tar.gz" if compression == "gz" else "tar.zst"
    path = work / f"dist.{suffix}"
    path.write_bytes(COMPRESSIONS[compression](raw))
    return path


def _members_with(extra: Callable[[Path], list], position: int = 3) -> Callable[[Path, Path, str], Path]:
    def make(work: Path, canary: Path, compression: str) -> Path:
        members = distribution_members(minimal_metadata())
        members[position:position] = extra(canary)
        return _write(work, compression, _tar(members))

    return make


# ---- member attacks: (name, members to insert given the canary path, expected extract code) -------------

def _sym(name: str, target: str) -> tuple:
    return (_info(name, tarfile.SYMTYPE, target), None)


def _hard(name: str, target: str) -> tuple:
    return (_info(name, tarfile.LNKTYPE, target), None)


def _file(name: str, data: bytes = b"owned\n") -> tuple:
    return (name, data)


def _dir(name: str) -> tuple:
    return (_info(name, tarfile.DIRTYPE), None)


MEMBER_ATTACKS: dict[str, tuple[Callable[[Path], list], int]] = {}


def _attack(name: str, code: int = 3) -> Callable[[Callable[[Path], list]], Callable[[Path], list]]:
    def register(function: Callable[[Path], list]) -> Callable[[Path], list]:
        MEMBER_ATTACKS[name] = (function, code)
        return function

    return register


for depth in range(1, 7):
    MEMBER_ATTACKS[f"dotdot file depth {depth}"] = (
        lambda canary, d=depth: [_file("python/" + "../" * d + "escaped.txt")], 3)
    MEMBER_ATTACKS[f"dotdot inside depth {depth}"] = (
        lambda canary, d=depth: [_file("python/build/" + "x/../" * d + "../" * d + "escaped.txt")], 3)
    MEMBER_ATTACKS[f"symlink up depth {depth}"] = (
        lambda canary, d=depth: [_sym("python/build/up", "../" * (d + 1)), _file("python/build/up/escaped.txt")], 3)
    MEMBER_ATTACKS[f"dangling symlink up depth {depth}"] = (
        lambda canary, d=depth: [_sym("python/build/up", "../" * (d + 1) + "victim.txt")], 3)
    MEMBER_ATTACKS[f"hardlink up depth {depth}"] = (
        lambda canary, d=depth: [_hard("python/build/h", "python/" + "../" * d + "victim.txt")], 3)

for label, where in (("canary", ""), ("canary victim", "victim.txt"), ("canary etc", "etc/passwd")):
    MEMBER_ATTACKS[f"absolute member to {label}"] = (lambda canary, w=where: [_file(str(canary / w) + ".new")], 3)
    MEMBER_ATTACKS[f"absolute symlink to {label}"] = (lambda canary, w=where: [_sym("python/build/abs", str(canary / w))], 3)
    MEMBER_ATTACKS[f"absolute hardlink to {label}"] = (lambda canary, w=where: [_hard("python/build/abs", str(canary / w))], 3)
    MEMBER_ATTACKS[f"symlink to canary then write {label}"] = (
        lambda canary, w=where: [_sym("python/build/c", str(canary)), _file(f"python/build/c/{w or 'x'}.new")], 3)


@_attack("link chain x->. y->x/x/../.. then write through it")
def _chain(canary: Path) -> list:
    return [_sym("python/a/x", "."), _sym("python/a/y", "x/" * 30 + "../" * 30),
            _file("python/a/LICENSE.txt", b"license\n"), _file("python/c/../a/y/" + UP_TO_CANARY + "owned.txt")]


@_attack("link chain y->x/x/../.. before x->. then a member below y naming the canary")
def _chain_root(canary: Path) -> list:
    # y resolves to / once x exists: python/a/y/<canary without its leading />/owned.txt is the canary.
    below = str(canary).lstrip("/")
    return [_sym("python/a/y", "x/" * 30 + "../" * 30), _sym("python/a/x", "."),
            _file("python/a/LICENSE.txt", b"license\n"), _file(f"python/c/../a/y/{below}/owned.txt"),
            _file(f"python/a/y/{below}/owned2.txt")]


@_attack("link chain without dotdot member")
def _chain_plain(canary: Path) -> list:
    return [_sym("python/a/x", "."), _sym("python/a/y", "x/" * 30 + "../" * 30), _file("python/a/y/owned.txt")]


@_attack("link chain resolving out through later link")
def _chain_later(canary: Path) -> list:
    return [_sym("python/a/y", "x/../../../../../.."), _sym("python/a/x", "../b/c/d/e/f/g/h"),
            _file("python/a/z.txt")]


@_attack("symlink loop a<->b")
def _loop(canary: Path) -> list:
    return [_sym("python/build/a", "b"), _sym("python/build/b", "a")]


@_attack("symlink to itself")
def _self(canary: Path) -> list:
    return [_sym("python/build/self", "self")]


@_attack("symlink then folder of the same name")
def _link_then_dir(canary: Path) -> list:
    return [_sym("python/build/d", "."), _dir("python/build/d")]


@_attack("file then folder of the same name")
def _file_then_dir(canary: Path) -> list:
    return [_file("python/build/fd"), _file("python/build/fd/inner")]


@_attack("folder contents then file of the same name")
def _dir_then_file(canary: Path) -> list:
    return [_file("python/build/df/inner"), _file("python/build/df")]


@_attack("folder contents then symlink of the same name")
def _dir_then_link(canary: Path) -> list:
    return [_file("python/build/dl/inner"), _sym("python/build/dl", UP_TO_CANARY)]


@_attack("duplicate file")
def _duplicate(canary: Path) -> list:
    return [_file("python/build/dup", b"one"), _file("python/build/dup", b"two")]


@_attack("second PYTHON.json")
def _second_json(canary: Path) -> list:
    return [_file("python/PYTHON.json", b'{"version": "8"}')]


@_attack("hardlink over PYTHON.json")
def _hardlink_json(canary: Path) -> list:
    return [_file("python/build/fake.json", b'{"version": "8"}'), _hard("python/PYTHON.json", "python/build/fake.json")]


@_attack("hardlink to a later member")
def _hard_later(canary: Path) -> list:
    return [_hard("python/build/early", "python/build/late"), _file("python/build/late")]


@_attack("hardlink to a symlink")
def _hard_to_link(canary: Path) -> list:
    return [_sym("python/build/s", "../licenses"), _hard("python/build/h", "python/build/s")]


@_attack("hardlink to a folder")
def _hard_to_dir(canary: Path) -> list:
    return [_dir("python/build/hd"), _hard("python/build/h", "python/build/hd")]


@_attack("hardlink to itself")
def _hard_self(canary: Path) -> list:
    return [_hard("python/build/h", "python/build/h")]


@_attack("member python/../x")
def _python_dotdot(canary: Path) -> list:
    return [_file("python/../x")]


@_attack("member ./python/x")
def _dot_prefix(canary: Path) -> list:
    return [_file("./python/x")]


@_attack("member with empty component")
def _empty_component(canary: Path) -> list:
    return [_file("python/build//x")]


@_attack("member with . component")
def _dot_component(canary: Path) -> list:
    return [_file("python/build/./x")]


@_attack("member with newline")
def _newline(canary: Path) -> list:
    return [_file("python/build/a\nb")]


@_attack("member with backslash dotdot")
def _backslash(canary: Path) -> list:
    return [_file("python/build/..\\..\\x")]


@_attack("member name not UTF-8")
def _not_utf8(canary: Path) -> list:
    return [_file("python/build/\udcff\udcfe")]


@_attack("member name 5000 bytes")
def _long_name(canary: Path) -> list:
    return [_file("python/" + "/".join(["d" * 100] * 50))]


@_attack("member component 300 bytes")
def _long_component(canary: Path) -> list:
    return [_file("python/build/" + "c" * 300)]


@_attack("symlink target 5000 bytes")
def _long_target(canary: Path) -> list:
    return [_sym("python/build/long", "a/" * 2500)]


@_attack("member outside python/")
def _outside(canary: Path) -> list:
    return [_file("pythonx/evil")]


@_attack("member at top level")
def _top(canary: Path) -> list:
    return [_file("evil")]


for kind_name, kind in (("character device", tarfile.CHRTYPE), ("block device", tarfile.BLKTYPE),
                        ("fifo", tarfile.FIFOTYPE)):
    MEMBER_ATTACKS[kind_name] = (lambda canary, k=kind: [(_info("python/build/special", k), None)], 3)


@_attack("GNU sparse member")
def _sparse(canary: Path) -> list:
    return [(_info("python/build/sparse", tarfile.GNUTYPE_SPARSE), None)]


@_attack("dangling symlink inside the tree", code=0)
def _dangling_inside(canary: Path) -> list:
    return [_sym("python/build/dangling", "missing/file")]


@_attack("symlink to a sibling folder", code=0)
def _sibling(canary: Path) -> list:
    return [_sym("python/build/lic", "../licenses")]


@_attack("hardlink to an earlier file", code=0)
def _hard_ok(canary: Path) -> list:
    return [_file("python/build/first"), _hard("python/build/second", "python/build/first")]


@_attack("folder entry for python/ itself", code=0)
def _python_dir(canary: Path) -> list:
    return [_dir("python/")]


# ---- sizes, headers, corruption -------------------------------------------------------------------------

def _stream(work: Path, compression: str, chunks: Iterator[bytes]) -> Path:
    path = work / ("dist.tar.gz" if compression == "gz" else "dist.tar.zst")
    if compression == "gz":
        out_cm = gzip.GzipFile(path, "wb", mtime=0, compresslevel=1)
    else:
        handle = open(path, "wb")
        out_cm = zstandard.ZstdCompressor(level=1, write_checksum=compression == "zst-checksum").stream_writer(handle)
    with out_cm as out:
        for chunk in chunks:
            out.write(chunk)
    return path


def _zeros(size: int) -> Iterator[bytes]:
    block = bytes(1 << 20)
    for _ in range(size >> 20):
        yield block


def _bomb(work: Path, canary: Path, compression: str) -> Path:
    # One member whose header claims 3 GiB (64 MiB of zeros follow): refused before any byte is written.
    def chunks() -> Iterator[bytes]:
        yield _tar(distribution_members(minimal_metadata()), end=False)
        yield _info("python/build/zeros", tarfile.REGTYPE, size=3 << 30).tobuf(tarfile.PAX_FORMAT)
        yield from _zeros(64 << 20)

    return _stream(work, compression, chunks())


def _many_members_bomb(work: Path, canary: Path, compression: str) -> Path:
    # Members of 32 MiB of zeros each: a tiny archive whose sum passes the size bound after a few.
    def chunks() -> Iterator[bytes]:
        yield _tar(distribution_members(minimal_metadata()), end=False)
        for index in range(4):
            yield _info(f"python/build/z{index}", tarfile.REGTYPE, size=32 << 20).tobuf(tarfile.PAX_FORMAT)
            yield from _zeros(32 << 20)
        yield bytes(1024)

    return _stream(work, compression, chunks())


def _pax_header(size: int) -> Callable[[Path, Path, str], Path]:
    def make(work: Path, canary: Path, compression: str) -> Path:
        raw = _tar(distribution_members(minimal_metadata()), end=False)
        header = _info("././@PaxHeader", tarfile.XHDTYPE, size=size).tobuf(tarfile.USTAR_FORMAT)
        # One well-formed record "<size> comment=xxx...\n" of exactly `size` bytes.
        body = f"{size} comment={'x' * (size - len(str(size)) - len(' comment=') - 1)}\n".encode()
        assert len(body) == size
        padding = bytes(-size % 512)
        member = tarfile.TarInfo("python/after-pax")
        return _write(work, compression, raw + header + body + padding + member.tobuf(tarfile.USTAR_FORMAT)
                      + bytes(1024))

    return make


def _gnu_long_name(size: int) -> Callable[[Path, Path, str], Path]:
    def make(work: Path, canary: Path, compression: str) -> Path:
        raw = _tar(distribution_members(minimal_metadata()), end=False)
        header = _info("././@LongLink", tarfile.GNUTYPE_LONGNAME, size=size).tobuf(tarfile.USTAR_FORMAT)
        body = b"python/" + b"n" * (size - 8) + b"\0"
        padding = bytes(-size % 512)
        member = tarfile.TarInfo("python/short")
        return _write(work, compression, raw + header + body + padding + member.tobuf(tarfile.GNU_FORMAT)
                      + bytes(1024))

    return make


def _trailing(data: bytes) -> Callable[[Path, Path, str], Path]:
    def make(work: Path, canary: Path, compression: str) -> Path:
        return _write(work, compression, _tar(distribution_members(minimal_metadata())) + data)

    return make


def _flipped(fraction: float) -> Callable[[Path, Path, str], Path]:
    def make(work: Path, canary: Path, compression: str) -> Path:
        path = _write(work, compression, _tar(distribution_members(minimal_metadata())))
        data = bytearray(path.read_bytes())
        offset = max(20, int(len(data) * fraction))
        data[min(offset, len(data) - 1)] ^= 0x01
        path.write_bytes(bytes(data))
        return path

    return make


def _cut(keep: int) -> Callable[[Path, Path, str], Path]:
    def make(work: Path, canary: Path, compression: str) -> Path:
        path = _write(work, compression, _tar(distribution_members(minimal_metadata())))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - keep])
        return path

    return make


STREAM_CASES: dict[str, tuple[Callable[[Path, Path, str], Path], int]] = {
    "bomb: one 3 GiB member": (_bomb, 3),
    "bomb: many 32 MiB members": (_many_members_bomb, 3),
    "pax header of 2 MiB": (_pax_header(2 << 20), 3),
    "pax header of 512 KiB": (_pax_header(512 << 10), 0),
    "GNU long name of 2 MiB": (_gnu_long_name(2 << 20), 3),
    "trailing garbage": (_trailing(b"garbage" * 100), 3),
    "trailing zeros": (_trailing(bytes(8192)), 0),
    "cut last byte": (_cut(1), 3),
    "cut last 4 bytes": (_cut(4), 3),
    "cut last 64 bytes": (_cut(64), 3),
}

# Checksummed zstd and gzip must catch any flipped byte (plain zstd without a checksum cannot always).
FLIP_FRACTIONS = [i / 10 for i in range(1, 10)] + [0.999]


# ---- PYTHON.json documents ------------------------------------------------------------------------------

def _doc(change: Callable[[dict], object]) -> str:
    document = minimal_metadata()
    change(document)
    return json.dumps(document)


def _ext(document: dict) -> dict:
    return document["build_info"]["extensions"]["math"][0]


_INJECTIONS = [
    'x")\nexecute_process(COMMAND touch CANARY/injected)\n#',
    "x\ncargo:rustc-link-arg=-Wl,--wrap=main",
    "x */ int injected; /*",
    "x;y",
    "${HOME}",
    'x"y',
    "a b",
]

METADATA_CASES: dict[str, str] = {
    "integer of 5000 digits": _doc(lambda d: d.update(python_implementation_hex_version=0)).replace(
        '"python_implementation_hex_version": 0', '"python_implementation_hex_version": ' + "9" * 5000),
    "float of 400 digits": _doc(lambda d: d.update(x=0)).replace('"x": 0', '"x": 1.' + "5" * 400),
    "nesting 100000 deep": _doc(lambda d: d.update(x=0)).replace('"x": 0', '"x": ' + "[" * 100000 + "]" * 100000),
    "nesting 40 deep": _doc(lambda d: d.update(x=0)).replace('"x": 0', '"x": ' + "[" * 40 + "]" * 40),
    "lone surrogate in a value": _doc(lambda d: d.update(python_tag="cp311\ud800")),
    "lone surrogate in a key": _doc(lambda d: d.update({"k\udc00": 1})),
    "NaN": _doc(lambda d: d.update(x=0)).replace('"x": 0', '"x": NaN'),
    "Infinity": _doc(lambda d: d.update(x=0)).replace('"x": 0', '"x": -Infinity'),
    "not UTF-8": _doc(lambda d: None).replace('"cp311"', '"cp311\udcff"'),
    "python_version x.y": _doc(lambda d: d.update(python_version="x.y")),
    "python_version with newline": _doc(lambda d: d.update(python_version="3.11.2\nexecute_process()")),
    "major_minor 3": _doc(lambda d: d.update(python_major_minor_version="3")),
    "major_minor 3.11.2": _doc(lambda d: d.update(python_major_minor_version="3.11.2")),
    "major_minor with slash": _doc(lambda d: d.update(python_major_minor_version="3.11/../..")),
    "target triple with space": _doc(lambda d: d.update(target_triple="x86_64 linux")),
    "top level a list": "[1, 2, 3]",
    "empty": "",
    "objs a number": _doc(lambda d: d["build_info"]["core"].update(objs=5)),
    "extensions a list": _doc(lambda d: d["build_info"].update(extensions=[])),
    "variant a string": _doc(lambda d: d["build_info"]["extensions"].update(math=["x"])),
    "escaping object path": _doc(lambda d: _ext(d)["objs"].append("../../escaped.o")),
    "absolute object path": _doc(lambda d: _ext(d)["objs"].append("/etc/passwd")),
    "windows drive object path": _doc(lambda d: _ext(d)["objs"].append("C:\\x.o")),
    "NUL in object path": _doc(lambda d: _ext(d)["objs"].append("build/x\u0000.o")),
}
for index, value in enumerate(_INJECTIONS):
    METADATA_CASES[f"injection {index} in object path"] = _doc(
        lambda d, v=value: _ext(d)["objs"].append(f"build/{v}.o"))
    METADATA_CASES[f"injection {index} in library name"] = _doc(
        lambda d, v=value: d["build_info"]["core"]["links"].append({"name": v, "system": True}))
    METADATA_CASES[f"injection {index} in static library path"] = _doc(
        lambda d, v=value: d["build_info"]["core"]["links"].append({"name": "z", "path_static": f"build/lib/{v}.a"}))
    METADATA_CASES[f"injection {index} in init function"] = _doc(lambda d, v=value: _ext(d).update(init_fn=v))
    METADATA_CASES[f"injection {index} in extension name"] = _doc(
        lambda d, v=value: d["build_info"]["extensions"].update({v: d["build_info"]["extensions"]["math"]}))
    METADATA_CASES[f"injection {index} in inittab flag"] = _doc(
        lambda d, v=value: d["build_info"]["inittab_cflags"].append(v))
    METADATA_CASES[f"injection {index} in include path"] = _doc(
        lambda d, v=value: d["python_paths"].update(include=f"install/{v}"))


def archive_cases() -> list[Case]:
    cases = []
    for compression in COMPRESSIONS:
        for name, (extra, code) in MEMBER_ATTACKS.items():
            make = _members_with(extra)
            cases.append(Case(f"{compression}: {name}", lambda w, c, m=make, z=compression: m(w, c, z), code))
        for name, (make, code) in STREAM_CASES.items():
            cases.append(Case(f"{compression}: {name}", lambda w, c, m=make, z=compression: m(w, c, z), code))
        if compression != "zst":
            for fraction in FLIP_FRACTIONS:
                make = _flipped(fraction)
                cases.append(Case(f"{compression}: byte flipped at {fraction:.0%}",
                                  lambda w, c, m=make, z=compression: m(w, c, z), 3))
    return cases


def metadata_archive(text: str) -> Callable[[Path, Path], Path]:
    def make(work: Path, canary: Path) -> Path:
        members = distribution_members(minimal_metadata())
        members[0] = ("python/PYTHON.json", text.replace("CANARY", str(canary)).encode("utf-8", "surrogateescape"))
        return _write(work, "zst", _tar(members))

    return make
