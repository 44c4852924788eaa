"""Streaming reads of python-build-standalone tar archives (`.tar.zst` or `.tar.gz`).

This module owns the bytes-level view of an archive: recognising its compression, reading the first member
(`python/PYTHON.json`) and stopping there, and one sequential pass that indexes every member, refuses the
whole archive if any member is hostile (tarfile's `data` filter decides: absolute or escaping links, device
files, paths leaving the tree) and extracts the members a caller wants. Every failure is a `RelinkError`
naming the archive. It knows nothing about caching or about what PYTHON.json means.
"""

from __future__ import annotations

import contextlib
import gzip
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import zstandard

from relink.errors import RelinkError

__all__ = [
    "MEMBER_ROOT",
    "METADATA_MEMBER",
    "MemberInfo",
    "archive_compression",
    "read_metadata_member",
    "scan_archive",
]

MEMBER_ROOT = "python/"
METADATA_MEMBER = "python/PYTHON.json"
_MAX_METADATA_SIZE = 16 * 1024 * 1024
_MAGIC = {b"\x28\xb5\x2f\xfd": "zstd", b"\x1f\x8b": "gzip"}


@dataclass(frozen=True)
class MemberInfo:
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


class _StrictTarInfo(tarfile.TarInfo):
    """A TarInfo whose header parsing accepts only a zero block as the end of the archive."""

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


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn every decompression or tar-format failure while reading `path` into one RelinkError line."""
    try:
        yield
    except tarfile.FilterError as error:
        raise RelinkError(f"{path}: refusing hostile archive member: {error}") from None
    except (
        tarfile.TarError, _IncompleteArchive, zstandard.ZstdError, EOFError, zlib.error, gzip.BadGzipFile
    ) as error:
        raise RelinkError(f"{path}: corrupt or truncated archive ({error or type(error).__name__})") from None


@contextlib.contextmanager
def _open_stream(path: Path) -> Iterator[tarfile.TarFile]:
    compression = archive_compression(path)
    if compression is None:
        raise RelinkError(f"{path}: not a .tar.zst or .tar.gz archive (unrecognised leading bytes)")
    with open(path, "rb") as handle, _reading(path):
        if compression == "zstd":
            stream = zstandard.ZstdDecompressor().stream_reader(handle, read_across_frames=True)
        else:
            stream = gzip.GzipFile(fileobj=handle, mode="rb")
        with stream, tarfile.open(fileobj=stream, mode="r|", tarinfo=_StrictTarInfo) as tar:
            yield tar


def _check_first(path: Path, member: tarfile.TarInfo | None) -> tarfile.TarInfo:
    if member is None:
        raise RelinkError(f"{path}: empty archive: expected {METADATA_MEMBER} as its first member")
    if member.name != METADATA_MEMBER:
        raise RelinkError(
            f"{path}: first member is {member.name!r}, not {METADATA_MEMBER} (not a python-build-standalone "
            "full archive, or repacked without keeping PYTHON.json first)"
        )
    if not member.isfile() or member.size > _MAX_METADATA_SIZE:
        raise RelinkError(f"{path}: {METADATA_MEMBER} is not a regular file of reasonable size")
    return member


def read_metadata_member(path: Path) -> bytes:
    """The bytes of `python/PYTHON.json`, the first member, without decompressing anything after it."""
    with _open_stream(path) as tar:
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
    return "dir" if member.isdir() else "file"


def scan_archive(path: Path, dest: Path, wanted: Callable[[str], bool]) -> dict[str, MemberInfo]:
    """Read the whole archive once: index every member and extract into `dest` those `wanted` selects.

    `wanted` and the returned keys use names relative to `python/` (so `dest` gets `python/...`). Every
    member is checked with tarfile's `data` filter against `dest` whether extracted or not, so a hostile
    archive is refused as a whole. The pass must reach the tar end-of-archive block: a stream cut short or
    damaged between members is reported rather than taken as the end.
    """
    index: dict[str, MemberInfo] = {}
    extracted: set[str] = set()
    with _open_stream(path) as tar:
        for position, member in enumerate(tar):
            if position == 0:
                _check_first(path, member)
            elif member.isdir() and member.name.rstrip("/") == MEMBER_ROOT.rstrip("/"):
                continue  # a directory entry for python/ itself, as plain `tar` repacks write
            elif not member.name.startswith(MEMBER_ROOT):
                raise RelinkError(f"{path}: member {member.name!r} is outside {MEMBER_ROOT}: refusing the archive")
            tarfile.data_filter(member, str(dest))
            name = member.name[len(MEMBER_ROOT):].rstrip("/")
            index[name] = MemberInfo(name, _kind(member), member.size)
            if wanted(name):
                if member.islnk() and member.linkname[len(MEMBER_ROOT):] not in extracted:
                    raise RelinkError(
                        f"{path}: cannot extract hardlink {member.name!r} without its target {member.linkname!r}"
                    )
                tar.extract(member, dest, filter="data")
                extracted.add(name)
        if not index:
            _check_first(path, None)
    return index
