"""SPDX 2.3 documents (tag-value and JSON) for a `LicenseReport`.

This module owns mapping PYTHON.json's license ids onto SPDX: ids on the SPDX License List (the bundled
`spdx_license_ids.txt`, matched case-insensitively; deprecated `X+`/bare `GPL-2.0` forms mapped to
`-or-later`/`-only`) are used as they are; anything else, and public-domain components, become
`LicenseRef-…` ids whose extracted text is the component's license text. One package describes the
program, one per component, related by STATIC_LINK/DYNAMIC_LINK. Output is deterministic: the creation
time is `SOURCE_DATE_EPOCH` (or the Unix epoch) and the document namespace carries a hash of the content.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from relink import __version__
from relink.errors import ExitCode, RelinkError
from relink.report.licenses import LicenseComponent, LicenseReport

__all__ = ["SpdxDocument", "render_spdx_json", "render_spdx_tag_value", "spdx_document", "spdx_license_id"]

_NAMESPACE_PLACEHOLDER = "urn:relink:spdx:pending"


@functools.cache
def _listed_ids() -> dict[str, str]:
    text = resources.files("relink.report").joinpath("spdx_license_ids.txt").read_text(encoding="utf-8")
    ids = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {spdx.lower(): spdx for spdx in ids}


def _ref_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "unnamed"


def spdx_license_id(spdx: str) -> str | None:
    """The SPDX License List id for `spdx` as PYTHON.json writes it, or None if it is not on the list."""
    listed = _listed_ids()
    key = spdx.strip().lower()
    if key.endswith("+"):
        return listed.get(key[:-1] + "-or-later")
    return listed.get(key) or listed.get(key + "-only")


@dataclass(frozen=True)
class SpdxDocument:
    """An SPDX 2.3 document as plain data; `render_spdx_json`/`render_spdx_tag_value` serialise it."""

    name: str
    namespace: str
    created: str
    packages: tuple[dict[str, Any], ...]
    extracted: tuple[dict[str, str], ...]
    relationships: tuple[tuple[str, str, str], ...]


def _created() -> str:
    raw = os.environ.get("SOURCE_DATE_EPOCH", "0").strip() or "0"
    if not raw.isdigit() or len(raw) > 12 or int(raw) > 253402300799:  # up to 9999-12-31T23:59:59Z
        raise RelinkError(f"SOURCE_DATE_EPOCH must be a whole number of seconds up to year 9999, got {raw[:40]!r}",
                          ExitCode.USAGE)
    moment = datetime.datetime.fromtimestamp(int(raw), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _component_text(report: LicenseReport, component: LicenseComponent) -> str | None:
    texts = [report.texts[p] for p in component.license_paths if p in report.texts]
    return "\n\n".join(t.strip("\n") for t in texts) or None


def spdx_document(report: LicenseReport) -> SpdxDocument:
    extracted: dict[str, dict[str, str]] = {}

    def reference(spdx: str, component: LicenseComponent) -> str:
        listed = spdx_license_id(spdx)
        if listed:
            return listed
        ref = f"LicenseRef-{_ref_name(spdx)}"
        text = _component_text(report, component)
        entry = extracted.setdefault(ref, {"licenseId": ref, "name": spdx, "extractedText": ""})
        if text and text not in entry["extractedText"]:
            entry["extractedText"] = "\n\n".join(filter(None, (entry["extractedText"], text)))
        return ref

    def expression(component: LicenseComponent) -> str:
        refs = sorted({reference(spdx, component) for spdx in component.spdx_ids}, key=str.lower)
        if component.public_domain and not refs:
            ref = f"LicenseRef-PublicDomain-{_ref_name(component.key)}"
            text = _component_text(report, component) or f"{component.key} is in the public domain (PYTHON.json)."
            extracted[ref] = {"licenseId": ref, "name": f"{component.key} (public domain)", "extractedText": text}
            refs = [ref]
        return " AND ".join(refs) or "NOASSERTION"

    root_id = "SPDXRef-Package-program"
    packages: list[dict[str, Any]] = []
    relationships = [("SPDXRef-DOCUMENT", "DESCRIBES", root_id)]
    all_refs: set[str] = set()
    for component in report.components:
        spdx_id = f"SPDXRef-Package-{_ref_name(component.key)}"
        license_expression = expression(component)
        if license_expression != "NOASSERTION":
            all_refs.update(license_expression.split(" AND "))
        comment = f"pulled in by: {', '.join(component.pulled_in_by)}"
        if component.libraries:
            comment += f"; libraries: {', '.join(component.libraries)}"
        if component.joint_with:
            comment += f"; ids given jointly with: {', '.join(component.joint_with)}"
        package: dict[str, Any] = {"SPDXID": spdx_id, "name": component.key}
        if component.key == "cpython":
            package["versionInfo"] = report.python_version
        package.update(
            downloadLocation="NOASSERTION", filesAnalyzed=False, licenseConcluded=license_expression,
            licenseDeclared=license_expression, copyrightText="NOASSERTION", comment=comment,
        )
        packages.append(package)
        dynamic = component.libraries and all(lib.lower().endswith((".dll", ".so")) for lib in component.libraries)
        relationships.append((root_id, "DYNAMIC_LINK" if dynamic else "STATIC_LINK", spdx_id))
    for entry in extracted.values():
        if not entry["extractedText"]:
            entry["extractedText"] = (
                f"The license {entry['name']!r} is not on the SPDX License List and its text is not in the "
                "distribution."
            )
    root = {
        "SPDXID": root_id, "name": f"{report.name}-relinked", "versionInfo": report.python_version,
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
        "licenseConcluded": " AND ".join(sorted(all_refs, key=str.lower)) or "NOASSERTION",
        "licenseDeclared": "NOASSERTION", "copyrightText": "NOASSERTION",
        "comment": f"libpython and extension modules: {', '.join(report.extensions) or '(none)'}",
    }
    document = SpdxDocument(
        name=f"{report.name}-licenses",
        namespace=_NAMESPACE_PLACEHOLDER,
        created=_created(),
        packages=(root, *packages),
        extracted=tuple(extracted[key] for key in sorted(extracted)),
        relationships=tuple(relationships),
    )
    digest = hashlib.sha256(_json_text(document).encode("utf-8")).hexdigest()
    return SpdxDocument(
        name=document.name, namespace=f"urn:relink:spdx:{document.name}:{digest}", created=document.created,
        packages=document.packages, extracted=document.extracted, relationships=document.relationships,
    )


def _json_text(document: SpdxDocument) -> str:
    data = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": document.name,
        "documentNamespace": document.namespace,
        "creationInfo": {"created": document.created, "creators": [f"Tool: relink-{__version__}"]},
        "documentDescribes": ["SPDXRef-Package-program"],
        "packages": list(document.packages),
        "hasExtractedLicensingInfos": list(document.extracted),
        "relationships": [
            {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}
            for a, kind, b in document.relationships
            if kind != "DESCRIBES"
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_spdx_json(report: LicenseReport) -> str:
    return _json_text(spdx_document(report))


def _text_block(text: str) -> str:
    # `</text>` would end the block early; it does not occur in real license texts, but never let it.
    return "<text>" + text.replace("</text>", "</ text>") + "</text>"


_TAG_NAMES = {
    "SPDXID": "SPDXID", "name": "PackageName", "versionInfo": "PackageVersion",
    "downloadLocation": "PackageDownloadLocation", "filesAnalyzed": "FilesAnalyzed",
    "licenseConcluded": "PackageLicenseConcluded", "licenseDeclared": "PackageLicenseDeclared",
    "copyrightText": "PackageCopyrightText", "comment": "PackageComment",
}


def render_spdx_tag_value(report: LicenseReport) -> str:
    document = spdx_document(report)
    lines = [
        "SPDXVersion: SPDX-2.3",
        "DataLicense: CC0-1.0",
        "SPDXID: SPDXRef-DOCUMENT",
        f"DocumentName: {document.name}",
        f"DocumentNamespace: {document.namespace}",
        f"Creator: Tool: relink-{__version__}",
        f"Created: {document.created}",
    ]
    for package in document.packages:
        lines.append("")
        # PackageName must open a package section.
        for key in ("name", *(k for k in package if k != "name")):
            value = package[key]
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif key == "comment":
                value = _text_block(value)
            lines.append(f"{_TAG_NAMES[key]}: {value}")
    for entry in document.extracted:
        lines += [
            "",
            f"LicenseID: {entry['licenseId']}",
            f"ExtractedText: {_text_block(entry['extractedText'])}",
            f"LicenseName: {entry['name']}",
        ]
    lines.append("")
    lines += [f"Relationship: {a} {kind} {b}" for a, kind, b in document.relationships]
    return "\n".join(lines) + "\n"
