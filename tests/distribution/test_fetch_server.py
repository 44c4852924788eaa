"""`relink fetch` against a real HTTP server on 127.0.0.1 serving a release made from the source-built archive.

The release tree is GitHub-like (`/latest-release.json`, `/TAG/SHA256SUMS`, `/TAG/ASSET`); the asset is the
`lto_archive` fixture under a PBS release name. Every test uses its own cache (RELINK_CACHE_DIR) and server.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from pbs_server import ReleaseHTTPServer, closed_port

from relink.cli import main
from relink.distribution.fetch import fetch_distribution, resolve_distribution_source
from relink.distribution.opener import open_distribution
from relink.distribution.pbs_assets import DistRequest
from relink.errors import ExitCode, RelinkError

TAG = "20260814"
TRIPLE = "x86_64-unknown-linux-gnu"
ASSET = f"cpython-3.11.2+{TAG}-{TRIPLE}-pgo+lto-full.tar.zst"
ASSET_PATH = f"/{TAG}/{ASSET}"
# Names in SHA256SUMS that are not served: "3.11" must still resolve to 3.11.2 (other target, other
# flavour, a pre-release, an install_only archive and an older version are all passed over).
DECOYS = [
    f"cpython-3.11.1+{TAG}-{TRIPLE}-pgo+lto-full.tar.zst",
    f"cpython-3.11.2+{TAG}-{TRIPLE}-debug-full.tar.zst",
    f"cpython-3.11.3+{TAG}-aarch64-apple-darwin-pgo+lto-full.tar.zst",
    f"cpython-3.11.4rc1+{TAG}-{TRIPLE}-pgo+lto-full.tar.zst",
    f"cpython-3.11.5+{TAG}-{TRIPLE}-install_only.tar.gz",
    f"cpython-3.12.0+{TAG}-{TRIPLE}-pgo+lto-full.tar.zst",
]


@pytest.fixture(scope="session")
def archive_sha256(lto_archive: Path) -> str:
    return hashlib.sha256(lto_archive.read_bytes()).hexdigest()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("RELINK_CACHE_DIR", str(root))
    monkeypatch.delenv("RELINK_PBS_MIRROR", raising=False)
    return root


@pytest.fixture
def release(tmp_path: Path, lto_archive: Path, archive_sha256: str) -> Path:
    """The release tree: pointer, SHA256SUMS (real digest plus decoys) and the asset (a symlink)."""
    root = tmp_path / "www"
    (root / TAG).mkdir(parents=True)
    (root / "latest-release.json").write_text(json.dumps({
        "version": 1, "tag": TAG,
        "release_url": f"https://github.com/astral-sh/python-build-standalone/releases/tag/{TAG}",
        "asset_url_prefix": f"https://github.com/astral-sh/python-build-standalone/releases/download/{TAG}",
    }))
    (root / TAG / ASSET).symlink_to(lto_archive)
    lines = [f"{hashlib.sha256(name.encode()).hexdigest()}  {name}" for name in DECOYS]
    lines.append(f"{archive_sha256}  {ASSET}")
    (root / TAG / "SHA256SUMS").write_text("\n".join(sorted(lines)) + "\n")
    return root


@pytest.fixture
def server(release: Path) -> Iterator[ReleaseHTTPServer]:
    http = ReleaseHTTPServer(release)
    yield http
    http.close()


def _fetch(server: ReleaseHTTPServer, *args: str) -> list[str]:
    return ["fetch", *args, "--mirror", server.url, "--target", TRIPLE]


def _downloaded(cache: Path) -> Path:
    return cache / "downloads" / TAG / ASSET


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "downloads").rglob("*") if p.is_file() and not p.name.endswith(".lock"))


def test_fetch_latest_minor_version_verifies_and_opens(cache: Path, server: ReleaseHTTPServer, lto_archive: Path,
                                                      archive_sha256: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_fetch(server, "3.11")) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(_downloaded(cache))
    assert f"downloading {ASSET}" in err and f"downloaded {ASSET}" in err  # not a terminal: start and end lines
    assert hashlib.sha256(_downloaded(cache).read_bytes()).hexdigest() == archive_sha256
    assert [r.path for r in server.requests()] == ["/latest-release.json", f"/{TAG}/SHA256SUMS", ASSET_PATH]
    dist = open_distribution(out.strip())
    assert dist.metadata.python_version == "3.11.2"
    assert _leftovers(cache) == [ASSET, ASSET + ".sha256"]  # no .partial left behind


def test_second_fetch_uses_the_cache_and_a_pinned_one_needs_no_network(
        cache: Path, server: ReleaseHTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_fetch(server, "3.11", "-q")) == 0
    assert capsys.readouterr().err == ""  # -q: no progress
    assert main(_fetch(server, "3.11", "--json")) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["cached"] is True and record["verified"] is True and record["release"] == TAG
    assert len(server.requests(ASSET_PATH)) == 1
    before = len(server.requests())
    server.close()  # a full version with an explicit release is answered from the cache alone
    port = closed_port()
    assert main(["fetch", f"cpython-3.11.2+{TAG}", "--mirror", f"http://127.0.0.1:{port}", "--target", TRIPLE,
                 "-q"]) == 0
    assert capsys.readouterr().out.strip() == str(_downloaded(cache))
    assert len(server.requests()) == before


def test_open_distribution_fetches_names_and_urls(cache: Path, server: ReleaseHTTPServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELINK_PBS_MIRROR", server.url)
    dist = open_distribution(f"cpython-3.11+{TAG}-{TRIPLE}")
    assert dist.source == _downloaded(cache)
    assert dist.metadata.target_triple == TRIPLE
    monkeypatch.delenv("RELINK_PBS_MIRROR")
    url = f"{server.url}/{TAG}/{quote(ASSET, safe='')}"
    by_url = open_distribution(url)
    assert by_url.metadata.python_version == "3.11.2"
    assert by_url.source.name == ASSET and by_url.source.parent.parent.name == "url"
    assert [r.path for r in server.requests()][-2:] == [f"/{TAG}/SHA256SUMS", ASSET_PATH]  # verified by SUMS
    assert resolve_distribution_source(url) == by_url.source  # cached now


def test_a_bare_version_is_a_dist_everywhere_and_a_missing_local_archive_never_fetches(
        cache: Path, server: ReleaseHTTPServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("RELINK_PBS_MIRROR", server.url)
    monkeypatch.chdir(tmp_path)
    assert main(["info", "--json", "3.11"]) == 0  # what `relink fetch 3.11` takes, `relink build 3.11` takes too
    assert json.loads(capsys.readouterr().out)["python_version"] == "3.11.2"
    before = len(server.requests())
    for typo in (ASSET.replace("3.11.2", "3.11.3"), f"dists/{ASSET}"):
        assert main(["info", typo]) == ExitCode.INVALID_INPUT
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{typo}: no such file or folder" in err and "relink fetch" in err
    assert len(server.requests()) == before, "a file name that does not exist is not a download"


def test_interrupted_transfer_resumes_with_a_range_request(cache: Path, server: ReleaseHTTPServer) -> None:
    cut = 10 << 20
    server.cuts[ASSET_PATH] = [cut]
    result = fetch_distribution(DistRequest("3.11", TAG, TRIPLE), mirror=server.url, quiet=True)
    assert result.path == _downloaded(cache) and not result.cached
    first, second = server.requests(ASSET_PATH)
    assert first.range is None and first.status == 200
    assert second.range == f"bytes={cut}-" and second.status == 206
    assert open_distribution(result.path).metadata.python_version == "3.11.2"


def test_a_failed_run_leaves_a_partial_file_that_the_next_run_resumes(
        cache: Path, server: ReleaseHTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.cuts[ASSET_PATH] = [4 << 20, 4 << 20, 4 << 20]  # every attempt of the first run is cut
    assert main(_fetch(server, "3.11")) == ExitCode.NETWORK
    err = capsys.readouterr().err
    assert "retrying" in err and "relink: error: connection lost after 12.0 MiB" in err
    assert _leftovers(cache) == [ASSET + ".partial", ASSET + ".sha256"]
    assert [r.range for r in server.requests(ASSET_PATH)] == [None, "bytes=4194304-", "bytes=8388608-"]
    assert main(_fetch(server, "3.11", "-q")) == 0
    assert server.requests(ASSET_PATH)[-1].range == f"bytes={12 << 20}-"
    assert _leftovers(cache) == [ASSET, ASSET + ".sha256"]


def test_a_stale_partial_file_is_replaced(cache: Path, server: ReleaseHTTPServer, lto_archive: Path) -> None:
    partial = _downloaded(cache).with_name(ASSET + ".partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"\0" * (lto_archive.stat().st_size + 10))  # longer than the asset: HTTP 416
    fetch_distribution(DistRequest("3.11", TAG, TRIPLE), mirror=server.url, quiet=True)
    partial.write_bytes(b"garbage")  # a wrong prefix: resumed, mismatches, fetched again from the start
    _downloaded(cache).unlink()
    result = fetch_distribution(DistRequest("3.11", TAG, TRIPLE), mirror=server.url, quiet=True)
    assert [(r.range, r.status) for r in server.requests(ASSET_PATH)] == [
        (f"bytes={lto_archive.stat().st_size + 10}-", 416), (None, 200), ("bytes=7-", 206), (None, 200)]
    assert open_distribution(result.path).metadata.python_version == "3.11.2"


def test_checksum_mismatch_is_refused_and_nothing_is_kept(cache: Path, server: ReleaseHTTPServer, release: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    sums = release / TAG / "SHA256SUMS"
    sums.write_text("\n".join(
        f"{'0' * 64}  {ASSET}" if line.endswith(ASSET) else line for line in sums.read_text().splitlines()))
    assert main(_fetch(server, "3.11")) == ExitCode.NETWORK
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"relink: error: checksum mismatch for {server.url}/{TAG}/cpython-3.11.2%2B{TAG}")
    assert f"expected sha256 {'0' * 64}" in err
    assert not _downloaded(cache).exists()
    assert _leftovers(cache) == [ASSET + ".sha256"]  # the expected digest only; no archive, no .partial


def test_missing_asset_is_a_404(cache: Path, server: ReleaseHTTPServer, release: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    (release / TAG / ASSET).unlink()
    assert main(_fetch(server, "3.11", "-q")) == ExitCode.NETWORK
    url = f"{server.url}/{TAG}/{quote(ASSET, safe='')}"
    assert capsys.readouterr().err == f"relink: error: not found (HTTP 404): {url}\n"


def test_a_version_the_release_lacks_names_what_it_has(cache: Path, server: ReleaseHTTPServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_fetch(server, "3.9", "-q")) == ExitCode.INVALID_INPUT
    assert "has no full archive for Python 3.9 (it has 3.11, 3.12)" in capsys.readouterr().err
    assert server.requests(ASSET_PATH) == []


def test_missing_checksum_is_refused_unless_insecure(cache: Path, server: ReleaseHTTPServer, release: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (release / TAG / "SHA256SUMS").unlink()
    assert main(_fetch(server, "3.11", "-q")) == ExitCode.NETWORK
    assert "has no SHA256SUMS" in capsys.readouterr().err  # a minor version cannot even be resolved
    assert main(_fetch(server, "3.11.2", "-q")) == ExitCode.NETWORK
    err = capsys.readouterr().err
    assert err.startswith(f"relink: error: no checksum published for {ASSET}") and "--insecure" in err
    assert server.requests(ASSET_PATH) == []  # refused before downloading anything
    assert main(_fetch(server, "3.11.2", "-q", "--insecure", "--json")) == 0
    out, err = capsys.readouterr()
    assert "WARNING" in err and "UNVERIFIED" in err  # loud even with -q
    record = json.loads(out)
    assert record["verified"] is False and Path(record["path"]).parent.name == "unverified"
    assert open_distribution(record["path"]).metadata.python_version == "3.11.2"
    assert main(_fetch(server, "3.11.2", "-q")) == ExitCode.NETWORK  # the unverified copy is not trusted later


def test_older_releases_verify_with_a_per_asset_sha256(cache: Path, server: ReleaseHTTPServer, release: Path,
                                                       archive_sha256: str) -> None:
    (release / TAG / "SHA256SUMS").unlink()
    (release / TAG / f"{ASSET}.sha256").write_text(archive_sha256 + "\n")
    result = fetch_distribution(DistRequest("3.11.2", TAG, TRIPLE), mirror=server.url, quiet=True)
    assert result.sha256 == archive_sha256 and result.path == _downloaded(cache)


def test_server_error_is_retried_then_reported(cache: Path, server: ReleaseHTTPServer,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    server.fail[ASSET_PATH] = 500
    assert main(_fetch(server, "3.11")) == ExitCode.NETWORK
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("relink: error: server error (HTTP 500 Internal Server Error)")
    assert len(server.requests(ASSET_PATH)) == 3
    assert not (cache / "downloads" / TAG / ASSET).exists()


def test_a_connection_dropped_before_the_answer_is_retried(cache: Path, server: ReleaseHTTPServer,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    server.drops[f"/{TAG}/SHA256SUMS"] = 1
    server.drops[ASSET_PATH] = 1
    assert main(_fetch(server, "3.11")) == 0
    err = capsys.readouterr().err
    assert err.count("(Remote end closed connection without response); retrying") == 2
    assert [r.status for r in server.requests(ASSET_PATH)] == [0, 200]


def test_a_broken_latest_pointer_is_reported(cache: Path, server: ReleaseHTTPServer, release: Path) -> None:
    (release / "latest-release.json").write_text('{"version": 2}')
    with pytest.raises(RelinkError, match="latest-release.json: not a version 1") as info:
        fetch_distribution(DistRequest("3.11"), mirror=server.url, quiet=True)
    assert info.value.code == ExitCode.NETWORK


def test_offline_is_one_clear_line(cache: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELINK_PBS_MIRROR", f"http://127.0.0.1:{closed_port()}")
    assert main(["fetch", "3.12"]) == ExitCode.NETWORK
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("relink: error: cannot reach 127.0.0.1:")
    assert "--mirror" in err and "relink dist build" in err
    with pytest.raises(RelinkError, match="cannot reach"):  # other commands taking DIST say the same
        open_distribution(f"cpython-3.12+{TAG}")


def test_concurrent_fetches_download_once(cache: Path, server: ReleaseHTTPServer) -> None:
    server.chunk_delay = 0.002  # about 1.2 s per transfer, so both processes are in flight together
    env = {**os.environ, "RELINK_CACHE_DIR": str(cache)}
    argv = [sys.executable, "-m", "relink", *_fetch(server, "3.11", "-q")]
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == [str(_downloaded(cache))] * 2
    assert len(server.requests(f"/{TAG}/SHA256SUMS")) == 2  # both really asked the server
    assert len(server.requests(ASSET_PATH)) == 1
    assert open_distribution(_downloaded(cache)).metadata.python_version == "3.11.2"
