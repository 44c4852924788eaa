"""A typed, quirk-absorbing model of a distribution's `python/PYTHON.json` (format versions "5" to "8").

This module owns the translation from the JSON text that python-build-standalone writes to immutable
records that the rest of relink can trust: every known metadata bug (see shared/pbs-format.md §4) is
absorbed here, once, so no caller ever sees a `%` in a version, a `"NULL"` init function, a stray `)` or a
path that escapes the distribution. It knows nothing about archives, caches or building.

The records are NamedTuples rather than dataclasses: every command that opens a distribution (`relink
info` first) imports this module, and dataclasses would add about 11 ms to `relink info`'s 50 (importing
dataclasses and inspect, then generating each class's methods).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from relink.errors import RelinkError

__all__ = [
    "SUPPORTED_VERSIONS",
    "BuildInfo",
    "CoreInfo",
    "CrtFeatures",
    "ExtensionVariant",
    "LinkEntry",
    "LinkKind",
    "ObjectFileFormat",
    "ObjectFileKind",
    "PythonJson",
    "check_relative_path",
    "parse_object_file_format",
    "parse_python_json",
]

SUPPORTED_VERSIONS = ("5", "6", "7", "8")

ObjectFileKind = Literal["elf", "mach-o", "coff", "llvm-bitcode"]

_NATIVE_KINDS: tuple[ObjectFileKind, ...] = ("elf", "mach-o", "coff")
# `llvm-bitcode:18.0.8`, `llvm-bitcode:%18.0.8` (Linux since 20230116), `llvm-bitcode:18.0.8+20240713`.
_BITCODE_VERSION = re.compile(r"%?(?P<version>\d+(?:\.\d+){0,3})(?:\+\d{8})?")


class ObjectFileFormat(NamedTuple):
    """What the distribution's object files are, as `build_info.object_file_format` declares it.

    `llvm_version` is the producing LLVM's version ("18.0.8") for bitcode, None for native objects;
    `raw` is the string as written. GCC-built cross targets claim `llvm-bitcode` for GCC fat-LTO ELF
    objects, so a caller that must be sure checks the object bytes too.
    """

    kind: ObjectFileKind
    llvm_version: str | None
    raw: str

    @property
    def is_bitcode(self) -> bool:
        return self.kind == "llvm-bitcode"

    @property
    def llvm_major(self) -> int | None:
        return int(self.llvm_version.split(".")[0]) if self.llvm_version else None


def parse_object_file_format(text: str) -> ObjectFileFormat:
    """Parse `object_file_format`: `elf`, `mach-o`, `coff` or `llvm-bitcode:<version>`.

    The literal `%` and the `+YYYYMMDD` suffix PBS writes around bitcode versions are dropped.
    Any other form raises `RelinkError` (exit code INVALID_INPUT).
    """
    if not isinstance(text, str):
        raise RelinkError(f"object_file_format must be a string, got {type(text).__name__}")
    raw = text
    kind, sep, version = text.strip().partition(":")
    if kind in _NATIVE_KINDS and not sep:
        return ObjectFileFormat(kind=kind, llvm_version=None, raw=raw)
    if kind == "llvm-bitcode" and sep:
        match = _BITCODE_VERSION.fullmatch(version.strip())
        if match:
            return ObjectFileFormat(kind="llvm-bitcode", llvm_version=match["version"], raw=raw)
    raise RelinkError(
        f"unknown object_file_format {raw!r}: expected elf, mach-o, coff or llvm-bitcode:<LLVM version>"
    )


# --------------------------------------------------------------------------------------------------
# Link entries, extension variants, core, build_info


LinkKind = Literal["static", "dynamic", "system", "framework"]


class LinkEntry(NamedTuple):
    """One library an extension or the core links against.

    `kind` says how: a static archive inside the distribution (`path` set), a dynamic library inside it
    (Windows DLLs, `path` set), a system library (`-l<name>`) or an Apple framework.
    """

    name: str
    kind: LinkKind
    path: str | None = None


class ExtensionVariant(NamedTuple):
    """One way to build extension module `name` into the interpreter (`build_info.extensions[name][i]`).

    `init_fn` is None where PBS writes the string "NULL" (builtins, sys): such rows go in the inittab
    with a NULL function and must not be declared extern. `licenses` are SPDX ids that all apply (AND);
    None when the extension bundles no third-party code.
    """

    name: str
    variant: str
    in_core: bool
    init_fn: str | None
    objs: tuple[str, ...]
    links: tuple[LinkEntry, ...]
    required: bool
    shared_lib: str | None = None
    static_lib: str | None = None
    licenses: tuple[str, ...] | None = None
    license_paths: tuple[str, ...] | None = None
    license_public_domain: bool | None = None


class CoreInfo(NamedTuple):
    """`build_info.core`: libpython's objects and links. `static_lib` is as written, often wrong (§4.3)."""

    objs: tuple[str, ...]
    links: tuple[LinkEntry, ...]
    static_lib: str | None = None
    shared_lib: str | None = None


class BuildInfo(NamedTuple):
    """`build_info`: the core, the extensions (name to variants) and the inittab inputs."""

    core: CoreInfo
    extensions: Mapping[str, tuple[ExtensionVariant, ...]]
    object_file_format: ObjectFileFormat
    inittab_object: str | None = None
    inittab_source: str | None = None
    inittab_cflags: tuple[str, ...] = ()

    @property
    def core_objs_without_inittab(self) -> tuple[str, ...]:
        """Core objects minus PBS's own inittab object (listed there too, §4.2), for a custom config.c."""
        return tuple(obj for obj in self.core.objs if obj != self.inittab_object)

    def variants(self) -> Iterator[ExtensionVariant]:
        for variants in self.extensions.values():
            yield from variants

    def listed_paths(self) -> tuple[str, ...]:
        """Every file a link may need that PYTHON.json promises is in the archive, deduplicated, in order.

        That is core and extension objects, static libraries from link entries and the inittab object;
        not `static_lib`/`shared_lib` (hard-coded and often wrong) nor license files (often missing).
        """
        seen: dict[str, None] = {}
        for obj in self.core.objs:
            seen.setdefault(obj)
        if self.inittab_object:
            seen.setdefault(self.inittab_object)
        for link in self.core.links:
            if link.kind == "static" and link.path:
                seen.setdefault(link.path)
        for variant in self.variants():
            for obj in variant.objs:
                seen.setdefault(obj)
            for link in variant.links:
                if link.kind == "static" and link.path:
                    seen.setdefault(link.path)
        return tuple(seen)


# --------------------------------------------------------------------------------------------------
# crt_features


class CrtFeatures(NamedTuple):
    """`crt_features`, parsed: which C runtime the build needs, and the newest glibc symbol it uses.

    `libc` is "glibc", "musl", "libSystem", "msvc" or None (e.g. a fully static musl build that says only
    "static"); `glibc_max_version` is (2, 17) for `glibc-max-symbol-version:2.17)` (stray `)` dropped).
    """

    raw: tuple[str, ...]
    libc: str | None = None
    dynamic: bool = False
    static: bool = False
    glibc_max_version: tuple[int, int] | None = None
    musl_version: str | None = None
    vcruntime: str | None = None


_GLIBC_VERSION = re.compile(r"(\d+)\.(\d+)")


def _parse_crt_features(values: tuple[str, ...], where: str) -> CrtFeatures:
    fields: dict[str, Any] = {}
    for value in values:
        name, _, arg = value.strip().partition(":")
        arg = arg.strip().rstrip(")").strip()
        if name in ("glibc-dynamic", "musl-dynamic"):
            fields["libc"] = name.split("-")[0]
            fields["dynamic"] = True
        elif name == "glibc-max-symbol-version":
            match = _GLIBC_VERSION.fullmatch(arg)
            if not match:
                raise RelinkError(f"{where}: crt_features entry {value!r} has no glibc version like 2.17")
            fields["libc"] = "glibc"
            fields["glibc_max_version"] = (int(match[1]), int(match[2]))
        elif name == "musl-version":
            fields["libc"] = "musl"
            fields["musl_version"] = arg
        elif name == "static":
            fields["static"] = True
        elif name == "libSystem":
            fields["libc"] = "libSystem"
            fields["dynamic"] = True
        elif name == "vcruntime":
            fields["libc"] = "msvc"
            fields["vcruntime"] = arg
        # Unknown features are kept in `raw` only: future releases may add more.
    return CrtFeatures(raw=values, **fields)


# --------------------------------------------------------------------------------------------------
# The top level


# A read-only view of nothing: one default shared by every record is safe.
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class PythonJson(NamedTuple):
    """The whole of `python/PYTHON.json`. Optional keys are None whether absent or written as null.

    Paths are relative to the distribution's `python/` directory and checked not to escape it.
    """

    version: str
    target_triple: str
    optimizations: str
    build_options: str
    python_version: str
    python_major_minor_version: str
    python_tag: str
    libpython_link_mode: str
    build_info: BuildInfo
    crt_features: CrtFeatures
    python_abi_tag: str | None = None
    python_platform_tag: str | None = None
    python_implementation_name: str | None = None
    python_implementation_cache_tag: str | None = None
    python_implementation_hex_version: int | None = None
    python_implementation_version: tuple[str, ...] | None = None
    python_paths: Mapping[str, str] = _EMPTY
    python_paths_abstract: Mapping[str, str] = _EMPTY
    python_config_vars: Mapping[str, str] = _EMPTY
    python_exe: str | None = None
    python_stdlib_platform_config: str | None = None
    python_stdlib_test_packages: tuple[str, ...] = ()
    python_suffixes: Mapping[str, tuple[str, ...]] = _EMPTY
    python_bytecode_magic_number: str | None = None
    python_symbol_visibility: str | None = None
    python_extension_module_loading: tuple[str, ...] = ()
    run_tests: str | None = None
    licenses: tuple[str, ...] | None = None
    license_path: str | None = None
    tcl_library_path: str | None = None
    tcl_library_paths: tuple[str, ...] | None = None
    apple_sdk_canonical_name: str | None = None
    apple_sdk_platform: str | None = None
    apple_sdk_version: str | None = None
    apple_sdk_deployment_target: str | None = None

    @property
    def object_file_format(self) -> ObjectFileFormat:
        return self.build_info.object_file_format

    @property
    def abiflags(self) -> str:
        """`sys.abiflags` ("", "t", "d", "td"): what PBS calls python_abi_tag (§4.7)."""
        return self.python_abi_tag or ""

    @property
    def is_free_threaded(self) -> bool:
        return "freethreaded" in self.build_options.split("+") or "t" in self.abiflags

    @property
    def core_static_lib(self) -> str | None:
        """Where libpython's static archive really is (§4.3): derived from the platform config dir and
        `python_config_vars["LIBRARY"]`, falling back to `build_info.core.static_lib`."""
        library = self.python_config_vars.get("LIBRARY")
        if self.python_stdlib_platform_config and library:
            derived = posixpath.join(self.python_stdlib_platform_config, library)
            return check_relative_path(derived, "python_stdlib_platform_config + LIBRARY", "PYTHON.json")
        return self.build_info.core.static_lib


# --------------------------------------------------------------------------------------------------
# Parsing


def check_relative_path(value: str, field: str, where: str) -> str:
    """Refuse a PYTHON.json path that is empty, absolute or climbs out of `python/`; return it unchanged.

    Absolute in either convention: rooted (`/x`, `\\x`, UNC `\\\\host\\share`) or with a drive (`C:`).
    Plain string checks: this runs for every path of every archive opened (pathlib is ten times slower).
    """
    if (
        not value
        or "\0" in value
        or value[0] in "/\\"
        or (value[1:2] == ":" and value[0].isalpha())
        or posixpath.normpath(value.replace("\\", "/")).split("/")[0] == ".."
    ):
        raise RelinkError(f"{where}: {field} path {value!r} escapes the distribution root")
    return value


class _Reader:
    """Typed access to one JSON object, naming `where` (the file) and the field path in every error."""

    def __init__(self, data: Any, prefix: str, where: str) -> None:
        if not isinstance(data, dict):
            raise RelinkError(f"{where}: PYTHON.json {prefix or 'top level'} must be an object")
        self.data = data
        self.prefix = prefix
        self.where = where

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def _wrong(self, key: str, expected: str, value: Any) -> RelinkError:
        return RelinkError(
            f"{self.where}: PYTHON.json field {self.name(key)!r} must be {expected}, got {type(value).__name__}"
        )

    def raw(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise RelinkError(f"{self.where}: PYTHON.json lacks required field {self.name(key)!r}")
        return value

    def str(self, key: str, required: bool = False) -> str | None:
        value = self.raw(key, required)
        if value is not None and not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        return value

    def req_str(self, key: str) -> str:
        value = self.str(key, required=True)
        assert value is not None
        return value

    def bool(self, key: str, default: bool | None = False) -> bool | None:
        value = self.raw(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def int(self, key: str) -> int | None:
        value = self.raw(key, False)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise self._wrong(key, "an integer", value)
        return value

    def strs(self, key: str, required: bool = False) -> tuple[str, ...] | None:
        value = self.raw(key, required)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(key, "a list of strings", value)
        return tuple(value)

    def path(self, key: str, required: bool = False) -> str | None:
        value = self.str(key, required)
        return None if value is None else check_relative_path(value, self.name(key), self.where)

    def paths(self, key: str, required: bool = False) -> tuple[str, ...] | None:
        values = self.strs(key, required)
        if values is None:
            return None
        return tuple(check_relative_path(v, self.name(key), self.where) for v in values)

    def str_map(self, key: str, check_paths: bool = False) -> Mapping[str, str]:
        value = self.raw(key, False) or {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self._wrong(key, "an object of strings", value)
        if check_paths:
            for name, path in value.items():
                check_relative_path(path, f"{self.name(key)}.{name}", self.where)
        return MappingProxyType(dict(value))

    def strs_map(self, key: str) -> Mapping[str, tuple[str, ...]]:
        value = self.raw(key, False) or {}
        sub = _Reader(value, self.name(key), self.where)
        return MappingProxyType({name: sub.strs(name) or () for name in value})

    def obj(self, key: str) -> _Reader:
        return _Reader(self.raw(key, True), self.name(key), self.where)

    def list(self, key: str) -> list[Any]:
        value = self.raw(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._wrong(key, "a list", value)
        return value


def _link_entry(reader: _Reader) -> LinkEntry:
    name = reader.req_str("name")
    path_static = reader.path("path_static")
    path_dynamic = reader.path("path_dynamic")
    if path_static:
        return LinkEntry(name=name, kind="static", path=path_static)
    if reader.bool("framework"):
        return LinkEntry(name=name, kind="framework")
    if reader.bool("system"):
        return LinkEntry(name=name, kind="system")
    if path_dynamic:
        return LinkEntry(name=name, kind="dynamic", path=path_dynamic)
    raise RelinkError(
        f"{reader.where}: PYTHON.json link entry {reader.prefix!r} ({name}) has no path_static, path_dynamic, "
        "system or framework"
    )


def _links(reader: _Reader, key: str) -> tuple[LinkEntry, ...]:
    return tuple(
        _link_entry(_Reader(item, f"{reader.name(key)}[{i}]", reader.where))
        for i, item in enumerate(reader.list(key))
    )


def _variant(name: str, reader: _Reader) -> ExtensionVariant:
    init_fn = reader.req_str("init_fn")
    return ExtensionVariant(
        name=name,
        variant=reader.str("variant") or "default",
        in_core=bool(reader.bool("in_core")),
        init_fn=None if init_fn == "NULL" else init_fn,
        objs=reader.paths("objs") or (),
        links=_links(reader, "links"),
        required=bool(reader.bool("required")),
        shared_lib=reader.path("shared_lib"),
        static_lib=reader.path("static_lib"),
        licenses=reader.strs("licenses"),
        license_paths=reader.paths("license_paths"),
        license_public_domain=reader.bool("license_public_domain", default=None),
    )


def _build_info(reader: _Reader) -> BuildInfo:
    core = reader.obj("core")
    extensions_reader = reader.obj("extensions")
    extensions: dict[str, tuple[ExtensionVariant, ...]] = {}
    for name in sorted(extensions_reader.data):
        entries = extensions_reader.list(name)
        if not entries:
            raise RelinkError(f"{reader.where}: PYTHON.json extension {name!r} has no variants")
        # Real archives list some variants twice, identically (3.10 i686: `_weakref`,
        # `_testinternalcapi`): one copy is kept, so nothing downstream sees two rows for one variant.
        extensions[name] = tuple(dict.fromkeys(
            _variant(name, _Reader(entry, f"{extensions_reader.name(name)}[{i}]", reader.where))
            for i, entry in enumerate(entries)
        ))

    # The inittab keys belong to build_info itself; PBS's docs put them under core, so accept both.
    def inittab(key: str) -> _Reader:
        return reader if reader.raw(key, False) is not None else core

    object_file_format = reader.req_str("object_file_format")
    try:
        parsed_format = parse_object_file_format(object_file_format)
    except RelinkError as error:
        raise RelinkError(f"{reader.where}: {error.message}") from None
    return BuildInfo(
        core=CoreInfo(
            objs=core.paths("objs", required=True) or (),
            links=_links(core, "links"),
            static_lib=core.path("static_lib"),
            shared_lib=core.path("shared_lib"),
        ),
        extensions=MappingProxyType(extensions),
        object_file_format=parsed_format,
        inittab_object=inittab("inittab_object").path("inittab_object"),
        inittab_source=inittab("inittab_source").path("inittab_source"),
        inittab_cflags=inittab("inittab_cflags").strs("inittab_cflags") or (),
    )


# Bounds on what a PYTHON.json may contain: real ones are about 100 KB, 6 levels deep, with small numbers.
MAX_METADATA_BYTES = 16 * 1024 * 1024
_MAX_DEPTH = 32
_MAX_NUMBER_CHARS = 32
_VERSION = re.compile(r"\d{1,4}\.\d{1,4}\.\d{1,4}(?:(?:a|b|rc)\d{1,4})?\+?[A-Za-z0-9.+]{0,32}")
_MAJOR_MINOR = re.compile(r"\d{1,4}\.\d{1,4}")
_TRIPLE = re.compile(r"[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+){1,4}")


def _number(kind: type) -> Any:
    def parse(text: str) -> Any:
        if len(text) > _MAX_NUMBER_CHARS:
            raise ValueError(f"a number of {len(text)} characters")
        return kind(text)

    return parse


def _check_document(document: Any, where: str) -> None:
    """Refuse nesting deeper than _MAX_DEPTH and strings that are not valid Unicode (lone surrogates)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise RelinkError(f"{where}: PYTHON.json nests deeper than {_MAX_DEPTH} levels")
        if isinstance(value, dict):
            items = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            items = value
        else:
            items = [value]
        for item in items:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise RelinkError(f"{where}: PYTHON.json has a string that is not valid Unicode "
                                      f"({item[:40]!r})") from None
            elif isinstance(item, (dict, list)) and item is not value:
                stack.append((item, depth + 1))


def _load(data: bytes | str, where: str) -> Any:
    if len(data) > MAX_METADATA_BYTES:
        raise RelinkError(f"{where}: PYTHON.json is larger than {MAX_METADATA_BYTES} bytes")
    try:
        document = json.loads(data, parse_int=_number(int), parse_float=_number(float),
                              parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise RelinkError(f"{where}: PYTHON.json is not valid JSON ({error})") from None
    except RecursionError:
        raise RelinkError(f"{where}: PYTHON.json nests deeper than {_MAX_DEPTH} levels") from None
    _check_document(document, where)
    return document


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _checked(value: str, pattern: re.Pattern[str], field_name: str, expected: str, where: str) -> str:
    if not pattern.fullmatch(value):
        raise RelinkError(f"{where}: PYTHON.json field {field_name!r} is {value[:60]!r}, expected {expected}")
    return value


def parse_python_json(data: bytes | str, where: str) -> PythonJson:
    """Parse PYTHON.json text; `where` names the file (or archive) in every error message."""
    document = _load(data, where)
    top = _Reader(document, "", where)
    version = top.raw("version", True)
    if not isinstance(version, str) or version not in SUPPORTED_VERSIONS:
        raise RelinkError(
            f"{where}: unsupported PYTHON.json version {version!r} "
            f"(relink reads versions {SUPPORTED_VERSIONS[0]} to {SUPPORTED_VERSIONS[-1]})"
        )
    optimizations = top.req_str("optimizations")
    implementation_version = top.strs("python_implementation_version")
    return PythonJson(
        version=version,
        target_triple=_checked(top.req_str("target_triple"), _TRIPLE, "target_triple", "a target triple", where),
        optimizations=optimizations,
        build_options=top.str("build_options") or optimizations,
        python_version=_checked(top.req_str("python_version"), _VERSION, "python_version", "like 3.12.7", where),
        python_major_minor_version=_checked(top.req_str("python_major_minor_version"), _MAJOR_MINOR,
                                            "python_major_minor_version", "like 3.12", where),
        python_tag=top.req_str("python_tag"),
        libpython_link_mode=top.req_str("libpython_link_mode"),
        build_info=_build_info(top.obj("build_info")),
        crt_features=_parse_crt_features(top.strs("crt_features") or (), where),
        python_abi_tag=top.str("python_abi_tag"),
        python_platform_tag=top.str("python_platform_tag"),
        python_implementation_name=top.str("python_implementation_name"),
        python_implementation_cache_tag=top.str("python_implementation_cache_tag"),
        python_implementation_hex_version=top.int("python_implementation_hex_version"),
        python_implementation_version=implementation_version,
        python_paths=top.str_map("python_paths", check_paths=True),
        python_paths_abstract=top.str_map("python_paths_abstract"),
        python_config_vars=top.str_map("python_config_vars"),
        python_exe=top.path("python_exe"),
        python_stdlib_platform_config=top.path("python_stdlib_platform_config"),
        python_stdlib_test_packages=top.strs("python_stdlib_test_packages") or (),
        python_suffixes=top.strs_map("python_suffixes"),
        python_bytecode_magic_number=top.str("python_bytecode_magic_number"),
        python_symbol_visibility=top.str("python_symbol_visibility"),
        python_extension_module_loading=top.strs("python_extension_module_loading") or (),
        run_tests=top.path("run_tests"),
        licenses=top.strs("licenses"),
        license_path=top.path("license_path"),
        tcl_library_path=top.path("tcl_library_path"),
        tcl_library_paths=top.strs("tcl_library_paths"),
        apple_sdk_canonical_name=top.str("apple_sdk_canonical_name"),
        apple_sdk_platform=top.str("apple_sdk_platform"),
        apple_sdk_version=top.str("apple_sdk_version"),
        apple_sdk_deployment_target=top.str("apple_sdk_deployment_target"),
    )
