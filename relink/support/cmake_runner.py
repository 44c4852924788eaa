"""Running CMake + Ninja from PyPI on a generated project, with logs and one-line failures.

The `cmake` and `ninja` Python packages are dependencies, so every machine builds with the same
versions; their binaries are located through the packages themselves, not PATH.
"""

from __future__ import annotations

import os
from pathlib import Path

import ninja

import cmake
from relink.errors import ExitCode, RelinkError
from relink.support.runner import run_logged

__all__ = ["cmake_executable", "ninja_executable", "configure_and_build"]


def cmake_executable() -> Path:
    return Path(cmake.CMAKE_BIN_DIR) / "cmake"


def ninja_executable() -> Path:
    return Path(ninja.BIN_DIR) / "ninja"


def configure_and_build(source_dir: Path, build_dir: Path, log: Path, *, definitions: dict[str, str] | None = None,
                        toolchain_file: Path | None = None, quiet: bool = True) -> str:
    """Configure `source_dir` into `build_dir` with Ninja and build it; returns the build's output.

    Both steps append to `log`; a failure raises one line naming the step and the log. Unless `quiet`, a
    status line follows each step (ninja's `[x/y]` while building).
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    args = [str(cmake_executable()), "-S", str(source_dir), "-B", str(build_dir), "-G", "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={ninja_executable()}"]
    if toolchain_file is not None:
        args.append(f"-DCMAKE_TOOLCHAIN_FILE={toolchain_file}")
    args += [f"-D{k}={v}" for k, v in sorted((definitions or {}).items())]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        # Ninja directly rather than `cmake --build`: it is then relink's child, so the tool's process group and
        # parent-death signals reach it, and it passes them on to the compilers and linkers it runs.
        for label, argv in (("cmake configure", args), ("cmake build", [str(ninja_executable()), "-C",
                                                                          str(build_dir)])):
            returncode = run_logged(argv, out, label, env={**os.environ, "NINJA_STATUS": "[%f/%t] "}, quiet=quiet)
            if returncode != 0:
                raise RelinkError(f"{label} of {source_dir} failed (exit {returncode}): read {log}",
                                  ExitCode.BUILD_FAILED)
    return log.read_text()
