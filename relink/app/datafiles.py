"""Runs inside a built executable (embedded as `_relink_datafiles`), never imported by relink itself.

Packages often read their data with paths built from `__file__` (`open(os.path.dirname(__file__) + …)`),
which for an embedded module points inside the executable. `install()` makes the read-only calls such
code uses see the embedded files there: `open`/`io.open` for reading, `os.stat`/`lstat` (so pathlib's
`exists`, `is_file`, `is_dir` too), `os.path.exists`, `isfile`, `isdir` and `os.listdir`. Any other path
goes straight to the real functions; writing inside the executable fails with EROFS.
(`importlib.resources` is the portable way, and works without this.)

`importlib.resources` itself reads through the zip importer's resource reader, which parses the whole zip's
directory again at every `files()` call: a package that looks up hundreds of resources one by one (tzdata's
zones, pyfiglet's fonts) would spend seconds on it. `install()` makes every reader share one parsed
directory (one read-only handle on the executable, kept open).
"""

import builtins
import errno
import io
import os
import posixpath
import sys

_real = {}
_state = {}


def _index():
    """(files, folders) inside the executable's zip, as member names; folders maps each folder to the
    names of its entries."""
    if "files" not in _state:
        import zipimport

        importer = zipimport.zipimporter(_state["archive"])
        _state["importer"] = importer
        files = set(getattr(importer, "_files", ()))
        folders = {"": set()}
        for name in files:
            parts = name.split("/")
            for end in range(len(parts)):
                folders.setdefault("/".join(parts[:end]), set()).add(parts[end])
        _state["files"], _state["folders"] = files, folders
    return _state["files"], _state["folders"]


def _member(path):
    """The zip member `path` names, or None for a path outside the executable."""
    if isinstance(path, int):
        return None
    try:
        path = os.fspath(path)
    except TypeError:
        return None
    if not isinstance(path, str):
        return None
    archive = _state["archive"]
    if not path.startswith(archive + "/"):
        return None  # the executable itself is a real file
    member = posixpath.normpath(path)[len(archive) + 1:]
    return member if posixpath.normpath(path).startswith(archive + "/") else None


def open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, closefd=True, opener=None):
    member = _member(file)
    if member is None:
        return _real["open"](file, mode, buffering, encoding, errors, newline, closefd, opener)
    if any(flag in mode for flag in "wax+"):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), file)
    files, folders = _index()
    if member in folders:
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), file)
    if member not in files:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), file)
    raw = io.BytesIO(_state["importer"].get_data(member))
    raw.name = file
    if "b" in mode:
        return raw
    return io.TextIOWrapper(raw, encoding=io.text_encoding(encoding), errors=errors, newline=newline)


def _stat(path, *, dir_fd=None, follow_symlinks=True):
    member = _member(path) if dir_fd is None else None
    if member is None:
        return _real["stat"](path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
    files, folders = _index()
    if member in folders:
        mode, size = 0o40555, 0
    elif member in files:
        entry = _state["importer"]._files[member]
        mode, size = 0o100444, entry[3] if isinstance(entry, tuple) and len(entry) > 3 else 0
    else:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    return os.stat_result((mode, 0, 0, 1, 0, 0, size, 0, 0, 0))


def _lstat(path, *, dir_fd=None):
    return _stat(path, dir_fd=dir_fd, follow_symlinks=False)


def _exists(path):
    member = _member(path)
    if member is None:
        return _real["exists"](path)
    files, folders = _index()
    return member in files or member in folders


def _isfile(path):
    member = _member(path)
    return _real["isfile"](path) if member is None else member in _index()[0]


def _isdir(path):
    member = _member(path)
    return _real["isdir"](path) if member is None else member in _index()[1]


def _listdir(path="."):
    member = _member(path)
    if member is None:
        return _real["listdir"](path)
    folders = _index()[1]
    if member not in folders:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    return sorted(folders[member])


def _get_resource_reader(importer, fullname):
    """zipimporter.get_resource_reader for embedded packages: readers that share one parsed zip directory
    (see the docstring); importlib.readers and zipfile are imported on first use only."""
    if "reader" not in _state:
        try:
            from importlib.readers import ZipReader
        except ImportError:  # a Python without it: the zip importer's own readers
            _state["reader"] = None
        else:
            import zipfile

            shared = {}

            class SharedZipReader(ZipReader):
                def files(self):
                    if self.archive not in shared:
                        shared[self.archive] = zipfile.ZipFile(self.archive)
                    return zipfile.Path(shared[self.archive], self.prefix)

            _state["reader"] = SharedZipReader
    if _state["reader"] is None:
        return _real["get_resource_reader"](importer, fullname)
    import zipimport

    try:
        if not importer.is_package(fullname):
            return None
    except zipimport.ZipImportError:
        return None
    return _state["reader"](importer, fullname)


def install():
    if _state:
        return
    _state["archive"] = next((entry for entry in sys.path if os.path.isfile(entry)), sys.executable)
    _real.update(open=io.open, exists=posixpath.exists, isfile=posixpath.isfile, isdir=posixpath.isdir,
                 listdir=os.listdir, stat=os.stat)
    import zipimport

    _real["get_resource_reader"] = zipimport.zipimporter.get_resource_reader
    zipimport.zipimporter.get_resource_reader = _get_resource_reader
    builtins.open = io.open = open
    posixpath.exists, posixpath.isfile, posixpath.isdir = _exists, _isfile, _isdir
    os.listdir, os.stat, os.lstat = _listdir, _stat, _lstat
