"""Small, real python-build-standalone-shaped archives for tests, written with tarfile + zstandard/gzip.

`minimal_metadata()` is a valid PYTHON.json (v8) listing a few objects; `distribution_members()` turns it
into the members of a full archive; `write_archive()` writes members (bytes or prepared TarInfo) as a real
`.tar.zst` or `.tar.gz`. `cache_leftovers()` lists anything an extraction left in a cache directory.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import zstandard

__all__ = [
    "SAMPLES",
    "Member",
    "cache_leftovers",
    "distribution_members",
    "minimal_metadata",
    "object_bytes",
    "write_archive",
]

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"

# A member is (name, data) for a regular file, or (TarInfo, data or None) for anything else.
Member = tuple[str, bytes] | tuple[tarfile.TarInfo, bytes | None]

_METADATA: dict[str, Any] = {
    "version": "8",
    "target_triple": "x86_64-unknown-linux-gnu",
    "build_options": "lto",
    "optimizations": "lto",
    "python_tag": "cp311",
    "python_abi_tag": "",
    "python_platform_tag": "linux-x86_64",
    "python_version": "3.11.2",
    "python_major_minor_version": "3.11",
    "python_exe": "install/bin/python3.11",
    "python_paths": {"include": "install/include/python3.11", "stdlib": "install/lib/python3.11"},
    "python_stdlib_platform_config": "install/lib/python3.11/config-3.11-x86_64-linux-gnu",
    "python_config_vars": {"LIBRARY": "libpython3.11.a"},
    "python_extension_module_loading": ["builtin", "shared-library"],
    "libpython_link_mode": "static",
    "crt_features": ["glibc-dynamic", "glibc-max-symbol-version:2.28)"],
    "licenses": ["Python-2.0", "CNRI-Python"],
    "license_path": "licenses/LICENSE.cpython.txt",
    "build_info": {
        "core": {
            "objs": ["build/Objects/abstract.o", "build/Python/ceval.o", "build/Modules/config.o"],
            "links": [{"name": "m", "system": True}],
            "static_lib": "install/lib/python3.11/config-3.11-x86_64-linux-gnu/libpython3.11.a",
        },
        "extensions": {
            "_ssl": [{
                "in_core": False, "init_fn": "PyInit__ssl", "objs": ["build/Modules/_ssl.o"],
                "links": [{"name": "ssl", "path_static": "build/lib/libssl.a"}, {"name": "dl", "system": True}],
                "required": False, "variant": "default", "licenses": ["Apache-2.0"],
                "license_paths": ["licenses/LICENSE.openssl-3.txt"], "license_public_domain": False,
            }],
            "math": [{
                "in_core": False, "init_fn": "PyInit_math", "objs": ["build/Modules/mathmodule.o"],
                "links": [{"name": "m", "system": True}], "required": False, "variant": "default",
            }],
            "posix": [{
                "in_core": False, "init_fn": "PyInit_posix", "objs": ["build/Modules/posixmodule.o"],
                "links": [], "required": True, "variant": "default",
            }],
            "sys": [{"in_core": True, "init_fn": "NULL", "objs": [], "links": [], "required": False,
                     "variant": "default"}],
        },
        "inittab_object": "build/Modules/config.o",
        "inittab_source": "build/Modules/config.c",
        "inittab_cflags": ["-std=c99", "-DNDEBUG", "-DPy_BUILD_CORE"],
        "object_file_format": "llvm-bitcode:%18.0.8",
    },
}


def minimal_metadata() -> dict[str, Any]:
    """A fresh, valid PYTHON.json document to modify."""
    return copy.deepcopy(_METADATA)


def object_bytes(name: str) -> bytes:
    """Distinct, deterministic content for a member, a few KiB long."""
    return (f"object {name}\n".encode() * 200)[: 1000 + len(name) * 37]


def distribution_members(metadata: dict[str, Any], *, skip: tuple[str, ...] = ()) -> list[Member]:
    """PYTHON.json first, then every listed object/static library, config.c, headers and an install tree."""
    build = metadata["build_info"]
    listed = list(build["core"]["objs"])
    for variants in build["extensions"].values():
        for variant in variants:
            listed += variant.get("objs") or []
            listed += [link["path_static"] for link in variant.get("links") or () if link.get("path_static")]
    names = sorted(set(listed) | {
        "build/Modules/config.c",
        "build/Modules/config.c.in",
        "install/include/python3.11/Python.h",
        "install/include/python3.11/object.h",
        "install/bin/python3.11",
        "licenses/LICENSE.cpython.txt",
    })
    members: list[Member] = [("python/PYTHON.json", json.dumps(metadata, indent=1).encode())]
    members += [(f"python/{name}", object_bytes(name)) for name in names if name not in skip]
    link = tarfile.TarInfo("python/install/bin/python3")
    link.type = tarfile.SYMTYPE
    link.linkname = "python3.11"
    members.append((link, None))
    return members


def _tar_bytes(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for spec, data in members:
            info = spec if isinstance(spec, tarfile.TarInfo) else tarfile.TarInfo(spec)
            if info.isreg():
                info.size = len(data or b"")
                info.mode = 0o755 if "/bin/" in info.name else 0o644
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


def write_archive(path: Path, members: list[Member], compression: str | None = None) -> Path:
    """Write `members` as a real tar archive, zstd- or gzip-compressed (chosen from the suffix by default)."""
    compression = compression or ("gzip" if path.name.endswith(".gz") else "zstd")
    raw = _tar_bytes(members)
    if compression == "zstd":
        path.write_bytes(zstandard.ZstdCompressor(level=3).compress(raw))
    else:
        path.write_bytes(gzip.compress(raw, mtime=0))
    return path


def cache_leftovers(cache: Path) -> list[str]:
    """Entries, staging directories, partial files or member indexes in `cache` (lock files excepted)."""
    found = []
    for item in sorted(cache.rglob("*")):
        relative = item.relative_to(cache).as_posix()
        memo = relative.startswith("sha256/") and not item.name.endswith(".partial")
        if item.name.endswith(".lock") or relative in ("extracted", "sha256") or memo:
            continue
        found.append(relative)
    return found
