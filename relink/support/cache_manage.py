"""Looking after the cache as a whole: its size, pruning entries not used for a while, and emptying it.

Every relink process that uses the cache holds a shared lock on `<root>/.in-use.lock` for its lifetime
(`relink.support.cache.cache_root`); pruning and cleaning take that lock exclusively, so they wait until no
other relink process is running on this cache and no relink process starts while they remove things.

An entry is one child of a top-level cache folder (`interpreters/<key>`, `extracted/<sha256>`,
`dists/<key>`, `logs/<file>`, …). Its last use is the newest modification time of anything in it or access
time of a file in it (not of a folder: listing one, as pruning does, is no use): Linux updates access times
at least once a day under the default `relatime` mount option, and relink touches an entry when it reuses
one (`touch_entry`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from relink.errors import ExitCode, RelinkError

__all__ = ["CacheEntry", "cache_entries", "clean_cache", "exclusive_cache", "parse_age", "prune_cache", "tree_size"]

LOCK_NAME = ".in-use.lock"
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "": 86400}


def parse_age(text: str) -> float:
    """Seconds in `30d`, `12h`, `90m`, `45s`, `2w` (a bare number is days)."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise RelinkError(f"--older-than {text!r}: expected a number of days or a duration such as 30d, 12h, 90m, 2w",
                          ExitCode.USAGE)
    return float(match[1]) * _UNIT_SECONDS[match[2]]


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    size: int           # bytes on disk, each file counted once
    last_used: float    # seconds since the epoch


def _walk(path: Path) -> tuple[int, float]:
    """(bytes on disk, last use) of `path` and everything under it; symlinks are not followed."""
    seen: set[tuple[int, int]] = set()
    size = 0
    newest = 0.0
    stack = [path]
    while stack:
        current = stack.pop()
        try:
            info = current.lstat()
        except FileNotFoundError:
            continue  # removed meanwhile
        is_file = stat.S_ISREG(info.st_mode)
        newest = max(newest, info.st_mtime, info.st_atime if is_file else 0.0)
        if (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            size += info.st_blocks * 512
        if stat.S_ISDIR(info.st_mode):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                stack.extend(current.iterdir())
    return size, newest


def tree_size(path: Path) -> int:
    return _walk(path)[0]


def cache_entries(root: Path) -> Iterator[CacheEntry]:
    """Every entry of the cache at `root` (see the module docstring); lock files are not entries."""
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.name == LOCK_NAME:
            continue
        if not folder.is_dir() or folder.is_symlink():
            yield CacheEntry(folder, *_walk(folder))
            continue
        for child in sorted(folder.iterdir()):
            if child.name.endswith(".lock") and child.is_file():
                continue
            yield CacheEntry(child, *_walk(child))


@contextlib.contextmanager
def exclusive_cache(root: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the cache's lock exclusively: no other relink process is using `root` meanwhile."""
    import fcntl

    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise RelinkError(f"{root}: other relink processes are using the cache; try again when they end",
                                  ExitCode.INVALID_INPUT) from None
            print(f"relink: waiting for the other relink processes using {root} to finish…", file=sys.stderr,
                  flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def prune_cache(root: Path, older_than: float, *, dry_run: bool = False,
                wait: bool = True) -> tuple[list[CacheEntry], list[CacheEntry]]:
    """Remove the entries not used for `older_than` seconds; returns (removed, kept)."""
    with exclusive_cache(root, wait=wait):
        cutoff = time.time() - older_than
        removed, kept = [], []
        for entry in cache_entries(root):
            (removed if entry.last_used < cutoff else kept).append(entry)
        if not dry_run:
            for entry in removed:
                _remove(entry.path)
                (entry.path.parent / f".{entry.path.name}.lock").unlink(missing_ok=True)  # its creation lock
            for folder in root.iterdir():  # top-level folders left empty
                if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                    folder.rmdir()
    return removed, kept


def clean_cache(root: Path, *, wait: bool = True) -> int:
    """Empty the cache (the folder itself stays); returns the bytes freed."""
    freed = 0
    with exclusive_cache(root, wait=wait):
        for child in root.iterdir():
            if child.name != LOCK_NAME:
                freed += tree_size(child)
                _remove(child)
    return freed
