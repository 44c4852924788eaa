"""Stage 4, render: a `LinkPlan` turned into build inputs for the consumer's build.

Owns the pure renderers — inittab `config.c`, `main.c`, CMakeLists.txt, linker response files, Cargo and
PyO3 configuration (`files`, `linkargs`; the output formats and their files in `formats`) — and writing
them as a project (`project`).
Takes in: a `LinkPlan` and its `Distribution`. Hands on: files, or linker arguments on stdout.
Side effects (`project` only): extracts the plan's files, compiles config.c, publishes the output folder.
"""

from __future__ import annotations

from relink.lazy import lazy_exports

_EXPORTS = {
    "FORMATS": "formats",
    "FORMAT_FILES": "formats",
    "expand_formats": "formats",
    "cargo_lines": "linkargs",
    "gnu_link_args": "linkargs",
    "pyo3_config_lines": "linkargs",
    "MANIFEST": "project",
    "inittab_object": "project",
    "python_dir_for": "project",
    "python_library": "project",
    "render_project": "project",
    "require_plan_files": "project",
    "resolve_windows_dlls": "project",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
