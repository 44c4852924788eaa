"""Subcommand modules of the `relink` CLI; each has `register(subparsers)` that sets `func`.

`COMMANDS` maps each command name to the module that registers it, in `relink --help` order. The CLI
imports only the module of the command being run, so one command never pays for another's imports.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["COMMANDS", "command_modules"]

COMMANDS = {
    "build": "build",
    "info": "info",
    "extensions": "info",
    "extract": "extract",
    "toolchain": "toolchain",
    "lower": "lower",
    "plan": "plan",
    "generate": "plan",
    "link-args": "plan",
    "stdlib": "stdlib",
    "cmake-dir": "cmake_dir",
    "licenses": "licenses",
    "verify": "verify",
    "dist": "dist",
    "fetch": "fetch",
    "cache": "cache",
}


def command_modules(commands: list[str] | None = None) -> list[ModuleType]:
    """The modules registering `commands` (names from `COMMANDS`), or every command module (in help order)."""
    names = dict.fromkeys(COMMANDS[name] for name in (COMMANDS if commands is None else commands))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
