"""Subcommand modules of the `relink` CLI; each has `register(subparsers)` that sets `func`.

The order here is the order in `relink --help`.
"""

from __future__ import annotations

from relink.commands import build, cmake_dir, dist, extract, fetch, info, licenses, lower, plan, toolchain, verify

COMMAND_MODULES = [build, info, extract, toolchain, lower, plan, cmake_dir, licenses, verify, dist, fetch]

__all__ = ["COMMAND_MODULES"]
