"""Where python-build-standalone releases are published, and the variable naming a mirror of them.

Kept apart from `fetch` (which downloads from them) so that `relink fetch`'s parser gets the names
without importing the download code.
"""

from __future__ import annotations

__all__ = ["MIRROR_ENV", "GITHUB_DOWNLOADS", "GITHUB_LATEST_POINTER"]

MIRROR_ENV = "RELINK_PBS_MIRROR"
GITHUB_DOWNLOADS = "https://github.com/astral-sh/python-build-standalone/releases/download"
GITHUB_LATEST_POINTER = (
    "https://raw.githubusercontent.com/astral-sh/python-build-standalone/latest-release/latest-release.json"
)
