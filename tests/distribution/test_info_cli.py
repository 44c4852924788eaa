"""`relink info`, `relink extensions` and `relink extract` on the shared samples and on small real archives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers_archives import SAMPLES, distribution_members, minimal_metadata, object_bytes, write_archive

from relink.cli import main

LINUX = SAMPLES / "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
WINDOWS = SAMPLES / "PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("RELINK_CACHE_DIR", str(root))
    return root


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return write_archive(tmp_path / "cpython-3.11.2-full.tar.zst", distribution_members(minimal_metadata()))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def test_info_text_on_linux_sample(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "info", str(LINUX))
    assert "Python:        3.12.7 (cp312" in out
    assert "Target:        x86_64-unknown-linux-gnu (linux-x86_64)" in out
    assert "Build options: pgo+lto" in out
    assert "Object format: llvm-bitcode (producer LLVM 18.0.8)" in out
    assert "Link mode:     libpython shared" in out
    assert "C runtime:     glibc dynamic, newest glibc symbol 2.17" in out
    assert "Extensions:    104 (95 builtin, 1 shared-capable, 9 in core;" in out
    assert "Licenses:      Python-2.0 AND CNRI-Python" in out
    assert "Archive size:  -" in out and "metadata-only" in out


def test_info_json_on_windows_sample(capsys: pytest.CaptureFixture[str]) -> None:
    summary = json.loads(run(capsys, "info", "--json", str(WINDOWS)))
    assert summary["python_version"] == "3.11.9"
    assert summary["object_file_format"] == "coff" and summary["producer_llvm"] is None
    assert summary["build_options"] == "pgo" and summary["metadata_version"] == "7"
    assert summary["crt"]["libc"] == "msvc" and summary["crt"]["vcruntime"] == "140"
    assert summary["extensions"]["total"] == 88 and summary["extensions"]["in_core"] == 67
    assert summary["licenses"] == ["Python-2.0", "CNRI-Python"]
    assert summary["archive_size"] is None and summary["form"] == "metadata-only"


def test_extensions_on_sample_has_no_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(run(capsys, "extensions", "--json", str(LINUX)))
    assert list(document) == ["schema_version", "extensions"] and document["schema_version"] == 1
    rows = document["extensions"]
    by_name = {row["name"]: row for row in rows}
    assert len(by_name) == 104
    ssl = by_name["_ssl"]
    assert ssl["object_count"] == 1 and ssl["object_bytes"] is None
    assert {link["kind"] for link in ssl["links"]} == {"static"}
    assert ssl["licenses"] == ["Apache-2.0", "OpenSSL"]
    assert by_name["sys"]["init_fn"] is None and by_name["sys"]["in_core"]
    assert by_name["posix"]["required"]
    text = run(capsys, "extensions", str(LINUX))
    header, *lines = text.splitlines()
    assert header.split() == ["NAME", "VARIANT", "REQUIRED", "IN", "CORE", "LINKS", "LICENSES", "OBJS", "SIZE"]
    assert len(lines) == 104
    ssl_line = next(line for line in lines if line.startswith("_ssl "))
    assert "static:crypto,ssl" in ssl_line and "Apache-2.0 AND OpenSSL" in ssl_line


def test_info_and_extensions_on_archive(capsys: pytest.CaptureFixture[str], archive: Path) -> None:
    summary = json.loads(run(capsys, "info", "--json", str(archive)))
    assert next(iter(summary)) == "schema_version" and summary["schema_version"] == 1
    assert summary["form"] == "archive" and summary["archive_size"] == archive.stat().st_size
    assert summary["core"]["objects"] == 2  # config.o (the inittab object) is not counted
    assert summary["producer_llvm"] == "18.0.8"
    assert summary["crt"]["glibc_max_version"] == "2.28"
    assert f"({archive.stat().st_size} bytes)" in run(capsys, "info", str(archive))
    rows = {row["name"]: row for row in json.loads(run(capsys, "extensions", "--json", str(archive)))["extensions"]}
    assert rows["_ssl"]["object_bytes"] == len(object_bytes("build/Modules/_ssl.o"))
    assert rows["sys"]["object_bytes"] == 0
    assert [link["kind"] for link in rows["_ssl"]["links"]] == ["static", "system"]
    text = run(capsys, "extensions", str(archive))
    assert "static:ssl system:dl" in text and "KiB" in text


def test_extract_prints_root(capsys: pytest.CaptureFixture[str], archive: Path, cache: Path) -> None:
    root = Path(run(capsys, "extract", "--print-path", str(archive)).strip())
    assert root.parent == cache / "extracted"
    assert (root / "python" / "PYTHON.json").is_file()
    assert (root / "python" / "install" / "bin" / "python3").is_symlink()
    assert run(capsys, "extract", str(archive)).strip().endswith(str(root))
    # An extracted folder is itself a distribution.
    assert Path(run(capsys, "extract", "--print-path", str(root)).strip()) == root
    assert json.loads(run(capsys, "info", "--json", str(root)))["form"] == "folder"


def test_extract_metadata_only_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(LINUX)]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"relink: error: {LINUX}: a bare PYTHON.json has metadata only")
