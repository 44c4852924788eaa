"""Stage 1, distribution: everything about a PBS full archive before anything is linked.

Owns opening a DIST argument (archive, folder, bare PYTHON.json, PBS name or URL) into a `Distribution`
(`opener`), the typed PYTHON.json model with PBS's quirks absorbed (`metadata`), streaming tar reading
(`archive`) and safe extraction into the cache (`extraction`), PBS release names (`pbs_assets`), downloads
(`download`, `fetch`; the servers in `release_urls`), and building a PBS-format archive from CPython
source (`srcbuild`).
Takes in: paths, names and URLs. Hands on: `Distribution` (metadata plus files on demand).
Side effects: the cache's `extracted/` and `downloads/` folders, the network (fetch only), CPython builds.
"""

from __future__ import annotations

from relink.lazy import lazy_exports

_EXPORTS = {
    "Distribution": "opener",
    "OBJECT_SUFFIXES": "opener",
    "distribution_identity": "opener",
    "open_distribution": "opener",
    "ExtensionVariant": "metadata",
    "LinkEntry": "metadata",
    "ObjectFileFormat": "metadata",
    "PythonJson": "metadata",
    "DistRequest": "pbs_assets",
    "parse_dist_name": "pbs_assets",
    "parse_dist_request": "pbs_assets",
    "FetchResult": "fetch",
    "MIRROR_ENV": "release_urls",
    "fetch_distribution": "fetch",
    "fetch_url": "fetch",
    "BuildOptions": "srcbuild",
    "build_distribution": "srcbuild",
    "default_distribution": "srcbuild",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
