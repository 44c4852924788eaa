"""examples/pyo3-embed built for real with cargo against Debian's PyO3 0.17 (librust-pyo3-dev, offline
through a Cargo directory source written here), configured only by the PYO3_CONFIG_FILE that
`relink link-args --format pyo3` prints, as the README says. Built against the native-ELF distribution
with the default `cc` (gcc + GNU ld) and against the ThinLTO one with clang-22 + lld, in one target
folder (the dependencies compile once); each program then runs under `env -i` from another folder with
only `relink stdlib`'s zip beside it, and carries no path of the build machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed"),
]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pyo3-embed"
RELINK = Path(sys.executable).parent / "relink"
DEBIAN_CRATES = Path("/usr/share/cargo/registry")
EXTENSIONS = "minimal,+_json,+math"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DEBIAN_CRATES / "pyo3-0.17.3").is_dir():
        pytest.fail("Debian's librust-pyo3-dev is not installed: run 'bash toolchain/setup.sh'")
    folder = tmp_path_factory.mktemp("pyo3") / "pyo3-embed"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("target", "Cargo.lock", "pyo3.cfg"))
    (folder / ".cargo").mkdir()
    (folder / ".cargo" / "config.toml").write_text(
        f'[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = "{DEBIAN_CRATES}"\n')
    return folder


def _relink(*args: str | Path) -> str:
    result = subprocess.run([str(RELINK), *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _build(project: Path, archive: Path, *, lto: bool) -> Path:
    """`relink link-args … --format pyo3 > $PWD/pyo3.cfg`, `relink stdlib`, then cargo; the executable."""
    config = project / "pyo3.cfg"
    config.write_text(_relink("link-args", archive, "--extensions", EXTENSIONS, "--format", "pyo3"))
    environment = {k: v for k, v in os.environ.items()
                   if k == "RELINK_CACHE_DIR" or not k.startswith(("RELINK", "CARGO_", "RUST", "PYO3"))}
    environment["PYO3_CONFIG_FILE"] = str(config)
    command = ["cargo", "build", "--offline"]
    if lto:
        # Bitcode needs an LLVM 22 linker: clang-22 driving lld, for the final link only.
        environment["CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER"] = "clang-22"
        command = ["cargo", "rustc", "--offline", "--", "-Clink-arg=-fuse-ld=lld"]
    result = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    built = project / "target" / "debug" / "pyo3-embed"
    shipped = project / ("ship-lto" if lto else "ship-elf")
    shipped.mkdir()
    shutil.copy2(built, shipped / "pyo3-embed")
    _relink("stdlib", archive, "--extensions", EXTENSIONS, "-o", shipped / "python311.zip")
    return shipped / "pyo3-embed"


def _run_elsewhere(exe: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(exist_ok=True)
    return subprocess.run(["env", "-i", str(exe)], cwd=cwd, capture_output=True, text=True, timeout=60)


def _check(exe: Path, tmp_path: Path) -> None:
    result = _run_elsewhere(exe, tmp_path / "elsewhere")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "rustmod.add(2, 40) = 42",
        '{"answer": 42, "hypot": 5.0, "pi": 3.14159}',
        "OverflowError: rustmod.add: the sum does not fit 64 bits",
        "builtin: _json math rustmod",
        f"stdlib: {exe.parent}/python311.zip/json/__init__.pyc",
    ]
    assert result.stderr == ""
    strings = subprocess.run(["strings", str(exe)], capture_output=True, text=True, check=True).stdout
    assert "/relink/" not in strings and "python/install" not in strings


def test_pyo3_program_links_and_runs_from_the_elf_archive(project: Path, elf_archive: Path, tmp_path: Path) -> None:
    exe = _build(project, elf_archive, lto=False)
    _check(exe, tmp_path)
    # Without its stdlib it stops with one line naming the file and the command that writes it.
    (exe.parent / "python311.zip").unlink()
    missing = _run_elsewhere(exe, tmp_path / "elsewhere")
    assert missing.returncode == 1
    assert missing.stderr.strip() == (f"pyo3-embed: {exe.parent}/python311.zip not found: write it with "
                                      f"'relink stdlib DIST -o {exe.parent}/python311.zip'")


def test_pyo3_program_links_and_runs_from_the_thinlto_archive(project: Path, lto_archive: Path,
                                                              tmp_path: Path) -> None:
    _check(_build(project, lto_archive, lto=True), tmp_path)
