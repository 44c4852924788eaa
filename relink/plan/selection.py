"""Extension selection: from a preset, `+name`/`-name` edits and filters to a `LinkPlan`.

This module owns `make_plan`, the one pure function between a distribution's metadata and every
renderer: it parses an extensions spec (`minimal,+_json,+zlib,-readline`), applies the presets and the
`--no-copyleft`/`--no-libraries` filters, picks a variant per extension, closes over objects one
extension borrows from another, deduplicates objects and libraries, and records why each item is there.
Policy tables (bootstrap modules, copyleft licenses, baseline system libraries) live in relink.plan.policy.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from relink.distribution import Distribution, ExtensionVariant, LinkEntry, PythonJson
from relink.errors import ExitCode, RelinkError
from relink.plan.model import ExcludedExtension, LinkPlan, PlannedExtension, PlannedLibrary, PlannedObject
from relink.plan.policy import (
    bootstrap_modules,
    borrowed_objects,
    copyleft_licenses,
    is_baseline_link,
    is_test_module,
    unannotated_link,
    vendored_component,
    windows_import_library,
)
from relink.plan.presets import DEFAULT_SPEC, PRESETS
from relink.plan.safety import LIBRARY_NAME, check_plan_values

__all__ = ["ExtensionsSpec", "parse_extensions_spec", "make_plan"]


def _usage(message: str) -> RelinkError:
    return RelinkError(message, ExitCode.USAGE)


@dataclass(frozen=True)
class ExtensionsSpec:
    """A parsed `--extensions` value: a preset, names to add (with an optional variant), names to remove."""

    preset: str
    added: Mapping[str, str | None]
    removed: tuple[str, ...]
    text: str


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_extensions_spec(text: str, known: Mapping[str, tuple[ExtensionVariant, ...]]) -> ExtensionsSpec:
    """Parse `minimal,+_json,-readline` against the distribution's extension names; RelinkError(USAGE)
    for an unknown preset or name, a misplaced preset, or contradictory edits."""
    tokens = [token.strip() for token in text.split(",") if token.strip()]
    preset = DEFAULT_SPEC
    if tokens and tokens[0] in PRESETS:
        preset = tokens.pop(0)
    elif tokens and tokens[0][0] not in "+-" and tokens[0] not in known:
        # A bare first word that is neither a preset nor an extension: say which it was meant to be.
        word = tokens[0]
        raise _usage(f"unknown preset or extension '{word}'{_did_you_mean(word, [*PRESETS, *known])}; "
                     f"presets are {', '.join(PRESETS)}")
    elif tokens:
        preset = "none"
    added: dict[str, str | None] = {}
    removed: list[str] = []
    for token in tokens:
        if token in PRESETS:
            raise _usage(f"preset '{token}' must come first in --extensions '{text}'")
        sign, body = (token[0], token[1:]) if token[0] in "+-" else ("+", token)
        name, _, variant = body.partition(":")
        if name not in known:
            raise _usage(f"unknown extension '{name}'{_did_you_mean(name, list(known))}: "
                         "'relink extensions DIST' lists them")
        if sign == "-":
            if variant:
                raise _usage(f"'-{name}:{variant}' removes an extension; a variant makes no sense there")
            removed.append(name)
        else:
            added[name] = variant or added.get(name)
    for name in removed:
        if name in added:
            raise _usage(f"contradictory edits in --extensions: both +{name} and -{name}")
    return ExtensionsSpec(preset=preset, added=added, removed=tuple(removed), text=text)


def _platform(meta: PythonJson) -> tuple[str, str]:
    triple = meta.target_triple
    if "windows" in triple:
        return "windows", "msvc"
    if "apple" in triple or "darwin" in triple:
        return "darwin", "libSystem"
    return "linux", "musl" if "musl" in triple or meta.crt_features.libc == "musl" else "gnu"


def _pick_variant(name: str, variants: tuple[ExtensionVariant, ...], wanted: str | None) -> ExtensionVariant:
    if wanted is None:
        return next((v for v in variants if v.variant == "default"), variants[0])
    for variant in variants:
        if variant.variant == wanted:
            return variant
    offered = ", ".join(v.variant for v in variants)
    raise _usage(f"extension '{name}' has no variant '{wanted}' (it has: {offered})")


def _unlinkable(variant: ExtensionVariant, static_only: bool) -> str | None:
    """Why `variant` cannot be linked into an executable, or None."""
    if not variant.in_core and not variant.objs:
        where = f" ({variant.shared_lib})" if variant.shared_lib else ""
        target = "; this target loads extensions only as builtins" if static_only else ""
        return f"shared-only: no objects to link, only a shared library{where}{target}"
    for link in variant.links:
        if not LIBRARY_NAME.fullmatch(link.name):
            return f"its link entry '{link.name}' is not a library name (a PYTHON.json bug)"
    return None


def _foreign_link(variant: ExtensionVariant, platform: str, allow_static: bool) -> LinkEntry | None:
    for link in variant.links:
        if is_baseline_link(link, platform) or (allow_static and link.kind == "static"):
            continue
        return link
    return None


def _describe_link(link: LinkEntry) -> str:
    return {
        "system": f"system library {link.name}",
        "framework": f"framework {link.name}",
        "static": f"static library {link.name} ({link.path})",
        "dynamic": f"dynamic library {link.name} ({link.path}, must ship beside the executable)",
    }[link.kind]


class _Selector:
    """One selection in progress: chosen variants and why, and the reasons for what is left out."""

    def __init__(self, meta: PythonJson, platform: str, static_only: bool) -> None:
        self.meta = meta
        self.platform = platform
        self.static_only = static_only
        self.chosen: dict[str, tuple[ExtensionVariant, list[str]]] = {}
        self.excluded: dict[str, str] = {}

    def choose(self, variant: ExtensionVariant, why: str) -> None:
        self.excluded.pop(variant.name, None)
        entry = self.chosen.setdefault(variant.name, (variant, []))
        if entry[0] is not variant:
            self.chosen[variant.name] = entry = (variant, entry[1])
        if why not in entry[1]:
            entry[1].append(why)

    def preset_reason(self, preset: str, name: str, variant: ExtensionVariant) -> str | None:
        """None when `preset` takes `variant`, else why it does not."""
        unlinkable = _unlinkable(variant, self.static_only)
        if unlinkable:
            return unlinkable
        if preset == "all":
            return None
        if preset == "minimal":
            return None if name in bootstrap_modules(self.meta.python_major_minor_version) else "not in preset minimal"
        if preset == "none":
            return "not in preset none"
        if is_test_module(name):
            return "test module (not in preset default)"
        foreign = _foreign_link(variant, self.platform, allow_static=True)
        return f"links {_describe_link(foreign)} (not in preset default)" if foreign else None

    def filter_reason(self, variant: ExtensionVariant, no_copyleft: bool, no_libraries: bool) -> str | None:
        copyleft = copyleft_licenses(variant) if no_copyleft else ()
        if copyleft:
            return f"copyleft license {' AND '.join(copyleft)} (--no-copyleft)"
        foreign = _foreign_link(variant, self.platform, allow_static=False) if no_libraries else None
        if foreign:
            return f"links {_describe_link(foreign)} (--no-libraries)"
        return None


def make_plan(
    dist: Distribution | PythonJson,
    extensions_spec: str = DEFAULT_SPEC,
    *,
    no_copyleft: bool = False,
    no_libraries: bool = False,
    export_dynamic: bool = False,
) -> LinkPlan:
    """Compute the `LinkPlan` for `extensions_spec` (see relink.plan.presets' SELECTION_HELP) over a distribution's metadata.

    Pure: reads only PYTHON.json (a metadata-only distribution is enough). Raises RelinkError(USAGE) for
    an unknown preset/extension/variant, contradictory edits, removing a required or in-core extension,
    adding one that cannot be linked (shared-only) or that a filter forbids.
    `export_dynamic` marks the plan for executables that load external extension modules: renderers then
    export the C API (every core object is linked either way).
    """
    meta = dist.metadata if isinstance(dist, Distribution) else dist
    build = meta.build_info
    platform, libc = _platform(meta)
    static_only = tuple(meta.python_extension_module_loading) == ("builtin",) or meta.crt_features.static
    spec = parse_extensions_spec(extensions_spec, build.extensions)
    selector = _Selector(meta, platform, static_only)

    for name, variants in build.extensions.items():
        variant = _pick_variant(name, variants, spec.added.get(name))
        if variant.in_core:
            selector.choose(variant, "in core")
        if variant.required:
            selector.choose(variant, "required")
        if variant.in_core or variant.required:
            continue
        reason = selector.preset_reason(spec.preset, name, variant) or selector.filter_reason(
            variant, no_copyleft, no_libraries)
        if reason:
            selector.excluded[name] = reason
        else:
            selector.choose(variant, f"preset {spec.preset}")

    for name in spec.removed:
        variant = selector.chosen.get(name, (None,))[0]
        if variant is not None and (variant.required or variant.in_core):
            what = "required by the interpreter" if variant.required else "part of the core objects"
            raise _usage(f"cannot remove '{name}': it is {what}")
        selector.chosen.pop(name, None)
        selector.excluded[name] = f"removed by -{name}"

    for name, wanted in spec.added.items():
        variant = _pick_variant(name, build.extensions[name], wanted)
        problem = _unlinkable(variant, static_only) or selector.filter_reason(variant, no_copyleft, no_libraries)
        if problem:
            raise _usage(f"cannot add '{name}': {problem}")
        selector.choose(variant, f"+{name}")

    plan = _assemble(meta, spec, selector, platform, libc, static_only, no_copyleft, no_libraries, export_dynamic)
    return check_plan_values(plan, str(dist.source) if isinstance(dist, Distribution) else "PYTHON.json")


class _Ordered:
    """Insertion-ordered items keyed by identity, each collecting its reasons."""

    def __init__(self) -> None:
        self.items: dict[tuple, list[str]] = {}

    def add(self, key: tuple, why: str) -> None:
        reasons = self.items.setdefault(key, [])
        if why not in reasons:
            reasons.append(why)


def _assemble(
    meta: PythonJson, spec: ExtensionsSpec, selector: _Selector, platform: str, libc: str, static_only: bool,
    no_copyleft: bool, no_libraries: bool, export_dynamic: bool,
) -> LinkPlan:
    build = meta.build_info
    chosen = dict(sorted(selector.chosen.items()))
    objects, libraries = _Ordered(), _Ordered()
    for obj in build.core_objs_without_inittab:
        objects.add((obj,), "core")
    for link in build.core.links:
        libraries.add((link.name, link.kind, link.path), "core")
    if platform == "darwin":
        # Needed for ___isOSVersionAtLeast; shipped in build/lib on macOS but not annotated (§5).
        libraries.add(("clang_rt.osx", "static", "build/lib/libclang_rt.osx.a"), "core")
    if platform == "linux" and not any(link.name == "m" and link.kind == "system" for link in build.core.links):
        # The core's float and complex code calls libm; PBS annotates m only on math/cmath-like modules.
        libraries.add(("m", "system", None), "core (libm: float code; not annotated in PYTHON.json)")
    # Vendored code compiled into several extensions (Windows: expat in both pyexpat and _elementtree)
    # is linked once: a second copy of the same object would define every symbol twice.
    vendored_seen: dict[tuple[str, str], str] = {}
    for name, (variant, _) in chosen.items():
        for obj in variant.objs:
            component = vendored_component(name, obj)
            key = (component.key, posixpath.basename(obj)) if component else None
            if key in vendored_seen:
                objects.add((vendored_seen[key],), f"{name} (same {component.key} object as {obj})")
                continue
            if key:
                vendored_seen[key] = obj
            objects.add((obj,), name)
        borrowing = borrowed_objects(name)
        if borrowing:
            lenders, marker = borrowing
            for lender in lenders:
                if lender in build.extensions:
                    for obj in _pick_variant(lender, build.extensions[lender], None).objs:
                        if marker in "/" + obj:
                            objects.add((obj,), f"{name} (borrowed from {lender})")
        for link in variant.links:
            if platform == "windows" and link.kind == "dynamic":
                # A DLL is linked through its import library, named without the DLL's version suffix.
                libraries.add((windows_import_library(link.name), link.kind, link.path), name)
            else:
                libraries.add((link.name, link.kind, link.path), name)
        missing_link = unannotated_link(name, platform, variant)
        if missing_link:
            libraries.add((missing_link.name, missing_link.kind, missing_link.path),
                          f"{name} ({missing_link.name}: not annotated in PYTHON.json)")
    fmt = meta.object_file_format
    return LinkPlan(
        python_version=meta.python_version,
        python_major_minor_version=meta.python_major_minor_version,
        target_triple=meta.target_triple,
        platform=platform,
        libc=libc,
        object_format=fmt.kind,
        producer_llvm=fmt.llvm_version,
        lto=fmt.is_bitcode,
        static_only=static_only,
        extensions_spec=spec.text,
        no_copyleft=no_copyleft,
        no_libraries=no_libraries,
        export_dynamic=export_dynamic,
        include_dir=meta.python_paths.get("include") or f"install/include/python{meta.python_major_minor_version}",
        inittab_cflags=build.inittab_cflags,
        extensions=tuple(
            PlannedExtension(
                name=name, variant=variant.variant, init_fn=variant.init_fn, in_core=variant.in_core,
                required=variant.required, licenses=variant.licenses, why=tuple(why),
            )
            for name, (variant, why) in chosen.items()
        ),
        excluded=tuple(ExcludedExtension(name, reason) for name, reason in sorted(selector.excluded.items())),
        objects=tuple(PlannedObject(path, tuple(why)) for (path,), why in objects.items.items()),
        libraries=tuple(
            PlannedLibrary(name, kind, path, tuple(why)) for (name, kind, path), why in libraries.items.items()
        ),
    )
