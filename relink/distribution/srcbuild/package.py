"""Writing a distribution tree as PBS does: a zstd tar, PYTHON.json first, sorted, normalized.

Members are sorted with `python/PYTHON.json` first (so readers can stop after it), have one fixed
mtime, uid/gid 0 and no owner names, and no directory entries: the same tree gives the same bytes.
Every zstd frame carries a content checksum, so a flipped byte is detected when the archive is read.
"""

from __future__ import annotations

import os
import stat
import tarfile
import tempfile
from pathlib import Path

import zstandard

__all__ = ["archive_name", "write_archive"]

ZSTD_LEVEL = 10


def archive_name(version: str, triple: str, build_options: str) -> str:
    return f"cpython-{version}+local-{triple}-{build_options}-full.tar.zst"


def _members(stage: Path) -> list[Path]:
    # Files, links, and the folders that are empty: they matter too (python3 looks for its
    # lib-dynload folder at start and warns on every run when it is missing).
    paths = [p for p in stage.rglob("*") if p.is_symlink() or not p.is_dir() or not any(p.iterdir())]
    first = stage / "python" / "PYTHON.json"
    rest = sorted((p for p in paths if p != first), key=lambda p: p.relative_to(stage).as_posix())
    return [first, *rest]


def write_archive(stage: Path, target: Path, *, mtime: int) -> None:
    """Archive everything under `stage` (which holds `python/`) into `target` (.tar.zst), atomically."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    partial = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would make the published archive private
    # A content checksum in every frame: readers (relink's own included) then detect any corruption.
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1, write_checksum=True)
    try:
        with os.fdopen(fd, "wb") as raw, compressor.stream_writer(raw, closefd=False) as zstd_out, \
                tarfile.open(fileobj=zstd_out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for path in _members(stage):
                info = tarfile.TarInfo(path.relative_to(stage).as_posix())
                st = path.lstat()
                info.mtime = mtime
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if stat.S_ISLNK(st.st_mode):
                    info.type = tarfile.SYMTYPE
                    info.linkname = os.readlink(path)
                    info.mode = 0o777
                    tar.addfile(info)
                    continue
                if stat.S_ISDIR(st.st_mode):
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                    continue
                info.mode = 0o755 if st.st_mode & stat.S_IXUSR else 0o644
                info.size = st.st_size
                with path.open("rb") as f:
                    tar.addfile(info, f)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


