"""examples/rust-embed built for real with cargo (offline, no crates) against the source-built CPython 3.11
distributions and run: native ELF objects (a link of well under a second) and one ThinLTO bitcode link
through clang-22 + lld (about half a minute); plus the build script's failures, which must name the cause."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed"),
]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rust-embed"
RELINK = Path(sys.executable).parent / "relink"


def _cargo_build(target_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # The example's own settings come only from the test; the cache stays the one the fixtures used.
    environment = {k: v for k, v in os.environ.items()
                   if k == "RELINK_CACHE_DIR" or not k.startswith(("RELINK", "CARGO_", "RUST"))}
    environment.update(CARGO_TARGET_DIR=str(target_dir), RELINK=str(RELINK), **env)
    return subprocess.run(["cargo", "build", "--offline"], cwd=EXAMPLE, env=environment,
                          capture_output=True, text=True, timeout=900)


def _build(archive: Path, target_dir: Path) -> tuple[Path, float]:
    started = time.monotonic()
    result = _cargo_build(target_dir, RELINK_DIST=str(archive))
    assert result.returncode == 0, result.stderr
    return target_dir / "debug" / "rust-embed", time.monotonic() - started


def _run(exe: Path, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Under `env -i` (plus `env`), from `cwd`: nothing of the build's environment reaches the program."""
    return subprocess.run(["env", "-i", *(f"{k}={v}" for k, v in env.items()), str(exe)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def _shipped(exe: Path, folder: Path) -> Path:
    """The executable and its stdlib zip copied to `folder`, as a user would ship them."""
    folder.mkdir()
    shutil.copy2(exe, folder / exe.name)
    shutil.copy2(exe.with_name("python311.zip"), folder / "python311.zip")
    return folder / exe.name


def _check_output(result: subprocess.CompletedProcess[str], exe: Path) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "rustmod.add(2, 40) = 42",
        '{"answer": 42, "hypot": 5.0, "pi": 3.14159}',
        "OverflowError: rustmod.add: the sum does not fit a C long",
        "builtin: _json math rustmod",
        # The stdlib is relink stdlib's zip beside the executable, wherever that is.
        f"stdlib: {exe.parent}/python311.zip/json/__init__.pyc",
    ]
    strings = subprocess.run(["strings", str(exe)], capture_output=True, text=True, check=True).stdout
    assert "/relink/" not in strings and "python/install" not in strings


@pytest.fixture(scope="module")
def elf_build(elf_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe, _ = _build(elf_archive, tmp_path_factory.mktemp("cargo-elf"))
    return exe


def test_elf_build_runs_rust_module_json_and_math(elf_build: Path, tmp_path: Path) -> None:
    exe = _shipped(elf_build, tmp_path / "shipped")
    (tmp_path / "elsewhere").mkdir()
    _check_output(_run(exe, cwd=tmp_path / "elsewhere"), exe)


def test_elf_build_links_only_the_chosen_extensions(elf_build: Path) -> None:
    # The default spec minimal,+_json,+math: the binary has no symbol of an extension left out.
    symbols = subprocess.run(["llvm-nm-22", "--defined-only", str(elf_build)], capture_output=True, text=True,
                             check=True).stdout
    assert " PyInit__json" in symbols and " PyInit_math" in symbols
    assert " PyInit__sqlite3" not in symbols and " PyInit_zlib" not in symbols


def test_missing_stdlib_fails_initialization_with_a_message(elf_build: Path, tmp_path: Path) -> None:
    result = _run(elf_build, RUST_EMBED_STDLIB=str(tmp_path / "nowhere.zip"))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"rust-embed: cannot open the stdlib {tmp_path}/nowhere.zip (write it with "
                                     f"'relink stdlib DIST -o {tmp_path}/nowhere.zip')")


def test_build_script_names_what_is_missing_or_wrong(elf_archive: Path, tmp_path: Path) -> None:
    unset = _cargo_build(tmp_path / "target")
    assert unset.returncode != 0 and "set RELINK_DIST to a python-build-standalone full archive" in unset.stderr
    bad = _cargo_build(tmp_path / "target", RELINK_DIST=str(elf_archive), RELINK_EXTENSIONS="minimal,+nosuch")
    assert bad.returncode != 0
    assert "unknown extension 'nosuch'" in bad.stderr


def test_lto_build_links_bitcode_with_clang_and_lld(lto_archive: Path, tmp_path: Path) -> None:
    built, seconds = _build(lto_archive, tmp_path / "target")
    exe = _shipped(built, tmp_path / "shipped")
    _check_output(_run(exe, cwd=tmp_path), exe)
    print(f"ThinLTO cargo build: {seconds:.1f} s, {exe.stat().st_size / 1e6:.1f} MB")
