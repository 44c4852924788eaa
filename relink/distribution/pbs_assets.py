"""Names of python-build-standalone release assets, and choosing one from a release's SHA256SUMS.

This module owns the pure side of fetching (see shared/pbs-format.md §1): parsing and building full-archive
asset names (`cpython-{X.Y.Z}+{TAG}-{TRIPLE}-{BUILD_OPTIONS}-full.tar.zst`), the host's target triple, the
default optimized flavour for a triple, parsing `SHA256SUMS` / `.sha256` files, parsing the names users
type (`cpython-3.12`, `cpython-3.12.7+20241016-…`), and picking the newest matching version. No network.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from relink.errors import ExitCode, RelinkError

__all__ = [
    "FULL_SUFFIX",
    "AssetName",
    "DistRequest",
    "default_build_options",
    "host_triple",
    "parse_asset_name",
    "parse_dist_name",
    "parse_dist_request",
    "parse_sha256_file",
    "parse_sha256sums",
    "pick_asset",
]

FULL_SUFFIX = "-full.tar.zst"

_VERSION = r"\d+\.\d+(?:\.\d+(?:(?:a|b|rc)\d+)?)?"
_TAG = r"\d{8}"
# BUILD_OPTIONS: optional `freethreaded+`, one optimization level, optional `+static` (musl).
_OPTIONS = re.compile(r"(?:freethreaded\+)?(?:debug|noopt|lto|pgo|pgo\+lto)(?:\+static)?")
_ASSET = re.compile(
    rf"cpython-(?P<version>{_VERSION})\+(?P<tag>{_TAG})-(?P<triple>[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)+?)"
    rf"-(?P<options>{_OPTIONS.pattern}){re.escape(FULL_SUFFIX)}"
)
_REQUEST = re.compile(
    rf"cpython-(?P<version>{_VERSION})(?:\+(?P<tag>{_TAG}|latest))?(?:-(?P<rest>[A-Za-z0-9_.+-]+?))?"
    rf"(?:{re.escape(FULL_SUFFIX)})?"
)
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# GCC-built cross targets ship `debug`, `lto` and `noopt` full archives only (pbs-format.md §1).
_GCC_CROSS_ARCHES = ("armv7", "ppc64le", "s390x", "riscv64")


@dataclass(frozen=True)
class AssetName:
    """A full-archive asset name taken apart; `str()` gives the name back."""

    version: str
    tag: str
    triple: str
    build_options: str

    def __str__(self) -> str:
        return f"cpython-{self.version}+{self.tag}-{self.triple}-{self.build_options}{FULL_SUFFIX}"


@dataclass(frozen=True)
class DistRequest:
    """What a user asked for: `version` is "X.Y" or "X.Y.Z"; None fields mean "the default"."""

    version: str
    tag: str | None = None
    triple: str | None = None
    build_options: str | None = None

    @property
    def is_full_version(self) -> bool:
        return self.version.count(".") == 2


def parse_asset_name(name: str) -> AssetName | None:
    """The parts of a full-archive asset name, or None for any other asset (install_only, .sha256, …)."""
    match = _ASSET.fullmatch(name)
    if match is None:
        return None
    return AssetName(match["version"], match["tag"], match["triple"], match["options"])


def parse_dist_request(text: str) -> DistRequest | None:
    """Parse `cpython-X.Y[.Z][+TAG|+latest][-TRIPLE[-OPTIONS]][-full.tar.zst]`, or None if it is not one."""
    match = _REQUEST.fullmatch(text)
    if match is None:
        return None
    triple = options = None
    if match["rest"]:
        head, _, last = match["rest"].rpartition("-")
        if head and _OPTIONS.fullmatch(last):
            triple, options = head, last
        elif _OPTIONS.fullmatch(match["rest"]):
            options = match["rest"]
        else:
            triple = match["rest"]
    tag = None if match["tag"] in (None, "latest") else match["tag"]
    return DistRequest(match["version"], tag, triple, options)


def parse_dist_name(text: str) -> DistRequest | None:
    """A distribution named the way `relink fetch` and every DIST argument take it: a bare version (`3.12`,
    `3.12.7`: the newest build of the latest release for this machine) or a `cpython-…` name; else None."""
    if re.fullmatch(_VERSION, text):
        return DistRequest(text)
    return parse_dist_request(text)


def host_triple() -> str:
    """The PBS target triple of this machine, e.g. `x86_64-unknown-linux-gnu` or `aarch64-apple-darwin`."""
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "i386": "i686", "x86": "i686"}.get(
        machine, machine
    )
    if sys.platform == "darwin":
        return f"{arch}-apple-darwin"
    if sys.platform == "win32":
        return f"{arch}-pc-windows-msvc"
    if sys.platform.startswith("linux"):
        libc, _ = platform.libc_ver()
        if arch.startswith("armv7"):
            return "armv7-unknown-linux-gnueabihf" if libc == "glibc" else "armv7-unknown-linux-musleabihf"
        return f"{arch}-unknown-linux-{'gnu' if libc == 'glibc' else 'musl'}"
    raise RelinkError(
        f"python-build-standalone has no distributions for this platform ({sys.platform}, {machine}): "
        "pass --target TRIPLE", ExitCode.USAGE,
    )


def default_build_options(triple: str) -> str:
    """The optimized full archive PBS publishes for `triple`: pgo+lto (glibc x86_64/aarch64, macOS),
    lto (musl and GCC-built cross targets), pgo (Windows)."""
    if "windows" in triple:
        return "pgo"
    if "musl" in triple or triple.startswith(_GCC_CROSS_ARCHES):
        return "lto"
    return "pgo+lto"


def parse_sha256sums(text: str, where: str) -> dict[str, str]:
    """`{asset name: lowercase sha256}` from sha256sum-format lines (`<hex>  <name>`, `*name` for binary)."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.strip().partition(" ")
        name = name.strip().removeprefix("*")
        if not _SHA256.fullmatch(digest) or not name:
            raise RelinkError(f"{where}: line {number} is not '<sha256>  <file name>': {line[:120]!r}",
                              ExitCode.NETWORK)
        sums[name] = digest.lower()
    return sums


def parse_sha256_file(text: str, where: str) -> str:
    """The digest in a per-asset `.sha256` file (the bare hex, optionally followed by the name)."""
    digest = text.strip().split(maxsplit=1)[0] if text.strip() else ""
    if not _SHA256.fullmatch(digest):
        raise RelinkError(f"{where}: not a sha256 checksum file", ExitCode.NETWORK)
    return digest.lower()


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def pick_asset(names: Iterable[str], request: DistRequest, triple: str, build_options: str,
               where: str) -> AssetName:
    """The newest full archive in `names` for `request.version` ("3.12" or "3.12.7"), `triple` and
    `build_options`; final releases win over pre-releases. RelinkError naming what exists otherwise."""
    assets = [a for a in map(parse_asset_name, names) if a is not None]
    wanted = request.version.split(".")

    def same_version(asset: AssetName) -> bool:
        if request.is_full_version:
            return asset.version == request.version
        parsed = _version(asset.version)
        return parsed is not None and [str(parsed.major), str(parsed.minor)] == wanted

    in_version = [a for a in assets if same_version(a)]
    matching = [a for a in in_version if a.triple == triple and a.build_options == build_options]
    if matching:
        return max(matching, key=lambda a: (not _version(a.version).is_prerelease, _version(a.version)))
    if not in_version:
        known = sorted({".".join(a.version.split(".")[:2]) for a in assets}, key=lambda v: _version(v) or v)
        raise RelinkError(
            f"{where} has no full archive for Python {request.version} "
            f"(it has {', '.join(known) or 'no full archives at all'})", ExitCode.INVALID_INPUT,
        )
    flavours = _summarize(in_version, triple)
    raise RelinkError(
        f"{where} has no Python {request.version} full archive for {triple} with build options "
        f"{build_options!r} ({flavours}): choose with --target/--flavor", ExitCode.INVALID_INPUT,
    )


def _summarize(assets: list[AssetName], triple: str) -> str:
    same_triple = sorted({a.build_options for a in assets if a.triple == triple})
    if same_triple:
        return f"flavours for {triple}: {', '.join(same_triple)}"
    triples: Mapping[str, None] = dict.fromkeys(sorted(a.triple for a in assets))
    return f"targets: {', '.join(triples)}"
