"""Bad input to `relink dist build`: one clear line, a documented exit code, nothing half-built left."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from relink.cli import main
from relink.errors import ExitCode


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("RELINK_CACHE_DIR", str(cache))
    return cache


def _fake_source(path: Path, version: str, configure: str | None = None) -> Path:
    """A tiny tarball shaped like CPython's source (patchlevel.h, optionally a configure script)."""
    files = {f"Python-{version}/Include/patchlevel.h": f'#define PY_VERSION "{version}"\n'}
    if configure is not None:
        files[f"Python-{version}/configure"] = configure
        files[f"Python-{version}/Modules/.keep"] = ""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return path


def _run(capsys, *argv):
    code = main(["dist", "build", "-q", *map(str, argv)])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


def _nothing_left(cache: Path, out: Path | None = None):
    assert not list((cache / "dists").rglob("*.tar.zst")) if (cache / "dists").exists() else True
    assert not list(cache.rglob("*.partial"))
    if out is not None:
        assert not out.exists() or not any(out.iterdir())


def test_missing_tarball(capsys, tmp_path, private_cache):
    code, err = _run(capsys, tmp_path / "Python-3.11.9.tgz")
    assert code == ExitCode.INVALID_INPUT
    assert len(err) == 1 and "Python-3.11.9.tgz: source tarball not found" in err[0]


def test_corrupt_tarball(capsys, tmp_path, private_cache):
    good = _fake_source(tmp_path / "good.tgz", "3.11.9").read_bytes()
    bad = tmp_path / "Python-3.11.9.tgz"
    bad.write_bytes(good[: len(good) // 2])
    code, err = _run(capsys, bad)
    assert code == ExitCode.INVALID_INPUT
    assert len(err) == 1 and "corrupt or unreadable source tarball" in err[0] and str(bad) in err[0]
    _nothing_left(private_cache)


def test_not_cpython(capsys, tmp_path):
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("x/README"), io.BytesIO())
    code, err = _run(capsys, path)
    assert code == ExitCode.INVALID_INPUT and "not a CPython source tarball" in err[0]


@pytest.mark.parametrize("version", ["3.9.18", "3.10.14", "3.15.0a1", "2.7.18"])
def test_unsupported_version(capsys, tmp_path, version):
    code, err = _run(capsys, _fake_source(tmp_path / f"Python-{version}.tgz", version))
    assert code == ExitCode.INVALID_INPUT
    assert len(err) == 1 and f"CPython {version} is not supported" in err[0] and "3.11–3.14" in err[0]


def test_missing_compiler(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no clang-22 here
    code, err = _run(capsys, _fake_source(tmp_path / "Python-3.11.9.tgz", "3.11.9"))
    assert code == ExitCode.TOOLCHAIN
    assert len(err) == 1 and "clang-22 not found" in err[0] and "toolchain/setup.sh" in err[0]


def test_failed_configure_names_its_log(capsys, tmp_path, private_cache):
    source = _fake_source(tmp_path / "Python-3.11.9.tgz", "3.11.9",
                          configure="#!/bin/sh\necho 'checking for a working compiler... no' >&2\nexit 77\n")
    out = tmp_path / "out"
    code, err = _run(capsys, source, "-o", out)
    assert code == ExitCode.BUILD_FAILED
    assert len(err) == 1 and "configure failed (exit 77)" in err[0]
    log = Path(err[0].rsplit("read ", 1)[1])
    assert log.is_file() and "working compiler... no" in log.read_text()
    _nothing_left(private_cache, out)
    assert not list(private_cache.glob("relink-cpython-*")), "work tree removed"


def test_help_documents_exit_codes():
    result = subprocess.run([sys.executable, "-m", "relink", "dist", "build", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "exit codes:" in result.stdout and "5    an external build step failed" in result.stdout
