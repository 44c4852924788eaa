"""`LinkPlan`: everything that goes into one link, and why, as a frozen JSON-serialisable value.

A plan is computed by `relink.plan.selection.make_plan` from a distribution's metadata and an extension
selection, and read by every renderer (config.c, CMake project, response file, Cargo and PyO3 lines).
It knows nothing about CMake or Cargo. Paths are PYTHON.json-relative (relative to the distribution's
`python/` directory) so a plan is the same on every machine; renderers make them absolute.
Every item carries `why`: "core" or the names of the extensions that pulled it in.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = [
    "PLAN_SCHEMA_VERSION",
    "ExcludedExtension",
    "InittabRow",
    "LinkPlan",
    "PlannedExtension",
    "PlannedLibrary",
    "PlannedObject",
]

PLAN_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PlannedExtension:
    """A selected extension module. `init_fn` None means a NULL inittab row (builtins, sys)."""

    name: str
    variant: str
    init_fn: str | None
    in_core: bool
    required: bool
    licenses: tuple[str, ...] | None
    why: tuple[str, ...]


@dataclass(frozen=True)
class ExcludedExtension:
    """An extension the distribution offers that the plan leaves out, and the reason."""

    name: str
    reason: str


@dataclass(frozen=True)
class PlannedObject:
    path: str
    why: tuple[str, ...]


@dataclass(frozen=True)
class PlannedLibrary:
    """A library on the link line: `kind` is static/dynamic (`path` inside the distribution), system or
    framework (`path` None)."""

    name: str
    kind: str
    path: str | None
    why: tuple[str, ...]


@dataclass(frozen=True)
class InittabRow:
    name: str
    init_fn: str | None


@dataclass(frozen=True)
class LinkPlan:
    """One link of libpython plus chosen extensions into an executable (see module docstring).

    `platform` is linux, darwin or windows; `libc` gnu, musl, libSystem or msvc; `lto` is True when the
    objects are LLVM bitcode. `include_dir` and every path are relative to the distribution's `python/`.
    """

    python_version: str
    python_major_minor_version: str
    target_triple: str
    platform: str
    libc: str
    object_format: str
    producer_llvm: str | None
    lto: bool
    static_only: bool
    extensions_spec: str
    no_copyleft: bool
    no_libraries: bool
    export_dynamic: bool
    include_dir: str
    inittab_cflags: tuple[str, ...]
    extensions: tuple[PlannedExtension, ...]
    excluded: tuple[ExcludedExtension, ...]
    objects: tuple[PlannedObject, ...]
    libraries: tuple[PlannedLibrary, ...]
    schema_version: int = PLAN_SCHEMA_VERSION

    @property
    def extension_names(self) -> tuple[str, ...]:
        return tuple(ext.name for ext in self.extensions)

    @property
    def inittab(self) -> tuple[InittabRow, ...]:
        """The inittab rows, one per selected extension, sorted by name (what `sys.builtin_module_names` lists)."""
        return tuple(InittabRow(ext.name, ext.init_fn) for ext in self.extensions)

    @property
    def runtime_files(self) -> tuple[str, ...]:
        """Dynamic libraries (Windows DLLs) that must sit beside the executable at run time."""
        return tuple(lib.path for lib in self.libraries if lib.kind == "dynamic" and lib.path)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def to_json_text(self) -> str:
        """The plan as indented JSON with a trailing newline (deterministic: field order is fixed)."""
        return json.dumps(self.to_json(), indent=2) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinkPlan:
        """Rebuild a plan from `to_json` output."""
        items = {
            "extensions": PlannedExtension, "excluded": ExcludedExtension,
            "objects": PlannedObject, "libraries": PlannedLibrary,
        }
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data[f.name]
            if f.name in items:
                value = tuple(items[f.name](**_tuples(item)) for item in value)
            elif isinstance(value, list):
                value = tuple(value)
            values[f.name] = value
        return cls(**values)


def _tuples(item: dict[str, Any]) -> dict[str, Any]:
    return {key: tuple(value) if isinstance(value, list) else value for key, value in item.items()}
