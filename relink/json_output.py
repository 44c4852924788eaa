"""The JSON documents relink prints (`--json`, `licenses --format json`, build's progress lines).

Every one is an object whose first key is `schema_version`: its layout's version, raised when a key is
removed or changes meaning (adding a key does not raise it). The link plan keeps its own
`schema_version` (`relink.plan`'s PLAN_SCHEMA_VERSION), since plan.json files are read back.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SCHEMA_VERSION", "versioned", "dumps"]

SCHEMA_VERSION = 1


def versioned(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with `schema_version` first."""
    return {"schema_version": SCHEMA_VERSION, **document}


def dumps(document: dict[str, Any], **options: Any) -> str:
    """`versioned(document)` as JSON text (indented by 2 unless `indent` is given)."""
    options.setdefault("indent", 2)
    return json.dumps(versioned(document), **options)
