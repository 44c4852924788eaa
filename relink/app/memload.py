"""Runs inside a built executable (embedded as `_relink_memload`), never imported by relink itself.

Loads the app's native extension modules from the executable's own zip without writing them to disk:
each one, and before it the shared libraries auditwheel bundled beside it (`<pkg>.libs/`, in dependency
order), is copied into an anonymous in-memory file (`memfd_create`) and loaded from its
`/proc/self/fd/N` path. A library's later `DT_NEEDED` reference finds it already loaded by its soname.
Where in-memory files cannot be created or executed (old kernels, no /proc, `memfd_noexec`), each file
goes into a private 0700 folder instead, is deleted once loaded, and the folder is removed at exit. So
do libraries that need each other (a cycle, such as Pillow's freetype and harfbuzz): no order loads
them one by one from memory, while side by side in a folder each finds the others through `$ORIGIN`.

`install(manifest)` puts the finder first on `sys.meta_path`; the manifest maps a module name to its
zip member and the library members it needs. Only the standard library's start-up modules are used.
"""

import _imp
import _relink_dl
import os
import sys
from importlib.machinery import ModuleSpec

_open_files = []          # memfds stay open: a reused fd number would make dlopen return the old object
_loaded_libraries = set()
_fallback_folder = []


class InMemoryExtensionFinder:
    """Meta path finder and loader for the extension modules listed in the manifest."""

    def __init__(self, archive, manifest):
        self.archive = archive
        self.manifest = manifest
        self._zip = None

    def find_spec(self, fullname, path=None, target=None):
        entry = self.manifest.get(fullname)
        if entry is None:
            return None
        member = entry[0]
        spec = ModuleSpec(fullname, self, origin=self.archive + "/" + member)
        spec.has_location = True
        if member.rpartition("/")[2].startswith("__init__."):
            spec.submodule_search_locations = [self.archive + "/" + member.rpartition("/")[0]]
        return spec

    def create_module(self, spec):
        member, libraries, cyclic = self.manifest[spec.name]
        libraries = [library for library in libraries if library not in _loaded_libraries]
        if cyclic and libraries:
            # Libraries that need each other cannot be loaded one by one from memory: each finds the
            # others beside itself ($ORIGIN), in the private folder, deleted once loaded.
            paths = [_in_private_folder(library.rpartition("/")[2], self._data(library)) for library in libraries]
            try:
                for path in paths:
                    _relink_dl.dlopen(path)
            finally:
                for path in paths:
                    os.unlink(path)
        else:
            for library in libraries:
                self._load(library, _relink_dl.dlopen)
        _loaded_libraries.update(libraries)
        return self._load(member, lambda path: _imp.create_dynamic(ModuleSpec(spec.name, None, origin=path)))

    def exec_module(self, module):
        _imp.exec_dynamic(module)

    def _data(self, member):
        if self._zip is None:
            import zipimport
            self._zip = zipimport.zipimporter(self.archive)
        return self._zip.get_data(member)

    def _load(self, member, load):
        data = self._data(member)
        name = member.rpartition("/")[2]
        path = _in_memory(name, data)
        if path is not None:
            try:
                return load(path)
            except (OSError, ImportError):
                pass  # e.g. memfds not executable here: the private folder next
        path = _in_private_folder(name, data)
        try:
            return load(path)
        finally:
            os.unlink(path)


def _in_memory(name, data):
    if os.environ.get("RELINK_NO_MEMFD"):
        return None
    try:
        # The launcher's system call: os.memfd_create is missing from interpreters built for glibc < 2.27.
        fd = _relink_dl.memfd_create(name)
    except OSError:
        return None
    _write_all(fd, data)
    path = f"/proc/self/fd/{fd}"
    if not os.path.exists(path):
        os.close(fd)
        return None
    _open_files.append(fd)
    return path


def _in_private_folder(name, data):
    if not _fallback_folder:
        base = os.environ.get("TMPDIR") or "/tmp"
        while True:
            folder = os.path.join(base, f"relink-{os.getpid()}-{os.urandom(6).hex()}")
            try:
                os.mkdir(folder, 0o700)
                break
            except FileExistsError:
                continue
        _fallback_folder.append(folder)
        import atexit
        atexit.register(_remove_folder, folder)
    path = os.path.join(_fallback_folder[0], name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o700)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)
    return path


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _remove_folder(folder):
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    os.rmdir(folder)


def install(manifest):
    """Put the finder for `manifest` ({module: [member, [library members]]}) first on sys.meta_path."""
    archive = next((entry for entry in sys.path if os.path.isfile(entry)), sys.executable)
    for finder in sys.meta_path:
        if isinstance(finder, InMemoryExtensionFinder):
            return
    sys.meta_path.insert(0, InMemoryExtensionFinder(archive, manifest))
