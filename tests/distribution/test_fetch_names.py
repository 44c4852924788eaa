"""Asset names, user-typed names, default flavours and version picking (relink.distribution.pbs_assets): no network."""

from __future__ import annotations

import argparse

import pytest

from relink.commands.fetch import request_from_args
from relink.distribution.fetch import is_remote_source, release_server
from relink.distribution.pbs_assets import (
    AssetName,
    DistRequest,
    default_build_options,
    host_triple,
    parse_asset_name,
    parse_dist_name,
    parse_dist_request,
    parse_sha256_file,
    parse_sha256sums,
    pick_asset,
)
from relink.errors import ExitCode, RelinkError

GNU = "x86_64-unknown-linux-gnu"
RELEASE_NAMES = [
    f"cpython-3.12.6+20241016-{GNU}-pgo+lto-full.tar.zst",
    f"cpython-3.12.7+20241016-{GNU}-pgo+lto-full.tar.zst",
    f"cpython-3.12.7+20241016-{GNU}-debug-full.tar.zst",
    f"cpython-3.12.7+20241016-{GNU}-install_only.tar.gz",
    f"cpython-3.12.8+20241016-{GNU}-install_only_stripped.tar.gz",
    "cpython-3.12.9+20241016-aarch64-apple-darwin-pgo+lto-full.tar.zst",
    f"cpython-3.12.10rc1+20241016-{GNU}-pgo+lto-full.tar.zst",
    f"cpython-3.13.0rc3+20241016-{GNU}-pgo+lto-full.tar.zst",
    f"cpython-3.13.0rc3+20241016-{GNU}-freethreaded+pgo+lto-full.tar.zst",
]


@pytest.mark.parametrize("name, parts", [
    (f"cpython-3.12.7+20241016-{GNU}-pgo+lto-full.tar.zst", ("3.12.7", "20241016", GNU, "pgo+lto")),
    ("cpython-3.13.1+20250311-x86_64-unknown-linux-musl-freethreaded+lto+static-full.tar.zst",
     ("3.13.1", "20250311", "x86_64-unknown-linux-musl", "freethreaded+lto+static")),
    ("cpython-3.10.16+20241219-x86_64-pc-windows-msvc-pgo-full.tar.zst",
     ("3.10.16", "20241219", "x86_64-pc-windows-msvc", "pgo")),
    ("cpython-3.14.0rc2+20250828-x86_64_v3-unknown-linux-gnu-debug-full.tar.zst",
     ("3.14.0rc2", "20250828", "x86_64_v3-unknown-linux-gnu", "debug")),
])
def test_asset_names_round_trip(name: str, parts: tuple[str, ...]) -> None:
    asset = parse_asset_name(name)
    assert asset == AssetName(*parts)
    assert str(asset) == name


@pytest.mark.parametrize("name", [
    f"cpython-3.12.7+20241016-{GNU}-install_only.tar.gz",
    f"cpython-3.12.7+20241016-{GNU}-pgo+lto-full.tar.zst.sha256",
    "SHA256SUMS",
    f"cpython-3.12.7+2024-{GNU}-pgo+lto-full.tar.zst",
])
def test_other_assets_are_not_full_archives(name: str) -> None:
    assert parse_asset_name(name) is None


@pytest.mark.parametrize("text, request_", [
    ("cpython-3.12", DistRequest("3.12")),
    ("cpython-3.12.7+20241016", DistRequest("3.12.7", "20241016")),
    ("cpython-3.12+latest", DistRequest("3.12")),
    ("cpython-3.12-debug", DistRequest("3.12", build_options="debug")),
    ("cpython-3.12-aarch64-apple-darwin", DistRequest("3.12", triple="aarch64-apple-darwin")),
    (f"cpython-3.12.7+20241016-{GNU}-pgo+lto-full.tar.zst", DistRequest("3.12.7", "20241016", GNU, "pgo+lto")),
    ("cpython-3.13-x86_64-unknown-linux-musl-freethreaded+lto+static",
     DistRequest("3.13", None, "x86_64-unknown-linux-musl", "freethreaded+lto+static")),
])
def test_dist_requests(text: str, request_: DistRequest) -> None:
    assert parse_dist_request(text) == request_
    assert is_remote_source(text)


@pytest.mark.parametrize("text", ["3.12", "3.12.7", "3.13.0rc2"])
def test_bare_versions_are_fetched_like_relink_fetch_takes_them(text: str) -> None:
    assert parse_dist_request(text) is None
    assert parse_dist_name(text) == DistRequest(text)
    assert is_remote_source(text)


@pytest.mark.parametrize("text", ["cpython", "python-3.12", "3", "3.12.x", "cpython-3", "./cpython-3.12/x",
                                  "dist.tar.zst"])
def test_not_dist_requests(text: str) -> None:
    assert parse_dist_request(text) is None and parse_dist_name(text) is None
    assert not is_remote_source(text)


def test_urls_are_remote_sources() -> None:
    assert is_remote_source("https://example.invalid/a/cpython.tar.zst")
    assert not is_remote_source("ftp://example.invalid/a/cpython.tar.zst")


@pytest.mark.parametrize("triple, options", [
    ("x86_64-unknown-linux-gnu", "pgo+lto"),
    ("aarch64-unknown-linux-gnu", "pgo+lto"),
    ("aarch64-apple-darwin", "pgo+lto"),
    ("x86_64-unknown-linux-musl", "lto"),
    ("x86_64-pc-windows-msvc", "pgo"),
    ("armv7-unknown-linux-gnueabihf", "lto"),
    ("s390x-unknown-linux-gnu", "lto"),
])
def test_default_flavour(triple: str, options: str) -> None:
    assert default_build_options(triple) == options


def test_host_triple_is_a_pbs_triple() -> None:
    triple = host_triple()
    assert triple.count("-") >= 2
    assert triple.split("-")[0] in {"x86_64", "aarch64", "i686", "armv7", "ppc64le", "s390x", "riscv64"}


def test_pick_newest_final_release_of_the_minor() -> None:
    asset = pick_asset(RELEASE_NAMES, DistRequest("3.12"), GNU, "pgo+lto", "release 20241016")
    assert asset.version == "3.12.7"  # not 3.12.9 (other target), 3.12.10rc1 (pre-release), 3.12.8 (install_only)


def test_pick_full_version_and_pre_release_when_no_final_exists() -> None:
    assert pick_asset(RELEASE_NAMES, DistRequest("3.12.6"), GNU, "pgo+lto", "r").version == "3.12.6"
    assert pick_asset(RELEASE_NAMES, DistRequest("3.13"), GNU, "pgo+lto", "r").version == "3.13.0rc3"
    assert pick_asset(RELEASE_NAMES, DistRequest("3.13"), GNU, "freethreaded+pgo+lto", "r").version == "3.13.0rc3"


def test_pick_refusals_name_what_exists() -> None:
    with pytest.raises(RelinkError, match=r"no full archive for Python 3\.9 \(it has 3\.12, 3\.13\)") as info:
        pick_asset(RELEASE_NAMES, DistRequest("3.9"), GNU, "pgo+lto", "release 20241016")
    assert info.value.code == ExitCode.INVALID_INPUT
    with pytest.raises(RelinkError, match="flavours for x86_64-unknown-linux-gnu: debug, pgo\\+lto"):
        pick_asset(RELEASE_NAMES, DistRequest("3.12"), GNU, "lto", "release 20241016")
    with pytest.raises(RelinkError, match="targets: aarch64-apple-darwin, x86_64-unknown-linux-gnu"):
        pick_asset(RELEASE_NAMES, DistRequest("3.12"), "x86_64-pc-windows-msvc", "pgo", "release 20241016")


def test_sha256sums_parsing() -> None:
    digest = "ab" * 32
    text = f"{digest}  a.tar.zst\n\n{digest.upper()} *b.tar.zst\n"
    assert parse_sha256sums(text, "SUMS") == {"a.tar.zst": digest, "b.tar.zst": digest}
    assert parse_sha256_file(f"{digest.upper()}\n", "x.sha256") == digest
    assert parse_sha256_file(f"{digest}  a.tar.zst\n", "x.sha256") == digest
    with pytest.raises(RelinkError, match="SUMS: line 1 is not") as info:
        parse_sha256sums("<html>not found</html>", "SUMS")
    assert info.value.code == ExitCode.NETWORK
    with pytest.raises(RelinkError, match="not a sha256 checksum file"):
        parse_sha256_file("", "x.sha256")


def _args(what: str, release: str | None = None, target: str | None = None,
          flavor: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(what=what, release=release, target=target, flavor=flavor)


def test_command_line_options_merge_into_the_request() -> None:
    assert request_from_args(_args("3.12", "20241016", GNU, "debug")) == DistRequest("3.12", "20241016", GNU, "debug")
    assert request_from_args(_args("3.12", "latest")) == DistRequest("3.12")
    assert request_from_args(_args("cpython-3.12+20241016", target=GNU)) == DistRequest("3.12", "20241016", GNU)
    with pytest.raises(RelinkError, match="--release 20250101 contradicts") as info:
        request_from_args(_args("cpython-3.12+20241016", release="20250101"))
    assert info.value.code == ExitCode.USAGE
    with pytest.raises(RelinkError, match="YYYYMMDD"):
        request_from_args(_args("3.12", release="v1"))
    with pytest.raises(RelinkError, match="is not a version"):
        request_from_args(_args("python3"))


def test_mirror_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELINK_PBS_MIRROR", "file:///srv/pbs")
    with pytest.raises(RelinkError, match="RELINK_PBS_MIRROR must be an http") as info:
        release_server()
    assert info.value.code == ExitCode.USAGE
    assert release_server("http://127.0.0.1:8000/pbs/").base == "http://127.0.0.1:8000/pbs"
    monkeypatch.delenv("RELINK_PBS_MIRROR")
    server = release_server()
    assert server.mirror is None
    assert server.url("20241016", "cpython-3.12.7+20241016-x.tar.zst").endswith(
        "/releases/download/20241016/cpython-3.12.7%2B20241016-x.tar.zst")
