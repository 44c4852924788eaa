"""Stage 2, toolchain: can the consumer's compilers and linkers read the distribution's objects?

Owns the pinned LLVM (`pin`, from toolchain/pin.json), what to install (`hints`: fitting a wheel or a
checkout), detecting consumers (clang, gcc, lld, GNU ld, rustc: `consumer`), reading what objects really
are (`objects`, `bitcode`), surveying a distribution's objects (`survey`), the verdict with its remedy
(`gate`), lowering bitcode to native objects (`lower`), and the target every compile and link is for,
with its glibc floor and C compiler driver (`target`).
Takes in: a `Distribution` and consumer tool names. Hands on: a `ToolchainReport`, or a lowered distribution.
Side effects: runs the consumer tools; `lower` writes the cache's `lowered/` folder.
"""

from __future__ import annotations

from relink.lazy import lazy_exports

_EXPORTS = {
    "find_pinned_tool": "pin",
    "install_hint": "hints",
    "pinned_toolchain": "pin",
    "ToolchainReport": "gate",
    "run_gate": "gate",
    "lower_distribution": "lower",
    "LinkTarget": "target",
    "link_target": "target",
    "parse_glibc": "target",
    "target_compiler": "target",
    "target_toolchain_file": "target",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
