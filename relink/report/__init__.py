"""Stage 6, report: what was linked, under which licenses, and whether the binary is what the plan says.

Owns license reports per selection (`licenses`) with SPDX 2.3 output (`spdx`), reading built binaries
(`binary_info`, through lief) and checking them against a plan (`verify`).
Takes in: a `LinkPlan` and a built binary. Hands on: reports (text, JSON, SPDX) and a verdict.
Side effects: writes license files only where asked.
"""

from __future__ import annotations

from relink.lazy import lazy_exports

_EXPORTS = {
    "license_report_from_plan": "licenses",
    "render_json": "licenses",
    "render_text": "licenses",
    "write_license_report": "licenses",
    "render_spdx_json": "spdx",
    "render_spdx_tag_value": "spdx",
    "Expectations": "verify",
    "VerifyReport": "verify",
    "expectations_from_plan": "verify",
    "load_plan_expectations": "verify",
    "parse_glibc_version": "verify",
    "verify_binary": "verify",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
