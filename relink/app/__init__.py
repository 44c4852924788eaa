"""Stage 5, app: `relink build`, a single-file executable from a distribution and (optionally) an app.

Owns the build (`build`: plan, render, link, verify, strip, append the payload), the payload (`payload`:
which modules, data files and native modules the app reaches, compiled by the distribution's own
interpreter, stored in a zip), the stdlib zip embedding programs carry (`stdlib`, for `relink stdlib`),
the `worker` script that runs inside that interpreter to scan and compile, and the two modules embedded
in apps: `memload` (native modules loaded from memory) and `datafiles` (package data at `__file__` paths).
Takes in: a `Distribution`, a selection and an `AppSpec`. Hands on: the executable and its license report.
Side effects: the cache's `onefile/` and bytecode folders, the linked output beside OUT.
"""

from __future__ import annotations

from relink.lazy import lazy_exports

_EXPORTS = {
    "AppSpec": "payload",
    "BuildRequest": "build",
    "build_onefile": "build",
    "interpreter_magic": "build",
    "StdlibZip": "stdlib",
    "stdlib_zip": "stdlib",
    "stdlib_zip_name": "stdlib",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
