"""`relink cmake-dir`: print the folder of relink's CMake package, for `-DRelink_DIR=$(relink cmake-dir)`.

The package itself (RelinkConfig.cmake: relink_add_python_executable, relink_python_home) lives in
`cmake/`; relink.resources locates it in a wheel or a source checkout.
"""

from __future__ import annotations

import argparse

from relink.resources import cmake_dir

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    print(cmake_dir())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cmake-dir", help="print the folder holding RelinkConfig.cmake (for find_package(Relink))",
        description="Print the folder of relink's CMake package. Plain CMake projects pass it as "
        "-DRelink_DIR=$(relink cmake-dir); projects built by scikit-build-core find it without this.",
    )
    parser.set_defaults(func=_run)
