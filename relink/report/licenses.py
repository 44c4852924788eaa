"""What the licenses of a linked selection are: one component per license, the extensions that pulled it
in, its SPDX ids (combined with AND), public-domain flags, the full texts, and copyleft detection.

PYTHON.json gives licenses per *extension* (`licenses`, `license_paths`, `license_public_domain`), not per
bundled library. This module owns turning that into components: one for CPython and one per license file
(OpenSSL, SQLite, zlib, …), with the static/dynamic libraries (`path_static`/`path_dynamic` link entries)
attributed to each. Code CPython vendors into its own objects (zlib in the Windows core, expat, mpdecimal,
HACL*) has no license entry in PBS's metadata: it is recognised by relink.plan's table of vendored
components and given its terms from there and its text from the archive's `licenses/` when present, with a
note either way; a linked library without any known license is reported as `lib:<name>`, never dropped. Attribution is worked out over the whole distribution, so a component looks the same
whatever else is selected: an extension with one license file owns its libraries and ids outright; an
extension with several is resolved from what the others already pinned and then by name (`libbsd.a` ↔
`LICENSE.libbsd.txt`); whatever stays ambiguous is given to the remaining components *jointly* (stated in
the report, never guessed). All of an extension's licenses apply (AND), never OR (pbs-format §3, §6).
It also renders the readable `LICENSES.txt` and the JSON form; SPDX documents live in `relink.report.spdx`.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from relink.errors import ExitCode, RelinkError
from relink.json_output import SCHEMA_VERSION
from relink.plan import COPYLEFT_FAMILIES, is_copyleft, vendored_component
from relink.support import atomic_write_bytes

if TYPE_CHECKING:
    from relink.distribution import Distribution, ExtensionVariant, PythonJson
    from relink.plan import LinkPlan

__all__ = [
    "COPYLEFT_FAMILIES",
    "LICENSES_FILE_NAME",
    "CopyleftFinding",
    "ExtensionLicense",
    "LicenseComponent",
    "LicenseReport",
    "and_expression",
    "component_key",
    "copyleft_extensions",
    "copyleft_ids",
    "find_copyleft",
    "is_copyleft",
    "license_report",
    "license_report_from_plan",
    "render_json",
    "render_text",
    "report_to_json",
    "write_license_report",
]

LICENSES_FILE_NAME = "LICENSES.txt"

# --------------------------------------------------------------------------------------------------
# SPDX ids: AND expressions and copyleft detection

def copyleft_ids(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({spdx for spdx in ids if is_copyleft(spdx)}))


def and_expression(ids: Iterable[str]) -> str | None:
    """`"Apache-2.0 AND MIT"`: every id applies. Compound ids (with OR) are parenthesised; None if empty."""
    unique = sorted({spdx.strip() for spdx in ids if spdx.strip()}, key=str.lower)
    parts = [f"({spdx})" if " OR " in spdx or " AND " in spdx else spdx for spdx in unique]
    return " AND ".join(parts) or None


# --------------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class LicenseComponent:
    """One licensed part of the binary. `key` is "cpython", a license file's stem ("openssl-3") or
    "lib:<name>" for a bundled library the metadata gives no license for. `libraries` are
    PYTHON.json-relative paths; `pulled_in_by` names extensions, or "core" for libpython itself;
    `joint_with` names components whose ids PYTHON.json only gives together with this one's; `objects`
    are the linked objects compiled from its code (CPython's own, or vendored code such as expat), so every
    linked object belongs to exactly one component."""

    key: str
    spdx_ids: tuple[str, ...]
    public_domain: bool
    license_paths: tuple[str, ...]
    libraries: tuple[str, ...]
    pulled_in_by: tuple[str, ...]
    joint_with: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()

    @property
    def spdx_expression(self) -> str | None:
        return and_expression(self.spdx_ids)

    @property
    def copyleft(self) -> tuple[str, ...]:
        return copyleft_ids(self.spdx_ids)


@dataclass(frozen=True)
class ExtensionLicense:
    """A selected extension that bundles third-party code, as PYTHON.json states it (ids all apply)."""

    name: str
    spdx_ids: tuple[str, ...]
    public_domain: bool
    components: tuple[str, ...]

    @property
    def spdx_expression(self) -> str | None:
        return and_expression(self.spdx_ids)


@dataclass(frozen=True)
class CopyleftFinding:
    """Extension `extension` links component `component`, licensed (among others) under copyleft `ids`."""

    extension: str
    component: str
    ids: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.extension}: links {self.component} under {', '.join(self.ids)} (copyleft)"


@dataclass(frozen=True)
class LicenseReport:
    """The licenses of libpython plus `extensions`. `texts` maps license paths to their text (those the
    distribution has); `notes` say what could not be established (missing texts, joint attributions)."""

    python_version: str
    target_triple: str
    extensions: tuple[str, ...]
    extension_licenses: tuple[ExtensionLicense, ...]
    components: tuple[LicenseComponent, ...]
    texts: Mapping[str, str]
    notes: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"cpython-{self.python_version}-{self.target_triple}"

    @property
    def spdx_expression(self) -> str | None:
        """What the whole binary is under: every component's ids, joined with AND."""
        return and_expression(spdx for component in self.components for spdx in component.spdx_ids)

    def component(self, key: str) -> LicenseComponent:
        return next(c for c in self.components if c.key == key)


def find_copyleft(report: LicenseReport) -> tuple[CopyleftFinding, ...]:
    """Every (extension, component) pair of the report that brings copyleft terms into the binary."""
    return tuple(
        CopyleftFinding(extension, component.key, component.copyleft)
        for component in report.components
        if component.copyleft
        for extension in component.pulled_in_by
    )


def copyleft_extensions(metadata: PythonJson, names: Iterable[str] | None = None) -> Mapping[str, tuple[str, ...]]:
    """For the planner's `--no-copyleft`: extension name → its copyleft SPDX ids, for those (of `names`,
    default all) with any. An extension is copyleft when ANY of its ids is: they all apply (AND)."""
    wanted = set(metadata.build_info.extensions) if names is None else set(names)
    found = {}
    for name in sorted(wanted & set(metadata.build_info.extensions)):
        ids = copyleft_ids(spdx for v in metadata.build_info.extensions[name] for spdx in v.licenses or ())
        if ids:
            found[name] = ids
    return MappingProxyType(found)


# --------------------------------------------------------------------------------------------------
# Attribution of libraries and ids to license files (over the whole distribution)


def _bundled(variant: ExtensionVariant) -> tuple[str, ...]:
    """The variant's libraries that come from the distribution (static archives, Windows DLLs)."""
    return tuple(dict.fromkeys(link.path for link in variant.links if link.kind in ("static", "dynamic") and link.path))


def component_key(license_path: str) -> str:
    """`licenses/LICENSE.openssl-3.txt` → `openssl-3`."""
    stem = posixpath.basename(license_path)
    stem = re.sub(r"^(LICENSE|COPYING)[._-]?", "", stem, flags=re.IGNORECASE)
    stem = re.sub(r"\.(txt|md|rst)$", "", stem, flags=re.IGNORECASE)
    return stem or license_path


def _short(name: str) -> str:
    """`build/lib/libsqlite3.a` and `licenses/LICENSE.sqlite.txt` both → a comparable word."""
    word = posixpath.basename(name).lower()
    word = re.sub(r"\.(a|lib|dll|so)$", "", word)
    return re.sub(r"^lib", "", word)


def _name_match(library: str, license_path: str) -> bool:
    lib, lic = _short(library), _short(component_key(license_path))
    return bool(lib and lic) and (lib == lic or lib.startswith(lic) or lic.startswith(lib))


@dataclass
class _Attribution:
    library_paths: dict[str, tuple[str, ...]]   # library → license paths
    ids: dict[str, frozenset[str]]              # license path → SPDX ids
    public_domain: set[str]
    joint: dict[str, set[str]]                  # license path → the paths it shares ids with


def _attribute(variants: list[ExtensionVariant]) -> _Attribution:
    with_paths = [v for v in variants if v.license_paths]
    library_paths: dict[str, tuple[str, ...]] = {}
    ids: dict[str, frozenset[str]] = {}
    for variant in with_paths:
        if len(variant.license_paths or ()) == 1:
            (path,) = variant.license_paths or ()
            ids[path] = ids.get(path, frozenset()) | frozenset(variant.licenses or ())
            for library in _bundled(variant):
                library_paths.setdefault(library, (path,))

    def settle() -> bool:
        changed = False
        for variant in with_paths:
            paths = variant.license_paths or ()
            unknown = [p for p in paths if p not in ids]
            rest = frozenset(variant.licenses or ()) - frozenset().union(*(ids[p] for p in paths if p in ids))
            # Nothing left over means public domain only if the metadata says so; otherwise the ids
            # overlap with the other files' and cannot be told apart (handled jointly below).
            if len(unknown) == 1 and (rest or variant.license_public_domain):
                ids[unknown[0]] = rest
                changed = True
            libraries = [lib for lib in _bundled(variant) if lib not in library_paths]
            free = [p for p in paths if not any(p in library_paths.get(lib, ()) for lib in _bundled(variant))]
            if libraries and len(free) == 1:
                library_paths.update({lib: (free[0],) for lib in libraries})
                changed = True
            elif libraries:
                for lib in libraries:
                    matches = [p for p in free if _name_match(lib, p)]
                    if len(matches) == 1:
                        library_paths[lib] = (matches[0],)
                        changed = True
        return changed

    while settle():
        pass
    # What settling could not split: each remaining file gets all the ids its extension leaves unexplained
    # (or all of them, when those overlap entirely), named as joint with its partners. This can overstate
    # one library's terms, never understate the binary's.
    settled = dict(ids)
    joint: dict[str, set[str]] = {}
    for variant in with_paths:
        paths = variant.license_paths or ()
        unknown = [p for p in paths if p not in settled]
        if not unknown:
            continue
        licenses = frozenset(variant.licenses or ())
        rest = licenses - frozenset().union(*(settled[p] for p in paths if p in settled)) or licenses
        partners = unknown if len(unknown) > 1 else list(paths)
        for path in unknown:
            joint.setdefault(path, set()).update(p for p in partners if p != path)
            ids[path] = ids.get(path, frozenset()) | rest
        free = [p for p in paths if not any(p in library_paths.get(lib, ()) for lib in _bundled(variant))]
        for lib in _bundled(variant):
            library_paths.setdefault(lib, tuple(free or paths))
    public_domain: set[str] = set()
    for variant in with_paths:
        if variant.license_public_domain:
            paths = variant.license_paths or ()
            empty = [p for p in paths if not ids.get(p)]
            public_domain.update(empty or (paths if len(paths) == 1 else ()))
    return _Attribution(library_paths, ids, public_domain, joint)


# --------------------------------------------------------------------------------------------------
# Building a report


def _pick_variant(metadata: PythonJson, name: str, variant: str | None) -> ExtensionVariant:
    variants = metadata.build_info.extensions.get(name)
    if not variants:
        raise RelinkError(
            f"unknown extension {name!r}: this distribution has no such module "
            "(`relink extensions DIST` lists them)",
            ExitCode.USAGE,
        )
    for candidate in variants:
        if candidate.variant == (variant or "default"):
            return candidate
    if variant:
        raise RelinkError(f"extension {name!r} has no variant {variant!r}", ExitCode.USAGE)
    return variants[0]


def _read_texts(dist: Distribution, paths: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    paths = sorted(set(paths))
    texts: dict[str, str] = {}
    notes: list[str] = []
    if dist.is_metadata_only:
        if paths:
            notes.append(f"{len(paths)} license texts not read: a bare PYTHON.json has no files")
        return texts, notes
    folders = sorted({posixpath.dirname(p) or p for p in paths})
    try:
        dist.extract(folders)   # one pass over an archive for every license file
    except RelinkError:
        pass                    # a folder the archive lacks: each missing file is noted below
    for path in paths:
        try:
            texts[path] = dist.path(path).read_bytes().decode("utf-8", errors="replace")
        except (RelinkError, OSError):
            notes.append(
                f"{path}: named by PYTHON.json but missing from the distribution (pbs-format §4.6); "
                "get this text from the upstream project before shipping"
            )
    return texts, notes


def license_report(
    dist: Distribution, extensions: Iterable[str], variants: Mapping[str, str] | None = None
) -> LicenseReport:
    """The license report for libpython plus the named extensions (`variants` picks non-default ones)."""
    metadata = dist.metadata
    names = sorted(set(extensions))
    selected = [_pick_variant(metadata, name, (variants or {}).get(name)) for name in names]
    attribution = _attribute(list(metadata.build_info.variants()))
    notes: list[str] = []

    parts: dict[str, dict[str, Any]] = {}

    def part(key: str, paths: tuple[str, ...]) -> dict[str, Any]:
        return parts.setdefault(key, {"paths": paths, "libraries": set(), "by": set(), "ids": set(), "pd": False})

    core_libs = {link.path for link in metadata.build_info.core.links if link.path}
    cpython = part("cpython", (metadata.license_path,) if metadata.license_path else ())
    cpython.update(ids=set(metadata.licenses or ()), libraries=core_libs, by={"core"})
    if metadata.licenses is None:
        notes.append("PYTHON.json names no licenses for CPython itself")

    license_dir = posixpath.dirname(metadata.license_path) if metadata.license_path else "licenses"
    vendored: dict[str, tuple[Any, set[str]]] = {}
    objects: dict[str, set[str]] = {}   # component key → the linked objects compiled from its code

    def find_vendored(owner: str, objs: Iterable[str]) -> set[str]:
        found = set()
        for obj in objs:
            component = vendored_component(owner, obj)
            objects.setdefault(component.key if component else "cpython", set()).add(obj)
            if component is not None:
                vendored.setdefault(component.key, (component, set()))[1].add(owner)
                found.add(component.key)
        return found

    find_vendored("core", metadata.build_info.core.objs)
    extension_licenses = []
    for variant in selected:
        keys: set[str] = find_vendored(variant.name, variant.objs)
        for path in variant.license_paths or ():
            entry = part(component_key(path), (path,))
            entry["by"].add(variant.name)
            entry["ids"] |= attribution.ids.get(path, frozenset())
            entry["pd"] = entry["pd"] or path in attribution.public_domain
            keys.add(component_key(path))
        for library in _bundled(variant):
            paths = attribution.library_paths.get(library, ())
            for path in paths:
                part(component_key(path), (path,))["libraries"].add(library)
            if not paths:
                key = f"lib:{_short(library)}"
                entry = part(key, ())
                entry["libraries"].add(library)
                entry["by"].add(variant.name)
                keys.add(key)
                notes.append(f"{library} (linked by {variant.name}) has no license in PYTHON.json")
        if variant.licenses and not keys:
            entry = part(f"ext:{variant.name}", ())
            entry["ids"] |= set(variant.licenses)
            entry["by"].add(variant.name)
            keys.add(f"ext:{variant.name}")
            notes.append(f"{variant.name}: PYTHON.json gives licenses {list(variant.licenses)} but no license file")
        if keys or variant.licenses or variant.license_public_domain:
            extension_licenses.append(
                ExtensionLicense(
                    variant.name, tuple(sorted(set(variant.licenses or ()))),
                    bool(variant.license_public_domain), tuple(sorted(keys)),
                )
            )

    for key, (component, owners) in sorted(vendored.items()):
        known = parts.get(key)
        if known is not None and known["paths"] and owners <= known["by"]:
            continue  # PYTHON.json already attributes it (e.g. the zlib extension's libz.a on Linux)
        candidate = f"{license_dir}/LICENSE.{key}.txt"
        has_text = bool(known and known["paths"]) or (
            not dist.is_metadata_only and not dist.missing_files([candidate])
        )
        entry = part(key, (candidate,) if has_text else ())
        entry["by"] |= owners
        entry["ids"] |= set(component.spdx_ids)
        where = ", ".join(sorted(owners, key=lambda o: (o != "core", o)))
        if entry["paths"]:
            text = f"its text is {entry['paths'][0]}"
        else:
            lacks = "a bare PYTHON.json cannot tell whether the archive has" if dist.is_metadata_only else (
                "the distribution has no")
            text = f"{lacks} {candidate}: get the text from {component.upstream} before shipping"
        notes.append(
            f"{key}: compiled into {where} from code CPython vendors; PYTHON.json gives it no license, so its "
            f"terms ({' AND '.join(component.spdx_ids)}) come from relink's table; {text}"
        )

    def joint_with(entry: dict[str, Any]) -> tuple[str, ...]:
        return tuple(sorted({component_key(p) for path in entry["paths"] for p in attribution.joint.get(path, ())}))

    for key, entry in sorted(parts.items()):
        joint = joint_with(entry)
        if joint:
            notes.append(
                f"{key}: PYTHON.json gives its SPDX ids only together with {', '.join(joint)}; "
                "all of them are listed for each"
            )
    texts, text_notes = _read_texts(dist, (p for entry in parts.values() for p in entry["paths"]))
    components = tuple(
        LicenseComponent(
            key=key,
            spdx_ids=tuple(sorted(entry["ids"], key=str.lower)),
            public_domain=entry["pd"],
            license_paths=entry["paths"],
            libraries=tuple(sorted(entry["libraries"])),
            pulled_in_by=tuple(sorted(entry["by"], key=lambda b: (b != "core", b))),
            joint_with=joint_with(entry),
            objects=tuple(sorted(objects.get(key, ()))),
        )
        # CPython first, then the libraries by name.
        for key, entry in sorted(parts.items(), key=lambda item: (item[0] != "cpython", item[0]))
    )
    return LicenseReport(
        python_version=metadata.python_version,
        target_triple=metadata.target_triple,
        extensions=tuple(names),
        extension_licenses=tuple(extension_licenses),
        components=components,
        texts=MappingProxyType(texts),
        notes=tuple(sorted(set(notes))) + tuple(text_notes),
    )


def license_report_from_plan(dist: Distribution, plan: LinkPlan) -> LicenseReport:
    """The report for what a link plan selected (its extensions and their chosen variants)."""
    return license_report(
        dist, plan.extension_names, {ext.name: ext.variant for ext in plan.extensions}
    )


# --------------------------------------------------------------------------------------------------
# Readable text and JSON


def report_to_json(report: LicenseReport) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "name": report.name,
        "python_version": report.python_version,
        "target_triple": report.target_triple,
        "extensions": list(report.extensions),
        "spdx_expression": report.spdx_expression,
        "components": [
            {
                "key": c.key,
                "spdx_ids": list(c.spdx_ids),
                "spdx_expression": c.spdx_expression,
                "public_domain": c.public_domain,
                "copyleft": list(c.copyleft),
                "license_paths": list(c.license_paths),
                "libraries": list(c.libraries),
                "objects": list(c.objects),
                "pulled_in_by": list(c.pulled_in_by),
                "joint_with": list(c.joint_with),
            }
            for c in report.components
        ],
        "extension_licenses": [
            {
                "name": e.name,
                "spdx_ids": list(e.spdx_ids),
                "spdx_expression": e.spdx_expression,
                "public_domain": e.public_domain,
                "components": list(e.components),
            }
            for e in report.extension_licenses
        ],
        "copyleft": [
            {"extension": f.extension, "component": f.component, "ids": list(f.ids)} for f in find_copyleft(report)
        ],
        "notes": list(report.notes),
        "texts": dict(sorted(report.texts.items())),
    }


def render_json(report: LicenseReport) -> str:
    return json.dumps(report_to_json(report), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _describe(component: LicenseComponent) -> str:
    terms = component.spdx_expression or ("public domain" if component.public_domain else "no license metadata")
    if component.spdx_expression and component.public_domain:
        terms += " (parts public domain)"
    return terms


def render_text(report: LicenseReport) -> str:
    """`LICENSES.txt`: what the binary contains and under which terms, then every license text in full."""
    rule = "=" * 78
    lines = [
        f"Third-party licenses of a program built from {report.name} by relink",
        "",
        f"The program contains CPython and the code linked for {len(report.extensions)} extension modules.",
        "All of the terms below apply together (AND):",
        f"  {report.spdx_expression or 'unknown'}",
        "",
        "Components:",
    ]
    for component in report.components:
        lines.append(f"  {component.key}: {_describe(component)}")
        lines.append(f"    pulled in by: {', '.join(component.pulled_in_by) or '-'}")
        if component.libraries:
            lines.append(f"    libraries: {', '.join(component.libraries)}")
        if component.objects:
            lines.append(f"    objects: {len(component.objects)} ({component.objects[0]}{', …' if len(component.objects) > 1 else ''})")
        if component.copyleft:
            lines.append(f"    copyleft: {', '.join(component.copyleft)}")
        if component.joint_with:
            lines.append(f"    ids given jointly with: {', '.join(component.joint_with)}")
    if report.notes:
        lines += ["", "Notes:"] + [f"  - {note}" for note in report.notes]
    for component in report.components:
        for path in component.license_paths:
            lines += ["", rule, f"{component.key} ({path})", rule, ""]
            text = report.texts.get(path)
            lines.append(text.rstrip("\n") if text is not None else "[text missing from the distribution]")
    return "\n".join(lines) + "\n"


def write_license_report(report: LicenseReport, directory: str | Path, name: str = LICENSES_FILE_NAME) -> Path:
    """Write the text report as `name` (default LICENSES.txt) into `directory`, atomically; returns its path.
    `relink build` calls this with `<output>.LICENSES.txt` so several outputs can share a folder."""
    target = Path(directory) / name
    atomic_write_bytes(target, render_text(report).encode("utf-8"))
    return target
