"""Stage 3, plan: which extensions, objects and libraries a link needs, and why. Pure: no I/O.

Owns the `LinkPlan` model (`model`), turning a selection spec such as `minimal,+_ssl` into one
(`selection`; the spec's vocabulary and help text are in `presets`, light enough for any parser), and
the rules it applies: presets, third-party and copyleft libraries, the code CPython vendors (`policy`).
Takes in: a `Distribution`'s metadata and the user's selection. Hands on: a `LinkPlan` to the renderers.
"""

from __future__ import annotations

from relink.lazy import lazy_exports

_EXPORTS = {
    "LinkPlan": "model",
    "PlannedLibrary": "model",
    "COPYLEFT_FAMILIES": "policy",
    "is_copyleft": "policy",
    "VENDORED_COMPONENTS": "policy",
    "vendored_component": "policy",
    "windows_import_library": "policy",
    "DEFAULT_SPEC": "presets",
    "SELECTION_HELP": "presets",
    "make_plan": "selection",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
