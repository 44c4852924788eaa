"""`relink info DIST` and `relink extensions DIST`: what a distribution is and which extensions it offers.

This module owns turning a `Distribution`'s metadata into a summary (`info`) and a per-extension table
(`extensions`), each also as JSON with `--json`. It reads only PYTHON.json for `info`; `extensions` adds
object sizes when the distribution's files are available (an archive is scanned once, then indexed).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from relink import json_output
from relink.errors import EXIT_CODES_HELP

if TYPE_CHECKING:
    from relink.distribution import Distribution

__all__ = ["register", "info_summary", "extension_rows"]


def _human_size(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def info_summary(dist: Distribution) -> dict[str, Any]:
    """The facts `relink info` prints, as a JSON-ready dict."""
    meta = dist.metadata
    build = meta.build_info
    names = build.extensions
    fmt = meta.object_file_format
    crt = meta.crt_features
    return {
        "source": str(dist.source),
        "form": "metadata-only" if dist.is_metadata_only else ("archive" if dist.archive_size else "folder"),
        "metadata_version": meta.version,
        "python_version": meta.python_version,
        "python_tag": meta.python_tag,
        "abiflags": meta.abiflags,
        "target_triple": meta.target_triple,
        "platform_tag": meta.python_platform_tag,
        "build_options": meta.build_options,
        "free_threaded": meta.is_free_threaded,
        "object_file_format": fmt.kind,
        "producer_llvm": fmt.llvm_version,
        "object_file_format_raw": fmt.raw,
        "libpython_link_mode": meta.libpython_link_mode,
        "extension_module_loading": list(meta.python_extension_module_loading),
        "crt": {
            "features": list(crt.raw),
            "libc": crt.libc,
            "linkage": "static" if crt.static else ("dynamic" if crt.dynamic else None),
            "glibc_max_version": ".".join(map(str, crt.glibc_max_version)) if crt.glibc_max_version else None,
            "musl_version": crt.musl_version,
            "vcruntime": crt.vcruntime,
        },
        "extensions": {
            "total": len(names),
            "builtin": sum(any(v.objs and not v.in_core for v in vs) for vs in names.values()),
            "shared_capable": sum(any(v.shared_lib for v in vs) for vs in names.values()),
            "in_core": sum(any(v.in_core for v in vs) for vs in names.values()),
            "required": sorted(n for n, vs in names.items() if any(v.required for v in vs)),
        },
        "core": {
            "objects": len(build.core_objs_without_inittab),
            "inittab_object": build.inittab_object,
            "static_lib": meta.core_static_lib,
            "links": [link.name for link in build.core.links],
        },
        "licenses": list(meta.licenses or ()),
        "archive_size": dist.archive_size,
    }


def _print_info(summary: Mapping[str, Any]) -> None:
    ext = summary["extensions"]
    crt = summary["crt"]
    producer = f" (producer LLVM {summary['producer_llvm']})" if summary["producer_llvm"] else ""
    runtime = " ".join(filter(None, [crt["libc"], crt["linkage"]])) or "?"
    details = (("glibc_max_version", "newest glibc symbol"), ("musl_version", "musl"), ("vcruntime", "vcruntime"))
    for key, label in details:
        if crt[key]:
            runtime += f", {label} {crt[key]}"
    size = summary["archive_size"]
    lines = [
        ("Distribution", f"{summary['source']} ({summary['form']}, PYTHON.json v{summary['metadata_version']})"),
        ("Python", f"{summary['python_version']} ({summary['python_tag']}, abiflags {summary['abiflags']!r})"),
        ("Target", f"{summary['target_triple']} ({summary['platform_tag'] or '?'})"),
        ("Build options", summary["build_options"] + (" (free-threaded)" if summary["free_threaded"] else "")),
        ("Object format", f"{summary['object_file_format']}{producer}"),
        ("Link mode", f"libpython {summary['libpython_link_mode']}; extension loading: "
                      f"{', '.join(summary['extension_module_loading']) or '?'}"),
        ("C runtime", runtime),
        ("Extensions", f"{ext['total']} ({ext['builtin']} builtin, {ext['shared_capable']} shared-capable, "
                       f"{ext['in_core']} in core; required: {', '.join(ext['required']) or 'none'})"),
        ("Core", f"{summary['core']['objects']} objects; static lib {summary['core']['static_lib'] or '-'}"),
        ("Licenses", " AND ".join(summary["licenses"]) or "-"),
        ("Archive size", "-" if size is None else f"{_human_size(size)} ({size} bytes)"),
    ]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label + ':':<{width + 1}} {value}")


def extension_rows(dist: Distribution) -> list[dict[str, Any]]:
    """One JSON-ready row per extension variant; `object_bytes` is None when objects are unavailable."""
    sizes = dist.member_sizes()
    rows = []
    for variants in dist.metadata.build_info.extensions.values():
        for index, variant in enumerate(variants, 1):
            objs = list(dict.fromkeys(variant.objs))
            missing = [] if sizes is None else [obj for obj in objs if obj not in sizes]
            rows.append({
                "name": variant.name,
                "variant": variant.variant,
                "variant_index": index,
                "variants": len(variants),
                "required": variant.required,
                "in_core": variant.in_core,
                "init_fn": variant.init_fn,
                "shared_lib": variant.shared_lib,
                "links": [{"name": link.name, "kind": link.kind, "path": link.path} for link in variant.links],
                "licenses": list(variant.licenses) if variant.licenses is not None else None,
                "objects": objs,
                "object_count": len(objs),
                "object_bytes": None if sizes is None or missing else sum(sizes[obj] for obj in objs),
                "missing_objects": missing,
            })
    return rows


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = ("NAME", "VARIANT", "REQUIRED", "IN CORE", "LINKS", "LICENSES", "OBJS", "SIZE")
    table = [header] + [
        (
            row["name"],
            row["variant"] + (f" ({row['variant_index']} of {row['variants']})" if row["variants"] > 1 else ""),
            "yes" if row["required"] else "-",
            "yes" if row["in_core"] else "-",
            " ".join(f"{k}:{','.join(v)}" for k, v in _group_links(row["links"]).items()) or "-",
            " AND ".join(row["licenses"] or ()) or "-",
            str(row["object_count"]),
            ("missing" if row["missing_objects"] else _human_size(row["object_bytes"])) if row["object_count"] else "-",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def _group_links(links: list[dict[str, Any]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for link in links:
        groups.setdefault(link["kind"], []).append(link["name"])
    return groups


def _run_info(args: argparse.Namespace) -> int:
    from relink.distribution import open_distribution

    summary = info_summary(open_distribution(args.dist))
    if args.json:
        print(json_output.dumps(summary))
    else:
        _print_info(summary)
    return 0


def _run_extensions(args: argparse.Namespace) -> int:
    from relink.distribution import open_distribution

    rows = extension_rows(open_distribution(args.dist))
    if args.json:
        print(json_output.dumps({"extensions": rows}))
    else:
        _print_table(rows)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, run, help_text in (
        ("info", _run_info, "summarize a distribution: Python version, target, build options, object format"),
        ("extensions", _run_extensions, "list a distribution's extension modules, their links and licenses"),
    ):
        parser = subparsers.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument(
            "dist", metavar="DIST", help="a .tar.zst/.tar.gz full archive, an extracted folder or a PYTHON.json"
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
        parser.set_defaults(func=run)
