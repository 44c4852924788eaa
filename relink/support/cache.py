"""Where relink keeps what it builds or extracts, and how entries are published safely.

The cache root is `$RELINK_CACHE_DIR`, else `$XDG_CACHE_HOME/relink`, else `~/.cache/relink`. An entry
is a directory that is built under a temporary name beside its final place and renamed into place only
when complete, under a file lock, so concurrent runs never see or trust a half-written entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

__all__ = ["cache_root", "entry_lock", "staging_dir", "publish_dir", "atomic_write_bytes", "sha256_file"]


def cache_root() -> Path:
    explicit = os.environ.get("RELINK_CACHE_DIR")
    if explicit:
        root = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(base) / "relink"
    root.mkdir(parents=True, exist_ok=True)
    return root


def entry_lock(entry: Path) -> FileLock:
    """A cross-process lock guarding the creation of `entry`."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(entry.parent / f".{entry.name}.lock"))


@contextlib.contextmanager
def staging_dir(entry: Path) -> Iterator[Path]:
    """A temporary directory beside `entry` (same filesystem, so the final rename is atomic).

    It is removed on any exit; call `publish_dir` inside the block to move it into place.
    """
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".partial", dir=entry.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def publish_dir(staged: Path, entry: Path) -> None:
    """Move a finished staging directory to `entry`, replacing any stale copy."""
    if entry.exists():
        shutil.rmtree(entry)
    os.replace(staged, entry)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `path` through a temporary file and a rename: readers see all of it or none. The file gets
    the mode `open()` would give it (0644 under the usual umask), not mkstemp's private 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (cache keys and download checks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
