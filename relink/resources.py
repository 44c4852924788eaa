"""Locating relink's data files: `templates/`, `toolchain/` and `cmake/` (the CMake package).

An installed wheel carries them under `relink/data/` (the CMake package under `relink/share/cmake/Relink/`;
put there by the top-level CMakeLists.txt); a source checkout or editable install uses the copies at the
repository's top level.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["cmake_dir", "data_dir", "source_checkout", "templates_dir", "toolchain_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"relink's data folder '{name}' is missing from the installation")


def templates_dir() -> Path:
    return data_dir("templates")


def toolchain_dir() -> Path:
    return data_dir("toolchain")


def cmake_dir() -> Path:
    """The folder holding RelinkConfig.cmake: pass it as `-DRelink_DIR=...` to find_package(Relink).
    A wheel has it at relink/share/cmake/Relink, where CMAKE_PREFIX_PATH=<site-packages> finds it."""
    installed = _PACKAGE_DIR / "share" / "cmake" / "Relink"
    return installed if installed.is_dir() else data_dir("cmake")


def source_checkout() -> Path | None:
    """The repository root when relink runs from a source checkout (editable install), else None (a wheel)."""
    if (_PACKAGE_DIR / "data").is_dir() or (_PACKAGE_DIR / "share").is_dir():
        return None
    root = _PACKAGE_DIR.parent
    return root if (root / "toolchain" / "setup.sh").is_file() else None
