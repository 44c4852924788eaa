"""Streaming reads of python-build-standalone tar archives (`.tar.zst` or `.tar.gz`), checked member by member.

This module owns the bytes-level view of an archive: recognising its compression, reading the first member
(`python/PYTHON.json`) and stopping there, and one sequential pass that indexes every member, refuses the
whole archive if any member is hostile, and extracts the members a caller wants. Safety does not depend on
the running Python's tarfile (3.11.2 has no extraction filters, and later filters had holes): every name is
checked here (inside `python/`, no `.`/`..`/empty components, no control characters, bounded length, no
duplicate, never below a link or a file of the archive), every link target is resolved through the
archive's own links and must stay inside `python/`, only files, folders and links are accepted, and members
are written by `SafeTree`, which never follows a link. Sizes are bounded before anything is read (pax and
long-name headers, each member, the sum, the member count), and the pass reads to the very end of the
compressed stream so zstd checksums and the gzip CRC are checked. Every failure is a `RelinkError` naming
the archive. It knows nothing about caching or about what PYTHON.json means.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

import zstandard

from relink.distribution.safe_tree import SafeTree, TreeConflict
from relink.errors import RelinkError

__all__ = [
    "MEMBER_ROOT",
    "METADATA_MEMBER",
    "ArchiveLimits",
    "MemberInfo",
    "archive_compression",
    "read_metadata_member",
    "scan_archive",
]

MEMBER_ROOT = "python/"
METADATA_MEMBER = "python/PYTHON.json"
_MAX_METADATA_SIZE = 16 * 1024 * 1024
_MAGIC = {b"\x28\xb5\x2f\xfd": "zstd", b"\x1f\x8b": "gzip"}
# Compressed bytes fed to the zstd decoder at once: bounds what one call can produce (zstd expands at most
# about 32768:1, so 2 KiB gives at most 64 MiB) while keeping the per-call overhead negligible.
_ZSTD_INPUT_CHUNK = 2048
_MAX_LINK_HOPS = 40
_BAD_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\\]")


class ArchiveLimits(NamedTuple):
    """What one archive may hold. The defaults fit every PBS full archive (they expand about 3-6 times)
    with a wide margin, and stop a decompression bomb after a few seconds' work at most."""

    max_member: int = 2 << 30            # one member's size in bytes
    ratio: int = 24                      # sum of member sizes: at most ratio x the compressed size ...
    slack: int = 64 << 20                # ... plus this
    max_members: int = 250_000
    max_extended_header: int = 1 << 20  # a pax header or a GNU long name/link
    max_name: int = 1024                 # bytes of a member name or link target
    max_component: int = 255             # bytes of one path component
    max_trailing: int = 1 << 20          # zero padding after the tar end-of-archive block

    def max_total(self, compressed_size: int) -> int:
        return self.slack + self.ratio * compressed_size


DEFAULT_LIMITS = ArchiveLimits()


class MemberInfo(NamedTuple):
    """One archive member: `name` relative to `python/`, `kind` "file", "dir", "symlink" or "hardlink"."""

    name: str
    kind: str
    size: int


def archive_compression(path: Path) -> str | None:
    """"zstd" or "gzip" from the file's first bytes; None when it is neither (or unreadable)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return None
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


class _IncompleteArchive(Exception):
    """Raised from inside tarfile, which otherwise ends iteration quietly on a missing or damaged header."""


class _Hostile(Exception):
    """A member that is refused: `str()` is the reason."""


class _StrictTarInfo(tarfile.TarInfo):
    """A TarInfo whose header parsing accepts only a zero block as the end of the archive and refuses
    oversized extended headers before tarfile reads them into memory."""

    @classmethod
    def frombuf(cls, buf: bytes, encoding: str, errors: str) -> tarfile.TarInfo:
        try:
            return super().frombuf(buf, encoding, errors)
        except tarfile.EOFHeaderError:
            raise  # the end-of-archive zero block: a real end
        except tarfile.EmptyHeaderError:
            raise _IncompleteArchive("stream ends before the tar end-of-archive block") from None
        except tarfile.HeaderError as error:
            raise _IncompleteArchive(f"damaged tar header: {error}") from None

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        extended = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE,
                    tarfile.SOLARIS_XHDTYPE)
        if self.type in extended and self.size > DEFAULT_LIMITS.max_extended_header:
            raise _Hostile(f"an extended (pax or long-name) header of {self.size} bytes")
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise _Hostile(f"sparse member {self.name!r}")
        return super()._proc_member(tarfile_)


class _ZstdFrames:
    """A read()-able view of a zstd file's decompressed bytes that checks every frame is complete (and its
    content checksum, when the frame has one: libzstd verifies it) — a stream reader would end quietly at
    a truncated last frame."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._decompressor = zstandard.ZstdDecompressor()
        self._frame = self._decompressor.decompressobj()
        self._in_frame = False
        self._buffer = bytearray()
        self._eof = False

    def _fill(self) -> None:
        data = self._handle.read(_ZSTD_INPUT_CHUNK)
        if not data:
            if self._in_frame:
                raise zstandard.ZstdError("the last zstd frame is cut short")
            self._eof = True
            return
        while data:
            self._in_frame = True
            self._buffer += self._frame.decompress(data)
            if not self._frame.eof:
                return
            data = self._frame.unused_data  # the next frame starts in this chunk
            self._frame = self._decompressor.decompressobj()
            self._in_frame = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            self._fill()
        if size < 0:
            size = len(self._buffer)
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        return chunk

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn every decompression, tar-format or member failure while reading `path` into one RelinkError line."""
    try:
        yield
    except _Hostile as error:
        raise RelinkError(f"{path}: refusing hostile archive member: {error}") from None
    except (
        tarfile.TarError, _IncompleteArchive, zstandard.ZstdError, EOFError, zlib.error, gzip.BadGzipFile,
        ValueError, OverflowError, RecursionError,
    ) as error:
        raise RelinkError(f"{path}: corrupt or truncated archive ({error or type(error).__name__})") from None


@contextlib.contextmanager
def _open_stream(path: Path) -> Iterator[tuple[tarfile.TarFile, BinaryIO]]:
    compression = archive_compression(path)
    if compression is None:
        raise RelinkError(f"{path}: not a .tar.zst or .tar.gz archive (unrecognised leading bytes)")
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise RelinkError(f"{path}: cannot read ({error.strerror})") from None
    with handle, _reading(path):
        stream = _ZstdFrames(handle) if compression == "zstd" else gzip.GzipFile(fileobj=handle, mode="rb")
        with contextlib.closing(stream), tarfile.open(fileobj=stream, mode="r|", tarinfo=_StrictTarInfo) as tar:
            yield tar, stream


def _check_first(path: Path, member: tarfile.TarInfo | None) -> tarfile.TarInfo:
    if member is None:
        raise RelinkError(f"{path}: empty archive: expected {METADATA_MEMBER} as its first member")
    if member.name != METADATA_MEMBER:
        raise RelinkError(
            f"{path}: first member is {member.name!r}, not {METADATA_MEMBER} (not a python-build-standalone "
            "full archive, or repacked without keeping PYTHON.json first)"
        )
    if not member.isreg() or member.size > _MAX_METADATA_SIZE:
        raise RelinkError(f"{path}: {METADATA_MEMBER} is not a regular file of reasonable size")
    return member


def read_metadata_member(path: Path) -> bytes:
    """The bytes of `python/PYTHON.json`, the first member, without decompressing anything after it."""
    with _open_stream(path) as (tar, _):
        member = _check_first(path, tar.next())
        extracted = tar.extractfile(member)
        assert extracted is not None
        data = extracted.read()
    if len(data) != member.size:
        raise RelinkError(f"{path}: corrupt or truncated archive (short {METADATA_MEMBER})")
    return data


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.isdir():
        return "dir"
    if member.isreg() and not member.issparse():
        return "file"
    raise _Hostile(f"{member.name!r} is a device, fifo or other special file")


def _relative_name(text: str, what: str, limits: ArchiveLimits) -> str:
    """`text` (a member name or hardlink target) checked and made relative to `python/`."""
    if len(text.encode("utf-8", "surrogateescape")) > limits.max_name:
        raise _Hostile(f"{what} {text[:80]!r}... is longer than {limits.max_name} bytes")
    if _BAD_CHARACTERS.search(text) or any("\udc80" <= c <= "\udcff" for c in text):
        raise _Hostile(f"{what} {text!r} has control characters, backslashes or bytes that are not UTF-8")
    if not text.startswith(MEMBER_ROOT):
        raise _Hostile(f"{what} {text!r} is outside {MEMBER_ROOT}")
    name = text[len(MEMBER_ROOT):]
    name = name[:-1] if name.endswith("/") else name
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise _Hostile(f"{what} {text!r} has an empty, '.' or '..' component")
    if any(len(part.encode()) > limits.max_component for part in parts):
        raise _Hostile(f"{what} {text!r} has a component longer than {limits.max_component} bytes")
    return name


def _parents(name: str) -> Iterator[str]:
    parts = name.split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end])


def _resolve_link(link: str, symlinks: dict[str, str]) -> None:
    """Follow `link` (a symlink member) through the archive's own links; _Hostile if it leaves `python/` or
    loops. A target that does not exist in the archive is fine (it dangles inside the tree)."""
    hops = 0
    pending = [part for part in symlinks[link].split("/") if part not in ("", ".")]
    resolved = link.split("/")[:-1]
    while pending:
        part = pending.pop(0)
        if part == "..":
            if not resolved:
                raise _Hostile(f"symlink python/{link} -> {symlinks[link]!r} leaves python/")
            resolved.pop()
            continue
        candidate = "/".join([*resolved, part])
        if candidate in symlinks:
            hops += 1
            if hops > _MAX_LINK_HOPS:
                raise _Hostile(f"symlink python/{link} -> {symlinks[link]!r} loops")
            pending = [p for p in symlinks[candidate].split("/") if p not in ("", ".")] + pending
            continue
        resolved.append(part)


class _Pass:
    """The state of one pass: what has been seen, the totals, and where wanted members are written."""

    def __init__(self, path: Path, dest: Path, limits: ArchiveLimits) -> None:
        self.path = path
        self.limits = limits
        self.tree = SafeTree(dest)
        self.index: dict[str, MemberInfo] = {}
        self.implicit_dirs: set[str] = set()
        self.symlinks: dict[str, str] = {}
        self.extracted: set[str] = set()
        self.total = 0
        self.max_total = limits.max_total(path.stat().st_size)

    def check(self, member: tarfile.TarInfo) -> MemberInfo:
        kind = _kind(member)
        name = _relative_name(member.name, "member", self.limits)
        if len(self.index) >= self.limits.max_members:
            raise _Hostile(f"more than {self.limits.max_members} members")
        if member.size > self.limits.max_member:
            raise _Hostile(f"{member.name!r} declares {member.size} bytes (more than {self.limits.max_member})")
        self.total += max(member.size, 0)
        if self.total > self.max_total:
            raise _Hostile(
                f"members add up to more than {self.max_total} bytes, {self.limits.ratio} times the archive's "
                "size: a decompression bomb"
            )
        earlier = self.index.get(name)
        if earlier is not None and not (earlier.kind == kind == "dir"):
            raise _Hostile(f"{member.name!r} appears twice")
        if kind != "dir" and name in self.implicit_dirs:
            raise _Hostile(f"{member.name!r} is a {kind}, but earlier members are inside it")
        for parent in _parents(name):
            seen = self.index.get(parent)
            if seen is not None and seen.kind != "dir":
                raise _Hostile(f"{member.name!r} is inside python/{parent}, which is a {seen.kind}")
            self.implicit_dirs.add(parent)
        if kind == "symlink":
            target = member.linkname
            if not target or target.startswith("/") or _BAD_CHARACTERS.search(target) \
                    or len(target.encode("utf-8", "surrogateescape")) > self.limits.max_name \
                    or any("\udc80" <= c <= "\udcff" for c in target):
                raise _Hostile(f"symlink {member.name!r} -> {target!r}: an absolute, empty or malformed target")
            self.symlinks[name] = target
            _resolve_link(name, self.symlinks)
        elif kind == "hardlink":
            target = _relative_name(member.linkname, f"hardlink {member.name!r} target", self.limits)
            if self.index.get(target, MemberInfo(target, "", 0)).kind != "file":
                raise _Hostile(f"hardlink {member.name!r} -> {member.linkname!r}: not an earlier regular file")
        info = MemberInfo(name, kind, member.size if kind == "file" else 0)
        self.index[name] = info
        return info

    def extract(self, tar: tarfile.TarFile, member: tarfile.TarInfo, info: MemberInfo) -> None:
        name = info.name
        if info.kind == "dir":
            self.tree.make_dir(name)
        elif info.kind == "symlink":
            self.tree.symlink(name, member.linkname)
        elif info.kind == "hardlink":
            target = member.linkname[len(MEMBER_ROOT):]
            if target not in self.extracted:
                raise RelinkError(
                    f"{self.path}: cannot extract hardlink {member.name!r} without its target {member.linkname!r}"
                )
            self.tree.hardlink(name, target)
        else:
            data = tar.extractfile(member)
            assert data is not None
            mode = 0o755 if member.mode & 0o111 else 0o644
            mtime = member.mtime if isinstance(member.mtime, int) and 0 <= member.mtime < 1 << 33 else None
            self.tree.write_file(name, data, member.size, mode, mtime)
        self.extracted.add(name)

    def finish(self, stream: BinaryIO) -> None:
        """Read what follows the tar end block to the end of the compressed stream (so zstd checksums and
        the gzip CRC are checked); only zero padding may follow."""
        trailing = 0
        while chunk := stream.read(1 << 16):
            trailing += len(chunk)
            if chunk.count(0) != len(chunk) or trailing > self.limits.max_trailing:
                raise _Hostile("data after the tar end-of-archive block")
        for link in self.symlinks:  # links made before the links they go through existed
            _resolve_link(link, self.symlinks)


def scan_archive(
    path: Path, dest: Path, wanted: Callable[[str], bool], limits: ArchiveLimits = DEFAULT_LIMITS,
) -> dict[str, MemberInfo]:
    """Read the whole archive once: index every member and extract into `dest` those `wanted` selects.

    `wanted` and the returned keys use names relative to `python/` (so `dest` gets `python/...`). Every
    member is checked whether extracted or not, so a hostile archive is refused as a whole; `dest` must
    be a staging folder the caller discards on failure. The pass must reach the tar end-of-archive block
    and the end of the compressed stream: a stream cut short, damaged or failing its checksum is refused.
    """
    state = _Pass(path, dest / "python", limits)
    with _open_stream(path) as (tar, stream):
        for position, member in enumerate(tar):
            if position == 0:
                _check_first(path, member)
            elif member.isdir() and member.name.rstrip("/") == MEMBER_ROOT.rstrip("/"):
                continue  # a directory entry for python/ itself, as plain `tar` repacks write
            info = state.check(member)
            if wanted(info.name):
                try:
                    state.extract(tar, member, info)
                except TreeConflict as error:
                    raise _Hostile(f"{member.name!r}: {error}") from None
                except OSError as error:
                    raise RelinkError(f"{path}: cannot extract {member.name!r} ({error.strerror})") from None
        if not state.index:
            _check_first(path, None)
        state.finish(stream)
    return state.index
