"""`relink stdlib`: the distribution's stdlib as bytecode in a zip, deflated only when the program links
zlib, read back by the distribution's own interpreter; bad outputs refused in one line."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _relink(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relink", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def _python(archive: Path) -> Path:
    root = _relink("extract", archive, "--print-path").stdout.strip()
    return Path(root) / "python" / "install" / "bin" / "python3"


def test_full_stdlib_without_zlib_is_stored_and_imports(elf_archive: Path, tmp_path: Path) -> None:
    result = _relink("stdlib", elf_archive, "--extensions", "minimal", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    zip_path = tmp_path / "python311.zip"
    assert result.stdout.startswith(f"python311.zip (") and "stored" in result.stdout
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    assert {"encodings/__init__.pyc", "encodings/utf_8.pyc", "json/__init__.pyc", "asyncio/__init__.pyc"} <= names
    assert not any(name.startswith(("test/", "idlelib/", "tkinter/")) for name in names)
    # The distribution's interpreter imports from it: same magic number, valid bytecode.
    code = (f"import sys; sys.path[:] = [{str(zip_path)!r}]; "
            "import json, asyncio, email.parser; print(json.__file__)")
    run = subprocess.run([str(_python(elf_archive)), "-I", "-S", "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"{zip_path}/json/__init__.pyc"


def test_named_modules_with_zlib_are_deflated(elf_archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.zip"
    result = _relink("stdlib", elf_archive, "--extensions", "minimal,+zlib", "--modules", "json", "-o", out)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    assert "json/__init__.pyc" in names and "encodings/__init__.pyc" in names and "runpy.pyc" in names
    assert "asyncio/__init__.pyc" not in names
    # Byte-identical when written again.
    again = tmp_path / "again.zip"
    _relink("stdlib", elf_archive, "--extensions", "minimal,+zlib", "--modules", "json", "-o", again)
    assert again.read_bytes() == out.read_bytes()


def test_a_folder_as_output_is_refused_in_one_line(elf_archive: Path, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    result = _relink("stdlib", elf_archive, "-o", tmp_path / "folder")
    assert result.returncode == 3
    assert len(result.stderr.strip().splitlines()) == 1 and str(tmp_path / "folder") in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["folder"]
