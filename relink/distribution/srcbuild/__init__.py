"""Building a PBS-format full archive from CPython source (`relink dist build`).

`source` finds and checks the source tarball, `setup_files` writes and reads CPython's Setup files,
`libraries` decides how each linked library is shipped and licensed, `build` runs configure/make/install
with logs and caching, `metadata` writes PYTHON.json, and `package` writes the deterministic tar.zst.
"""

from __future__ import annotations

from relink.distribution.srcbuild.build import BuildOptions, build_distribution, default_distribution

__all__ = ["BuildOptions", "build_distribution", "default_distribution"]
