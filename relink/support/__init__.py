"""Shared plumbing every stage uses: the cache, progress output and running CMake.

Owns the cache folder, its locks and atomic publishing (`cache`), its size, pruning and cleaning
(`cache_manage`), the output-is-not-an-input check (`outputs`), tools that end with relink (`processes`),
byte and step progress on stderr (`progress`, `steps`), external commands echoed with -v, logged and
followed by a live status line (`runner`), and CMake + Ninja runs (`cmake_runner`). Knows nothing about
Python.
"""

from __future__ import annotations

from relink.lazy import lazy_exports

_EXPORTS = {
    "atomic_write_bytes": "cache",
    "cache_location": "cache",
    "cache_root": "cache",
    "touch_entry": "cache",
    "clean_cache": "cache_manage",
    "prune_cache": "cache_manage",
    "LiveStatus": "runner",
    "announce": "runner",
    "run_logged": "runner",
    "set_verbose": "runner",
    "entry_lock": "cache",
    "publish_dir": "cache",
    "scratch_dir": "cache",
    "sha256_file": "cache",
    "staging_dir": "cache",
    "configure_and_build": "cmake_runner",
    "refuse_overwriting_inputs": "outputs",
    "run_tool": "processes",
    "ByteProgress": "progress",
    "human_bytes": "progress",
    "StepReporter": "steps",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
