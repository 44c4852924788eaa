"""Writing below a root folder without ever following a link: what extraction uses to place members.

Every path is walked one component at a time from an open descriptor of the root, each folder opened with
`O_NOFOLLOW | O_DIRECTORY`, and every file, link or rename is made relative to its parent's descriptor
(`O_CREAT | O_EXCL | O_NOFOLLOW` for files). A symlink or a file where a folder is expected, or an existing
entry where a new one is created, raises `TreeConflict` naming the path: nothing is written through a link,
whatever the running Python's tarfile would do, and whatever links an earlier pass left in the tree.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

__all__ = ["TreeConflict", "SafeTree", "move_tree"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CONFLICTS = (errno.ELOOP, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.ENOTEMPTY, errno.EMLINK)


class TreeConflict(Exception):
    """A path cannot be placed without following a link or replacing something: `str()` says which and why."""


class SafeTree:
    """A folder (`root`, created on the first write) into which relative `/`-separated paths are written
    safely. `root` itself is trusted: it is the caller's own staging folder or cache entry."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)

    @contextlib.contextmanager
    def _parent(self, relative: str, create: bool) -> Iterator[tuple[int, str]]:
        """An open descriptor of `relative`'s parent folder (made as needed) and the last component."""
        *folders, last = relative.split("/")
        if create:
            os.makedirs(self.root, exist_ok=True)
        fd = os.open(self.root, _DIR_FLAGS)
        try:
            walked = []
            for name in folders:
                walked.append(name)
                try:
                    next_fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    with contextlib.suppress(FileExistsError):  # another writer made it meanwhile
                        os.mkdir(name, 0o755, dir_fd=fd)
                    next_fd = self._open_dir(name, fd, walked)
                except OSError as error:
                    if error.errno in _CONFLICTS:
                        raise TreeConflict(f"{'/'.join(walked)} is a link or a file, not a folder") from None
                    raise
                os.close(fd)
                fd = next_fd
            yield fd, last
        finally:
            os.close(fd)

    @staticmethod
    def _open_dir(name: str, parent_fd: int, walked: list[str]) -> int:
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except OSError as error:
            if error.errno in _CONFLICTS:
                raise TreeConflict(f"{'/'.join(walked)} is a link or a file, not a folder") from None
            raise

    def make_dir(self, relative: str) -> None:
        with self._parent(relative + "/.", create=True):
            pass

    def write_file(self, relative: str, source: BinaryIO, size: int, mode: int, mtime: int | None) -> None:
        """Create `relative` (it must not exist) with exactly `size` bytes read from `source`."""
        with self._parent(relative, create=True) as (parent, name):
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode,
                             dir_fd=parent)
            except OSError as error:
                if error.errno in _CONFLICTS:
                    raise TreeConflict(f"{relative} already exists") from None
                raise
            with os.fdopen(fd, "wb") as out:
                remaining = size
                while remaining:
                    chunk = source.read(min(remaining, 1 << 20))
                    if not chunk:
                        raise EOFError(f"member {relative} ends early")
                    out.write(chunk)
                    remaining -= len(chunk)
                os.fchmod(out.fileno(), mode)
                if mtime is not None:
                    os.utime(out.fileno(), (mtime, mtime))

    def symlink(self, relative: str, target: str) -> None:
        with self._parent(relative, create=True) as (parent, name):
            try:
                os.symlink(target, name, dir_fd=parent)
            except FileExistsError:
                raise TreeConflict(f"{relative} already exists") from None

    def hardlink(self, relative: str, existing: str) -> None:
        """`relative` as a second name of the regular file `existing` (both inside the tree)."""
        with self._parent(existing, create=False) as (source_parent, source_name), \
                self._parent(relative, create=True) as (parent, name):
            if not stat.S_ISREG(os.stat(source_name, dir_fd=source_parent, follow_symlinks=False).st_mode):
                raise TreeConflict(f"{existing} is not a regular file")
            try:
                os.link(source_name, name, src_dir_fd=source_parent, dst_dir_fd=parent, follow_symlinks=False)
            except FileExistsError:
                raise TreeConflict(f"{relative} already exists") from None

    def open_regular(self, relative: str) -> BinaryIO:
        """Open an existing regular file of the tree for reading (never through a link)."""
        with self._parent(relative, create=False) as (parent, name):
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise TreeConflict(f"{relative} is not a regular file")
        return os.fdopen(fd, "rb")

    def rename_into(self, relative: str, source_tree: SafeTree) -> None:
        """Move `relative` from `source_tree` to the same place here (replacing a file or link there)."""
        with source_tree._parent(relative, create=False) as (source_parent, source_name), \
                self._parent(relative, create=True) as (parent, name):
            try:
                os.rename(source_name, name, src_dir_fd=source_parent, dst_dir_fd=parent)
            except OSError as error:
                if error.errno in _CONFLICTS:
                    raise TreeConflict(f"{relative}: a folder of that name is already there") from None
                raise


def move_tree(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
    """Move every file and link of folder `source` into `destination`, each by one rename, never through a
    link in `destination` (a folder there that is a link raises TreeConflict)."""
    source_tree, destination_tree = SafeTree(source), SafeTree(destination)
    for folder, dirnames, filenames in os.walk(source):
        relative = os.path.relpath(folder, source)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        for name in dirnames:
            if os.path.islink(os.path.join(folder, name)):
                filenames.append(name)
            else:
                destination_tree.make_dir(prefix + name)
        for name in filenames:
            destination_tree.rename_into(prefix + name, source_tree)
