"""Where relink keeps what it builds or extracts, and how entries are published safely.

The cache root is `$RELINK_CACHE_DIR`, else `$XDG_CACHE_HOME/relink`, else `~/.cache/relink`. An entry
is a directory that is built under a temporary name beside its final place and renamed into place only
when complete, under a file lock, so concurrent runs never see or trust a half-written entry; what a killed
run leaves (staging folders, scratch folders) is swept by the next run that can prove it stale.
A process that uses the cache holds a shared lock on `<root>/.in-use.lock` until it exits (a `relink`
command: until it returns), so `relink cache prune|clean` (which lock it exclusively, `cache_manage`) never
remove files from under it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

from relink.errors import RelinkError

__all__ = ["cache_location", "cache_root", "release_cache_locks", "touch_entry", "entry_lock", "staging_dir", "scratch_dir", "publish_dir",
           "atomic_write_bytes", "sha256_file"]


# Cache roots this process holds a shared lock on (a root -> the open lock file), kept until exit.
_IN_USE: dict[Path, int] = {}


def cache_location() -> Path:
    """Where the cache is, without creating or locking it."""
    explicit = os.environ.get("RELINK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "relink"


def _hold_shared(root: Path) -> None:
    """Take the shared `.in-use.lock` lock of `root` for the rest of the process (waits while it is cleaned)."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; pruning there does not wait for other processes
        return
    try:
        fd = os.open(root / ".in-use.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # e.g. no inode left: the command can still run, only without the clean-out guard
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"relink: waiting while {root} is being pruned or cleaned…", file=sys.stderr, flush=True)
        fcntl.flock(fd, fcntl.LOCK_SH)
    _IN_USE[root] = fd


def release_cache_locks() -> None:
    """Give up this process's shared locks (the CLI does when a command returns; a later `cache_root`
    takes them again)."""
    while _IN_USE:
        os.close(_IN_USE.popitem()[1])


def cache_root() -> Path:
    """The cache folder, created and marked in use by this process (see the module docstring)."""
    root = cache_location()
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not os.access(root, os.W_OK | os.X_OK):
            raise PermissionError(13, "not writable")
        if root not in _IN_USE:
            _hold_shared(root)
    except OSError as error:
        raise RelinkError(f"{root}: relink's cache folder cannot be used ({error.strerror}): set "
                          "RELINK_CACHE_DIR to a writable folder") from None
    return root


def touch_entry(entry: Path) -> None:
    """Mark a reused entry as used now (what `relink cache prune` measures idleness by)."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def entry_lock(entry: Path) -> FileLock:
    """A cross-process lock guarding the creation of `entry`."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(entry.parent / f".{entry.name}.lock"))


@contextlib.contextmanager
def staging_dir(entry: Path) -> Iterator[Path]:
    """A temporary directory beside `entry` (same filesystem, so the final rename is atomic).

    Call it only while holding `entry_lock(entry)`: staging folders of the same entry left by a process
    that was killed are then certainly stale, and are removed first. The new one is removed on any exit;
    call `publish_dir` inside the block to move it into place.
    """
    entry.parent.mkdir(parents=True, exist_ok=True)
    for stale in entry.parent.glob(f".{entry.name}.*.partial"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".partial", dir=entry.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A private working folder `<cache>/tmp/<prefix>-<pid>-<random>`, removed on any exit. Folders there
    whose process no longer runs (killed before it could clean up) are removed first."""
    base = cache_root() / "tmp"
    base.mkdir(exist_ok=True)
    for item in base.iterdir():
        _, _, rest = item.name.rpartition(f"{prefix}-")
        pid = rest.split("-")[0]
        if item.name.startswith(f"{prefix}-") and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(item, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=base))
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
