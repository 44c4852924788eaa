"""`open_distribution`: one object for a python-build-standalone distribution, whatever form it comes in.

A distribution is a full archive (`.tar.zst` / `.tar.gz`, read by streaming and extracted on demand into the
cache), an extracted folder (holding `python/PYTHON.json`), or a bare PYTHON.json file ("metadata only":
its metadata can be read, its files cannot). This module owns choosing the form, reading the metadata, and
turning PYTHON.json-relative paths into real files that are guaranteed to be inside the distribution. It
knows nothing about building or planning.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from relink.distribution.archive import archive_compression, read_metadata_member
from relink.distribution.metadata import PythonJson, check_relative_path, parse_python_json
from relink.errors import RelinkError

if TYPE_CHECKING:
    from relink.distribution.extraction import ArchiveCache

# Files that carry machine code or bitcode: what identifies an extracted folder's contents.
OBJECT_SUFFIXES = (".o", ".a", ".obj", ".lib")

__all__ = ["OBJECT_SUFFIXES", "distribution_identity", "Distribution", "open_distribution"]


class Distribution(abc.ABC):
    """A distribution opened by `open_distribution`. PYTHON.json-relative paths ("build/Objects/abstract.o")
    are relative to its `python/` directory."""

    is_metadata_only = False

    def __init__(self, source: Path, metadata: PythonJson, archive_size: int | None) -> None:
        self.source = source
        self.metadata = metadata
        self.archive_size = archive_size

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.source)!r})"

    def _check(self, rel: str) -> str:
        return check_relative_path(rel, "requested", str(self.source))

    def _inside(self, root: Path, rel: str) -> Path:
        """`root/python/rel`, refused when it (through symlinks) leaves `root/python`, RelinkError if missing."""
        try:
            base = (root / "python").resolve()
            target = (root / "python" / rel).resolve()
        except (RuntimeError, OSError) as error:  # a symlink loop (RuntimeError before Python 3.13)
            raise RelinkError(f"{self.source}: python/{rel} cannot be resolved ({error})") from None
        if not target.is_relative_to(base):
            raise RelinkError(f"{self.source}: python/{rel} resolves outside the distribution ({target})")
        if not target.exists():
            raise RelinkError(f"{self.source}: python/{rel} does not exist in the distribution")
        return target

    @abc.abstractmethod
    def path(self, rel: str) -> Path:
        """The real file for a PYTHON.json-relative path, extracting it first if needed."""

    @abc.abstractmethod
    def extract(self, members: Iterable[str] | None = None) -> Path:
        """Make `members` (PYTHON.json-relative files or folders; None for everything) available on disk
        and return the root directory that contains `python/`."""

    @abc.abstractmethod
    def member_sizes(self) -> Mapping[str, int] | None:
        """Sizes in bytes of the files PYTHON.json lists (objects, static libraries) that the distribution
        has (a listed file it lacks is absent from the mapping); None if unknowable."""

    def missing_files(self, paths: Iterable[str]) -> tuple[str, ...]:
        """Those of `paths` (PYTHON.json-relative files) the distribution does not have; () when
        unknowable (metadata only). Real archives sometimes lack a file their PYTHON.json lists."""
        return ()

    def files_under(self, folder: str) -> tuple[str, ...]:
        """The PYTHON.json-relative files directly in `folder`; () when unknowable (metadata only)."""
        return ()

    def extract_present(self, paths: Iterable[str]) -> tuple[str, ...]:
        """Make those of `paths` the distribution has available on disk (one pass over an archive) and
        return the ones it lacks."""
        return self.missing_files(paths)


class _MetadataOnly(Distribution):
    is_metadata_only = True

    def _refuse(self, what: str) -> RelinkError:
        return RelinkError(
            f"{self.source}: a bare PYTHON.json has metadata only; cannot provide {what}: "
            "open the full archive or its extracted folder instead"
        )

    def path(self, rel: str) -> Path:
        raise self._refuse(f"python/{self._check(rel)}")

    def extract(self, members: Iterable[str] | None = None) -> Path:
        raise self._refuse("files to extract")

    def member_sizes(self) -> Mapping[str, int] | None:
        return None


class _Folder(Distribution):
    def __init__(self, source: Path, metadata: PythonJson, root: Path) -> None:
        super().__init__(source, metadata, None)
        self.root = root

    def path(self, rel: str) -> Path:
        return self._inside(self.root, self._check(rel))

    def extract(self, members: Iterable[str] | None = None) -> Path:
        for rel in members or ():
            self._inside(self.root, self._check(rel))
        return self.root

    def member_sizes(self) -> Mapping[str, int] | None:
        sizes = {}
        for rel in self.metadata.build_info.listed_paths():
            target = self.root / "python" / self._check(rel)
            if target.is_file():
                sizes[rel] = self.path(rel).stat().st_size
        return sizes

    def missing_files(self, paths: Iterable[str]) -> tuple[str, ...]:
        return tuple(rel for rel in paths if not os.path.lexists(self.root / "python" / self._check(rel)))

    def files_under(self, folder: str) -> tuple[str, ...]:
        base = self.root / "python" / self._check(folder)
        names = sorted(p.name for p in base.iterdir() if p.is_file()) if base.is_dir() else []
        return tuple(f"{folder}/{name}" for name in names)


class _Archive(Distribution):
    def __init__(self, source: Path, metadata: PythonJson, archive_size: int) -> None:
        super().__init__(source, metadata, archive_size)
        self._cache: ArchiveCache | None = None

    @property
    def cache(self) -> ArchiveCache:
        if self._cache is None:
            # Imported here: `relink info` reads only PYTHON.json and should not pay for the cache's locks.
            from relink.distribution.extraction import ArchiveCache, archive_sha256

            self._cache = ArchiveCache(self.source, archive_sha256(self.source))
        return self._cache

    def path(self, rel: str) -> Path:
        rel = self._check(rel)
        target = self.cache.root / "python" / rel
        if not os.path.lexists(target):
            listed = self.metadata.build_info.listed_paths()
            # One pass over the archive costs the same for one file or all listed ones: take them all
            # (those present) when a listed one is asked for, so a loop over objects decompresses once.
            self.cache.ensure([rel], optional=listed if rel in listed else ())
        return self._inside(self.cache.root, rel)

    def extract(self, members: Iterable[str] | None = None) -> Path:
        if members is None:
            return self.cache.ensure(None)
        return self.cache.ensure([self._check(rel) for rel in members])

    def member_sizes(self) -> Mapping[str, int] | None:
        index = self.cache.index()
        return {rel: index[rel].size for rel in self.metadata.build_info.listed_paths() if rel in index}

    def missing_files(self, paths: Iterable[str]) -> tuple[str, ...]:
        index = self.cache.index()
        return tuple(rel for rel in paths if self._check(rel) not in index)

    def extract_present(self, paths: Iterable[str]) -> tuple[str, ...]:
        paths = [self._check(rel) for rel in paths]
        self.cache.ensure([], optional=paths)
        return self.missing_files(paths)

    def files_under(self, folder: str) -> tuple[str, ...]:
        prefix = self._check(folder).rstrip("/") + "/"
        return tuple(sorted(
            name for name, info in self.cache.index().items()
            if name.startswith(prefix) and "/" not in name[len(prefix):] and info.kind != "dir"
        ))


_LOCAL_SUFFIXES = (".tar.zst", ".tar.gz", ".tgz", ".json")


def _names_a_local_file(text: str) -> bool:
    """Whether a DIST argument can only mean a file: a path with a folder, or an archive/JSON file name."""
    if text.startswith(("http://", "https://")):
        return False
    return os.sep in text or text.startswith(".") or text.endswith(_LOCAL_SUFFIXES)


def _read_json_file(path: Path) -> PythonJson:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RelinkError(f"{path}: cannot read ({error.strerror})") from None
    return parse_python_json(data, str(path))


def open_distribution(source: str | os.PathLike[str]) -> Distribution:
    """Open a full archive, an extracted distribution folder or a bare PYTHON.json (metadata only).

    Only PYTHON.json is read now (for an archive: its first member, nothing after it); files are
    extracted when `path` or `extract` asks for them. A `cpython-3.12…` name or an http(s) URL that is not
    an existing path is fetched into the cache first (`relink.distribution.fetch`).
    """
    if not os.path.exists(source):
        text = os.fspath(source)
        if _names_a_local_file(text):
            # A typo in a path must not turn into a download (`cpython-3.12.7+…-full.tar.zst` is also a name).
            from relink.distribution.pbs_assets import parse_dist_name

            name = os.path.basename(text)
            hint = f"; to download it, run `relink fetch {name}`" if parse_dist_name(name) else ""
            raise RelinkError(f"{text}: no such file or folder (check the path{hint})")
        from relink.distribution.fetch import is_remote_source, resolve_distribution_source
        if is_remote_source(text):
            source = resolve_distribution_source(text)
    path = Path(source)
    if path.is_dir():
        for root in (path, path.parent):
            candidate = root / "python" / "PYTHON.json"
            if candidate.is_file() and (root == path or path.name == "python"):
                return _Folder(path, _read_json_file(candidate), root)
        raise RelinkError(f"{path}: folder has no python/PYTHON.json (not an extracted distribution)")
    if not path.is_file():
        raise RelinkError(f"{path}: no such file or folder")
    if archive_compression(path) is not None:
        metadata = parse_python_json(read_metadata_member(path), f"{path} (python/PYTHON.json)")
        return _Archive(path, metadata, path.stat().st_size)
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip()
    if path.suffix == ".json" or head.startswith(b"{"):
        return _MetadataOnly(path, _read_json_file(path), None)
    raise RelinkError(
        f"{path}: not a .tar.zst or .tar.gz archive, an extracted distribution folder or a PYTHON.json"
    )


def distribution_identity(dist: Distribution) -> str:
    """A digest naming the distribution's contents: the archive's sha256, or for an extracted folder its
    location, PYTHON.json and the size and mtime of every object and library in it."""
    import hashlib

    from relink.distribution.extraction import archive_sha256

    if dist.source.is_file():
        return archive_sha256(dist.source)
    root = dist.extract()
    digest = hashlib.sha256(str(root.resolve()).encode() + b"\0")
    digest.update((root / "python" / "PYTHON.json").read_bytes())
    for path in sorted((root / "python").rglob("*")):
        if path.suffix in OBJECT_SUFFIXES and path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
