"""relink: relink python-build-standalone full archives into custom executables.

The package reads PBS-format distributions, plans which objects and libraries a link needs, renders
build inputs (CMake, linker arguments, Cargo/PyO3 configuration) and builds single-file interpreters.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
