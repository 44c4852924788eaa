"""examples/c-embed configured through relink's CMake package (find_package(Relink) from the source
checkout's cmake/ folder) with the venv's cmake + ninja and the pinned clang/lld toolchain file, built
against the source-built native-ELF CPython 3.11 and run; configure-time failures name relink's message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from relink.resources import cmake_dir, toolchain_dir
from relink.support.cmake_runner import cmake_executable, ninja_executable

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "c-embed"


def _configure(build: Path, archive: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # No RELINK_COMMAND: a source checkout has no relink beside cmake/, so the package falls back to
    # `Python_EXECUTABLE -m relink`, as in a scikit-build-core build.
    return subprocess.run(
        [str(cmake_executable()), "-S", str(EXAMPLE), "-B", str(build), "-G", "Ninja",
         f"-DCMAKE_MAKE_PROGRAM={ninja_executable()}", f"-DCMAKE_TOOLCHAIN_FILE={toolchain_dir() / 'clang.cmake'}",
         f"-DRelink_DIR={cmake_dir()}", f"-DPython_EXECUTABLE={sys.executable}", f"-DRELINK_DIST={archive}", *extra],
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def c_embed(elf_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("c-embed")
    configured = _configure(build, elf_archive)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    built = subprocess.run([str(cmake_executable()), "--build", str(build)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    return build / "c-embed"


def _run(exe: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(exe)], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"], **env})


def test_c_embed_runs_json_and_math_on_the_distributions_stdlib(c_embed: Path, elf_archive: Path) -> None:
    result = _run(c_embed)
    assert result.returncode == 0, result.stderr
    root = subprocess.run([sys.executable, "-m", "relink", "extract", str(elf_archive), "--print-path"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert result.stdout.splitlines() == [
        '{"hypot": 5.0, "primes": [2, 3, 5, 7, 11, 13, 17, 19]}',
        "round trip: True",
        "builtin: _json math",
        f"stdlib: {root}/python/install/lib/python3.11/json/__init__.py",
    ]


def test_c_embed_without_a_stdlib_stops_with_pythons_message(c_embed: Path, tmp_path: Path) -> None:
    result = _run(c_embed, C_EMBED_HOME=str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "Fatal Python error" in result.stderr


def test_configure_failure_names_relinks_message(elf_archive: Path, tmp_path: Path) -> None:
    result = _configure(tmp_path / "build", elf_archive, "-DRELINK_EXTENSIONS=minimal,+nosuch")
    assert result.returncode != 0
    assert "relink_add_python_executable(c-embed): 'relink generate" in result.stderr
    assert "unknown extension 'nosuch'" in result.stderr


def test_package_version_is_relinks_version() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert f'set(PACKAGE_VERSION "{version}")' in (cmake_dir() / "RelinkConfigVersion.cmake").read_text()


def test_cmake_dir_command_prints_the_package_folder() -> None:
    printed = subprocess.run([sys.executable, "-m", "relink", "cmake-dir"], capture_output=True, text=True,
                             check=True).stdout
    assert printed == f"{cmake_dir()}\n" and (cmake_dir() / "RelinkConfig.cmake").is_file()
