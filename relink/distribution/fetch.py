"""Getting full archives from python-build-standalone releases (or a mirror) into relink's cache.

This module owns the fetch policy: where releases live (GitHub, `--mirror URL` or `$RELINK_PBS_MIRROR`, each
laid out as `{base}/{TAG}/{ASSET}` with `{base}/latest-release.json`), resolving `latest` through that pointer
(only its `tag` is read, so a mirror can serve a verbatim copy), resolving "3.12" to the newest 3.12.Z from the
release's `SHA256SUMS`, finding each asset's checksum (`SHA256SUMS`, else the per-asset `.sha256` of older
releases), refusing unverified files unless `insecure`, and the cache layout
(`<cache>/downloads/<TAG>/<ASSET>`; `downloads/url/<hash>/<ASSET>` for plain URLs; unverified files under an
`unverified/` folder that verified lookups never read). Each cache entry is written under its file lock and
renamed into place only when verified, so concurrent fetches download once. HTTP itself is `relink.distribution.download`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from relink.distribution.download import download_file, fetch_bytes
from relink.distribution.pbs_assets import (
    AssetName,
    DistRequest,
    default_build_options,
    host_triple,
    parse_dist_name,
    parse_sha256_file,
    parse_sha256sums,
    pick_asset,
)
from relink.distribution.release_urls import GITHUB_DOWNLOADS, GITHUB_LATEST_POINTER, MIRROR_ENV
from relink.errors import ExitCode, RelinkError
from relink.support import atomic_write_bytes, cache_root, entry_lock

__all__ = [
    "FetchResult",
    "ReleaseServer",
    "fetch_distribution",
    "fetch_url",
    "is_remote_source",
    "latest_tag",
    "release_server",
    "resolve_distribution_source",
]

_TAG = re.compile(r"\d{8}")
_ARCHIVE_SUFFIXES = (".tar.zst", ".tar.gz")


@dataclass(frozen=True)
class ReleaseServer:
    """Where release assets are downloaded from: GitHub (`mirror` None) or a server laid out like it."""

    mirror: str | None

    @property
    def base(self) -> str:
        return self.mirror or GITHUB_DOWNLOADS

    @property
    def latest_pointer_url(self) -> str:
        return f"{self.mirror}/latest-release.json" if self.mirror else GITHUB_LATEST_POINTER

    def url(self, tag: str, asset: str) -> str:
        return f"{self.base}/{tag}/{quote(asset, safe='')}"


@dataclass(frozen=True)
class FetchResult:
    """A fetched archive: `sha256` is None only for a file accepted unverified with `insecure`."""

    path: Path
    asset: str
    url: str
    tag: str | None
    sha256: str | None
    cached: bool


def release_server(mirror: str | None = None) -> ReleaseServer:
    """The server to use: `mirror`, else `$RELINK_PBS_MIRROR`, else GitHub."""
    chosen = mirror or os.environ.get(MIRROR_ENV) or None
    if chosen is None:
        return ReleaseServer(None)
    if urlsplit(chosen).scheme not in ("http", "https") or not urlsplit(chosen).netloc:
        origin = "--mirror" if mirror else MIRROR_ENV
        raise RelinkError(f"{origin} must be an http:// or https:// URL, got {chosen!r}", ExitCode.USAGE)
    return ReleaseServer(chosen.rstrip("/"))


def latest_tag(server: ReleaseServer, *, quiet: bool = True) -> str:
    """The tag `latest-release.json` names (`{"version": 1, "tag": "20260814", …}`)."""
    url = server.latest_pointer_url
    data = fetch_bytes(url, quiet=quiet)
    try:
        pointer = json.loads(data)
    except ValueError:
        pointer = None
    if not isinstance(pointer, dict) or pointer.get("version") != 1 or not isinstance(pointer.get("tag"), str):
        raise RelinkError(f"{url}: not a version 1 latest-release.json pointer", ExitCode.NETWORK)
    if not _TAG.fullmatch(pointer["tag"]):
        raise RelinkError(f"{url}: tag {pointer['tag']!r} is not a YYYYMMDD release tag", ExitCode.NETWORK)
    return pointer["tag"]


def _downloads() -> Path:
    return cache_root() / "downloads"


def _cached(entry: Path, url: str, tag: str | None, insecure: bool) -> FetchResult | None:
    """The cache entry for `entry` (verified, or with `insecure` also unverified), if present."""
    if entry.is_file():
        return FetchResult(entry, entry.name, url, tag, _recorded_sha256(entry), cached=True)
    unverified = entry.parent / "unverified" / entry.name
    if insecure and unverified.is_file():
        _warn_unverified(entry.name)
        return FetchResult(unverified, entry.name, url, tag, None, cached=True)
    return None


def _warn_unverified(name: str) -> None:
    """Said even with --quiet: nothing vouches for this file."""
    print(f"relink: WARNING: no checksum published for {name}; --insecure: using it UNVERIFIED",
          file=sys.stderr, flush=True)


def _recorded_sha256(entry: Path) -> str | None:
    try:
        return entry.with_name(entry.name + ".sha256").read_text().strip() or None
    except OSError:
        return None


def _store(entry: Path, url: str, tag: str | None, sha256: str | None, *, insecure: bool, quiet: bool,
           checked_where: str) -> FetchResult:
    """Download `url` into the cache entry `entry` (under its lock), verified against `sha256`."""
    if sha256 is None:
        if not insecure:
            raise RelinkError(
                f"no checksum published for {entry.name} ({checked_where}): refusing an unverified download; "
                "'relink fetch --insecure' accepts it anyway", ExitCode.NETWORK,
            )
        _warn_unverified(entry.name)
        entry = entry.parent / "unverified" / entry.name
    with entry_lock(entry):
        if entry.is_file():  # another process finished it while we waited for the lock
            return FetchResult(entry, entry.name, url, tag, sha256, cached=True)
        if sha256 is not None:  # recorded first, so a published entry always has its checksum beside it
            atomic_write_bytes(entry.with_name(entry.name + ".sha256"), f"{sha256}\n".encode())
        download_file(url, entry, sha256, label=entry.name, quiet=quiet)
    return FetchResult(entry, entry.name, url, tag, sha256, cached=False)


def fetch_distribution(request: DistRequest, *, mirror: str | None = None, insecure: bool = False,
                       quiet: bool = False) -> FetchResult:
    """Fetch the full archive `request` describes (defaults: latest release, host triple, optimized flavour).

    With a full version and an explicit tag, a cached archive is returned without touching the network.
    """
    server = release_server(mirror)
    triple = request.triple or host_triple()
    options = request.build_options or default_build_options(triple)
    tag = request.tag or latest_tag(server, quiet=quiet)
    if request.is_full_version:
        asset = str(AssetName(request.version, tag, triple, options))
        found = _cached(_downloads() / tag / asset, server.url(tag, asset), tag, insecure)
        if found is not None:
            return found
    sums_url = server.url(tag, "SHA256SUMS")
    sums_data = fetch_bytes(sums_url, missing_ok=True, quiet=quiet)
    if sums_data is not None:
        sums = parse_sha256sums(sums_data.decode("utf-8", "replace"), sums_url)
        asset = str(pick_asset(sums, request, triple, options, f"release {tag} ({sums_url})"))
        sha256: str | None = sums[asset]
        checked_where = sums_url
    elif not request.is_full_version:
        raise RelinkError(
            f"release {tag} has no SHA256SUMS ({sums_url}), so Python {request.version} cannot be resolved to a "
            f"version: check the release tag, or give the full version (e.g. {request.version}.0)",
            ExitCode.NETWORK,
        )
    else:
        asset = str(AssetName(request.version, tag, triple, options))
        sha_url = server.url(tag, asset + ".sha256")
        sha_data = fetch_bytes(sha_url, missing_ok=True, quiet=quiet)
        sha256 = None if sha_data is None else parse_sha256_file(sha_data.decode("utf-8", "replace"), sha_url)
        checked_where = f"neither {sums_url} nor {sha_url} exists"
    url = server.url(tag, asset)
    entry = _downloads() / tag / asset
    return _cached(entry, url, tag, insecure) or _store(
        entry, url, tag, sha256, insecure=insecure, quiet=quiet, checked_where=checked_where
    )


def fetch_url(url: str, *, insecure: bool = False, quiet: bool = False) -> FetchResult:
    """Fetch an archive from a plain http(s) URL, verified by the `SHA256SUMS` beside it (else `<url>.sha256`)."""
    parts = urlsplit(url)
    name = unquote(parts.path.rsplit("/", 1)[-1])
    if parts.scheme not in ("http", "https") or not parts.netloc or not name.endswith(_ARCHIVE_SUFFIXES):
        raise RelinkError(f"{url}: not an http(s) URL of a .tar.zst or .tar.gz archive", ExitCode.USAGE)
    entry = _downloads() / "url" / hashlib.sha256(url.encode()).hexdigest()[:20] / name
    found = _cached(entry, url, None, insecure)
    if found is not None:
        return found
    directory = parts._replace(path=parts.path.rsplit("/", 1)[0], query="", fragment="").geturl()
    sums_url = f"{directory}/SHA256SUMS"
    sums_data = fetch_bytes(sums_url, missing_ok=True, quiet=quiet)
    sums = {} if sums_data is None else parse_sha256sums(sums_data.decode("utf-8", "replace"), sums_url)
    sha256 = sums.get(name)
    sha_url = parts._replace(path=parts.path + ".sha256").geturl()
    if sha256 is None:
        sha_data = fetch_bytes(sha_url, missing_ok=True, quiet=quiet)
        sha256 = None if sha_data is None else parse_sha256_file(sha_data.decode("utf-8", "replace"), sha_url)
    where = f"{name} is not in {sums_url} and {sha_url} does not exist"
    return _store(entry, url, None, sha256, insecure=insecure, quiet=quiet, checked_where=where)


def is_remote_source(text: str) -> bool:
    """Whether `text` names something to fetch: an http(s) URL, a version (3.12) or a `cpython-3.12…` name."""
    return text.startswith(("http://", "https://")) or parse_dist_name(text) is not None


def resolve_distribution_source(text: str, *, insecure: bool = False, quiet: bool = False) -> Path:
    """A local archive for `text`: a version (`3.12`) or a `cpython-3.12[.Z][+TAG][-TRIPLE[-OPTIONS]]` name is
    fetched from the release server (`$RELINK_PBS_MIRROR` or GitHub), an http(s) URL is downloaded; both land
    in the cache."""
    if text.startswith(("http://", "https://")):
        return fetch_url(text, insecure=insecure, quiet=quiet).path
    request = parse_dist_name(text)
    if request is None:
        raise RelinkError(
            f"{text!r} is not a version (3.12), a distribution name (cpython-3.12.7+20241016) or an http(s) URL",
            ExitCode.USAGE,
        )
    return fetch_distribution(request, insecure=insecure, quiet=quiet).path
