"""relink's CMake package for real, found as a user finds it (CMAKE_PREFIX_PATH=<site-packages>, where the
install put share/cmake/Relink): examples/c-embed built with the pinned clang/lld against the native-ELF
CPython 3.11 and run under `env -i` from another folder with only its stdlib zip beside it; Python linked
into a C++ executable, a static and a shared library with gcc/g++; the compiler of the linker language
gated; configure-time failures naming relink's message."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import tomllib

from relink.resources import cmake_dir, toolchain_dir
from relink.support.cmake_runner import cmake_executable, ninja_executable

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "c-embed"
TARGETS = Path(__file__).resolve().parent / "cmake_targets"
SITE_PACKAGES = sysconfig.get_paths()["purelib"]


def _configure(source: Path, build: Path, archive: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # No RELINK_COMMAND: the package finds the relink installed beside it (the venv's bin/relink).
    return subprocess.run(
        [str(cmake_executable()), "-S", str(source), "-B", str(build), "-G", "Ninja",
         f"-DCMAKE_MAKE_PROGRAM={ninja_executable()}", f"-DCMAKE_PREFIX_PATH={SITE_PACKAGES}",
         f"-DRELINK_DIST={archive}", *extra],
        capture_output=True, text=True, timeout=300,
    )


def _build(build: Path, *targets: str) -> None:
    built = subprocess.run([str(cmake_executable()), "--build", str(build), *(["--target", *targets] if targets else [])],
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr


def _run_elsewhere(exe: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(exist_ok=True)
    return subprocess.run(["env", "-i", str(exe)], cwd=cwd, capture_output=True, text=True, timeout=60)


def _ship(build: Path, name: str, folder: Path, *, with_zip: bool = True) -> Path:
    folder.mkdir()
    shutil.copy2(build / name, folder / name)
    if with_zip:
        shutil.copy2(build / "python311.zip", folder / "python311.zip")
    return folder / name


def _no_build_machine_path(exe: Path) -> None:
    strings = subprocess.run(["strings", str(exe)], capture_output=True, text=True, check=True).stdout
    assert "/relink/" not in strings and "python/install" not in strings


@pytest.fixture(scope="module")
def c_embed(elf_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("c-embed")
    configured = _configure(EXAMPLE, build, elf_archive, f"-DCMAKE_TOOLCHAIN_FILE={toolchain_dir() / 'clang.cmake'}")
    assert configured.returncode == 0, configured.stdout + configured.stderr
    _build(build)
    return build


def test_package_is_found_through_the_prefix_path(c_embed: Path) -> None:
    cache = (c_embed / "CMakeCache.txt").read_text()
    assert f"Relink_DIR:PATH={SITE_PACKAGES}/relink/share/cmake/Relink" in cache


def test_c_embed_runs_anywhere_with_its_stdlib_zip(c_embed: Path, tmp_path: Path) -> None:
    exe = _ship(c_embed, "c-embed", tmp_path / "shipped")
    result = _run_elsewhere(exe, tmp_path / "elsewhere")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        '{"hypot": 5.0, "primes": [2, 3, 5, 7, 11, 13, 17, 19]}',
        "round trip: True",
        "builtin: _json math",
        f"stdlib: {exe.parent}/python311.zip/json/__init__.pyc",
    ]
    _no_build_machine_path(exe)


def test_c_embed_without_its_stdlib_names_the_missing_zip(c_embed: Path, tmp_path: Path) -> None:
    exe = _ship(c_embed, "c-embed", tmp_path / "shipped", with_zip=False)
    result = _run_elsewhere(exe, tmp_path)
    assert result.returncode == 1
    assert f"the stdlib {exe.parent}/python311.zip is missing: put it beside the executable" in result.stderr


def test_install_puts_the_zip_beside_the_executable(c_embed: Path, tmp_path: Path) -> None:
    installed = subprocess.run([str(cmake_executable()), "--install", str(c_embed), "--prefix", str(tmp_path / "p")],
                               capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    result = _run_elsewhere(tmp_path / "p" / "bin" / "c-embed", tmp_path / "elsewhere")
    assert result.returncode == 0 and result.stdout.endswith(f"{tmp_path}/p/bin/python311.zip/json/__init__.pyc\n")


def test_configure_failure_names_relinks_message(elf_archive: Path, tmp_path: Path) -> None:
    result = _configure(EXAMPLE, tmp_path / "build", elf_archive, "-DRELINK_EXTENSIONS=minimal,+nosuch")
    assert result.returncode != 0
    assert "relink_target_link_python(c-embed): 'relink generate" in result.stderr
    assert "unknown extension 'nosuch'" in result.stderr


def test_cxx_executable_static_and_shared_library_link_with_gcc(elf_archive: Path, tmp_path: Path) -> None:
    build = tmp_path / "build"
    configured = _configure(TARGETS, build, elf_archive, "-DCMAKE_C_COMPILER=gcc", "-DCMAKE_CXX_COMPILER=g++",
                            "-DWITH_SHARED=ON")
    assert configured.returncode == 0, configured.stderr
    # The C++ target is gated (and its config.c compiled) with the C++ compiler that links it.
    comment = subprocess.run(["readelf", "-p", ".comment", str(build / "relink" / "cxx-app" / "config.o")],
                             capture_output=True, text=True).stdout
    assert "GCC: (" in comment
    _build(build)
    cxx = _run_elsewhere(_ship(build, "cxx-app", tmp_path / "cxx"), tmp_path / "elsewhere")
    assert (cxx.returncode, cxx.stdout) == (0, "c++: [1, 2]\n"), cxx.stderr
    static = _run_elsewhere(_ship(build, "static-host", tmp_path / "static"), tmp_path / "elsewhere")
    assert (static.returncode, static.stdout) == (0, "library: 3628800 True\n"), static.stderr
    # The shared library binds its Python to itself (-Bsymbolic), so PIE-compiled objects link into it.
    folder = tmp_path / "shared"
    host = _ship(build, "shared-host", folder)
    shutil.copy2(build / "libpyshared.so", folder / "libpyshared.so")
    shared = subprocess.run(["env", "-i", f"LD_LIBRARY_PATH={folder}", str(host)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert (shared.returncode, shared.stdout) == (0, "library: 3628800 True\n"), shared.stderr
    _no_build_machine_path(folder / "libpyshared.so")


def test_cxx_compiler_is_gated_for_bitcode(lto_archive: Path, tmp_path: Path) -> None:
    result = _configure(TARGETS, tmp_path / "build", lto_archive, "-DCMAKE_CXX_COMPILER=g++")
    assert result.returncode != 0
    assert "relink_target_link_python(cxx-app)" in result.stderr
    assert "g++ (gcc " in result.stderr and "cannot read LLVM" in result.stderr


def test_package_version_is_relinks_version() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert f'set(PACKAGE_VERSION "{version}")' in (cmake_dir() / "RelinkConfigVersion.cmake").read_text()


def test_cmake_dir_command_prints_the_package_folder() -> None:
    printed = subprocess.run([sys.executable, "-m", "relink", "cmake-dir"], capture_output=True, text=True,
                             check=True).stdout
    assert printed == f"{cmake_dir()}\n" and (cmake_dir() / "RelinkConfig.cmake").is_file()
