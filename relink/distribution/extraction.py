"""The cache of extracted archives: `<cache>/extracted/<sha256>/python/...`, filled on demand.

This module owns where an archive's members land and when they can be trusted. An entry is keyed by the
archive's sha256 (memoized per path, size, mtime and inode under `<cache>/sha256/`, so a second open does
not rehash). Each extraction pass runs under the entry's file lock, extracts into a staging directory beside
the entry, checks the pass (hostile members, truncation, every requested member exists; members asked for
only if present may be absent) and only then moves the files into the entry — the whole directory by one rename
for a first pass, file by file (each an atomic rename) when adding to an entry. A file present in an entry is
therefore complete; a refused pass leaves nothing, and a killed one leaves only a staging directory that
the next pass over the same entry removes. The archive's member index is kept in
`<cache>/archive-index/<sha256>.json`, so later calls know what exists without decompressing again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from relink.distribution.archive import MemberInfo, scan_archive
from relink.distribution.safe_tree import TreeConflict, move_tree
from relink.errors import RelinkError
from relink.support import atomic_write_bytes, cache_root, entry_lock, publish_dir, sha256_file, staging_dir

__all__ = ["ArchiveCache", "archive_sha256"]



def archive_sha256(path: Path) -> str:
    """The archive's sha256 (hex), computed once per (path, size, mtime, inode) and memoized in the cache."""
    resolved = path.resolve()
    stat = resolved.stat()
    identity = f"{resolved}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}".encode()
    memo = cache_root() / "sha256" / hashlib.sha256(identity).hexdigest()
    try:
        known = memo.read_text().strip()
        if len(known) == 64:
            return known
    except OSError:
        pass
    digest = sha256_file(resolved)
    atomic_write_bytes(memo, digest.encode())
    return digest


def _matches(name: str, selectors: frozenset[str]) -> bool:
    if name in selectors:
        return True
    return any(name.startswith(selector + "/") for selector in selectors)


class ArchiveCache:
    """One archive's cache entry. A listed file the archive lacks is not refused here: only a command
    whose selection needs it is (relink.render.project), so one missing library blocks only its users."""

    def __init__(self, archive: Path, sha256: str) -> None:
        self.archive = archive
        self.sha256 = sha256
        self.root = cache_root() / "extracted" / sha256
        self._index_path = cache_root() / "archive-index" / f"{sha256}.json"
        self._index: dict[str, MemberInfo] | None = None

    # ---- the member index -------------------------------------------------------------------------

    def _load_index(self) -> dict[str, MemberInfo] | None:
        if self._index is None:
            try:
                raw = json.loads(self._index_path.read_text())
                self._index = {name: MemberInfo(name, kind, size) for name, (kind, size) in raw.items()}
            except (OSError, ValueError, TypeError):
                return None
        return self._index

    def index(self) -> Mapping[str, MemberInfo]:
        """Every member of the archive (names relative to `python/`), scanning the archive if not known yet."""
        known = self._load_index()
        if known is None:
            self._pass(frozenset(), everything=False)
            known = self._load_index()
            assert known is not None
        return known

    # ---- extraction ---------------------------------------------------------------------------------

    def _present(self, name: str, kind: str) -> bool:
        target = self.root / "python" / name
        return target.is_dir() if kind == "dir" else os.path.lexists(target)

    def _missing(self, index: Mapping[str, MemberInfo], selectors: frozenset[str], everything: bool) -> list[str]:
        return [
            info.name
            for info in index.values()
            if (everything or _matches(info.name, selectors)) and not self._present(info.name, info.kind)
        ]

    def ensure(self, members: Iterable[str] | None, optional: Iterable[str] = ()) -> Path:
        """Make `members` (paths relative to `python/`; a directory means all below it; None means the
        whole archive) present in the entry and return the entry root (the directory holding `python/`).
        `optional` members are extracted in the same pass when the archive has them, never refused."""
        everything = members is None
        selectors = frozenset(m.strip("/") for m in (members or ()))
        optional = frozenset(optional)
        index = self._load_index()
        if index is not None:
            self._check(index, selectors)
            wanted = selectors | frozenset(m for m in optional if m in index)
            if not self._missing(index, wanted, everything):
                return self.root
        self._pass(selectors, everything, optional)
        return self.root

    def _unknown(self, index: Mapping[str, MemberInfo], selectors: frozenset[str]) -> list[str]:
        return sorted(s for s in selectors if not any(_matches(name, frozenset([s])) for name in index))

    def _pass(self, selectors: frozenset[str], everything: bool, optional: frozenset[str] = frozenset()) -> None:
        with entry_lock(self.root):
            index = self._load_index()
            if index is not None and not self._unknown(index, selectors):
                if not self._missing(index, selectors, everything):
                    return  # another process finished the same work while we waited for the lock

            def wanted(name: str) -> bool:
                chosen = everything or _matches(name, selectors) or name in optional
                return chosen and not os.path.lexists(self.root / "python" / name)

            with staging_dir(self.root) as stage:
                scanned = scan_archive(self.archive, stage, wanted)
                self._check(scanned, selectors)
                if any(stage.iterdir()):  # an index-only pass extracts nothing
                    if self.root.exists():
                        try:
                            move_tree(stage, self.root)
                        except TreeConflict as error:
                            raise RelinkError(f"{self.archive}: cannot add to the cache entry {self.root}: "
                                              f"{error} (remove the entry and retry)") from None
                    else:
                        publish_dir(stage, self.root)
            payload = {name: [info.kind, info.size] for name, info in sorted(scanned.items())}
            atomic_write_bytes(self._index_path, json.dumps(payload, separators=(",", ":")).encode())
            self._index = scanned

    def _check(self, scanned: Mapping[str, MemberInfo], selectors: frozenset[str]) -> None:
        unknown = self._unknown(scanned, selectors)
        if unknown:
            raise RelinkError(f"{self.archive}: no member python/{unknown[0]} in the archive")

