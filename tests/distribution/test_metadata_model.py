"""The PYTHON.json model: the shared samples, every quirk of pbs-format.md §4, and invalid documents."""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers_archives import SAMPLES, minimal_metadata

from relink.distribution.metadata import LinkEntry, PythonJson, parse_python_json
from relink.errors import ExitCode, RelinkError

LINUX = SAMPLES / "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
WINDOWS = SAMPLES / "PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json"


def parse(document: dict[str, Any]) -> PythonJson:
    return parse_python_json(json.dumps(document), "test/PYTHON.json")


def refused(document: dict[str, Any] | str) -> RelinkError:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(RelinkError) as caught:
        parse_python_json(text, "test/PYTHON.json")
    assert caught.value.code == ExitCode.INVALID_INPUT
    assert str(caught.value).startswith("test/PYTHON.json: ")
    assert "\n" not in str(caught.value)
    return caught.value


def test_linux_sample() -> None:
    meta = parse_python_json(LINUX.read_bytes(), str(LINUX))
    assert (meta.version, meta.python_version, meta.target_triple) == ("8", "3.12.7", "x86_64-unknown-linux-gnu")
    assert meta.build_options == "pgo+lto" and not meta.is_free_threaded
    fmt = meta.object_file_format
    assert (fmt.kind, fmt.llvm_version, fmt.raw) == ("llvm-bitcode", "18.0.8", "llvm-bitcode:%18.0.8")
    build = meta.build_info
    assert len(build.extensions) == 104
    assert build.inittab_object == "build/Modules/config.o"
    assert build.inittab_object in build.core.objs
    assert build.inittab_object not in build.core_objs_without_inittab
    assert len(build.core_objs_without_inittab) == len(build.core.objs) - 1
    assert build.inittab_cflags == ("-std=c99", "-DNDEBUG", "-DPy_BUILD_CORE")
    assert meta.crt_features.libc == "glibc" and meta.crt_features.dynamic
    assert meta.crt_features.glibc_max_version == (2, 17)
    assert meta.core_static_lib == "install/lib/python3.12/config-3.12-x86_64-linux-gnu/libpython3.12.a"
    ssl = build.extensions["_ssl"][0]
    assert ssl.links == (
        LinkEntry("crypto", "static", "build/lib/libcrypto.a"),
        LinkEntry("ssl", "static", "build/lib/libssl.a"),
    )
    assert ssl.licenses == ("Apache-2.0", "OpenSSL") and ssl.license_public_domain is False
    assert build.extensions["sys"][0].init_fn is None
    assert build.extensions["builtins"][0].init_fn is None
    assert build.extensions["marshal"][0].init_fn == "PyMarshal_Init"
    required = sorted(name for name, vs in build.extensions.items() if vs[0].required)
    assert required == ["_codecs", "_io", "_signal", "_thread", "_tracemalloc", "_weakref", "faulthandler", "posix"]
    assert "build/lib/libssl.a" in build.listed_paths()


def test_windows_sample_with_explicit_nulls() -> None:
    meta = parse_python_json(WINDOWS.read_bytes(), str(WINDOWS))
    assert (meta.version, meta.build_options, meta.python_abi_tag, meta.abiflags) == ("7", "pgo", None, "")
    assert meta.object_file_format.kind == "coff" and meta.object_file_format.llvm_version is None
    assert meta.crt_features.libc == "msvc" and meta.crt_features.vcruntime == "140"
    assert meta.core_static_lib is None  # no platform config dir and no core.static_lib on Windows
    asyncio = meta.build_info.extensions["_asyncio"][0]
    assert asyncio.shared_lib == "install/DLLs/_asyncio.pyd"
    assert asyncio.static_lib is None and asyncio.licenses is None
    ssl = meta.build_info.extensions["_ssl"][0]
    assert ssl.license_public_domain is None
    assert LinkEntry("libssl-1_1-x64", "dynamic", "install/DLLs/libssl-1_1-x64.dll") in ssl.links
    assert "build/core/config.obj" not in meta.build_info.core_objs_without_inittab


def test_minimal_document_and_version_5_fallbacks() -> None:
    document = minimal_metadata()
    document["version"] = "5"
    del document["build_options"]
    document["python_config_vars"] = None
    meta = parse(document)
    assert meta.build_options == "lto"  # from `optimizations` before v8
    assert meta.python_config_vars == {}
    assert meta.core_static_lib == document["build_info"]["core"]["static_lib"]


def test_unknown_and_legacy_keys_are_ignored() -> None:
    document = minimal_metadata()
    document["some_future_key"] = {"anything": [1, 2]}
    document["link_mode"] = "static"
    document["build_info"]["new_thing"] = 1
    document["build_info"]["extensions"]["math"][0]["future_flag"] = True
    assert parse(document).build_info.extensions["math"][0].init_fn == "PyInit_math"


def test_inittab_keys_under_core_are_tolerated() -> None:
    document = minimal_metadata()
    build = document["build_info"]
    for key in ("inittab_object", "inittab_source", "inittab_cflags"):
        build["core"][key] = build.pop(key)
    meta = parse(document)
    assert meta.build_info.inittab_object == "build/Modules/config.o"
    assert meta.build_info.inittab_cflags[0] == "-std=c99"
    assert meta.build_info.core_objs_without_inittab == ("build/Objects/abstract.o", "build/Python/ceval.o")


def test_wrong_core_static_lib_is_corrected() -> None:
    document = minimal_metadata()
    document["build_options"] = "freethreaded+lto"
    document["python_abi_tag"] = "t"
    document["python_stdlib_platform_config"] = "install/lib/python3.13t/config-3.13t-x86_64-linux-musl"
    document["python_config_vars"] = {"LIBRARY": "libpython3.13t.a"}
    meta = parse(document)
    assert meta.is_free_threaded
    assert meta.build_info.core.static_lib.endswith("-linux-gnu/libpython3.11.a")  # as PBS wrote it
    assert meta.core_static_lib == "install/lib/python3.13t/config-3.13t-x86_64-linux-musl/libpython3.13t.a"


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (["glibc-dynamic", "glibc-max-symbol-version:2.17)"], {"libc": "glibc", "glibc_max_version": (2, 17)}),
        (["glibc-max-symbol-version:2.28"], {"libc": "glibc", "glibc_max_version": (2, 28)}),
        (["musl-dynamic", "musl-version:1.2.x"], {"libc": "musl", "musl_version": "1.2.x", "dynamic": True}),
        (["static"], {"libc": None, "static": True}),
        (["libSystem"], {"libc": "libSystem"}),
        (["vcruntime:140", "something-new"], {"libc": "msvc", "vcruntime": "140"}),
    ],
)
def test_crt_features(features: list[str], expected: dict[str, Any]) -> None:
    document = minimal_metadata()
    document["crt_features"] = features
    crt = parse(document).crt_features
    assert crt.raw == tuple(features)
    for key, value in expected.items():
        assert getattr(crt, key) == value


def test_model_is_frozen() -> None:
    meta = parse(minimal_metadata())
    with pytest.raises(AttributeError):
        meta.version = "9"  # type: ignore[misc]
    with pytest.raises(TypeError):
        meta.build_info.extensions["x"] = ()  # type: ignore[index]


def test_invalid_json() -> None:
    assert "not valid JSON" in str(refused('{"version": "8",'))


def test_top_level_not_an_object() -> None:
    assert "must be an object" in str(refused("[1, 2]"))


@pytest.mark.parametrize("version", ["4", "9", 8, None])
def test_unsupported_version(version: Any) -> None:
    document = minimal_metadata()
    document["version"] = version
    message = str(refused(document))
    assert "version" in message


@pytest.mark.parametrize("field", ["target_triple", "python_version", "build_info", "libpython_link_mode"])
def test_missing_required_field(field: str) -> None:
    document = minimal_metadata()
    del document[field]
    assert f"lacks required field {field!r}" in str(refused(document))


def test_null_required_field_counts_as_missing() -> None:
    document = minimal_metadata()
    document["build_info"]["extensions"]["math"][0]["init_fn"] = None
    assert "build_info.extensions.math[0].init_fn" in str(refused(document))


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("target_triple",), 42, "target_triple"),
        (("build_info", "core", "objs"), "build/Objects/abstract.o", "build_info.core.objs"),
        (("build_info", "core", "objs"), [1, 2], "build_info.core.objs"),
        (("build_info", "extensions", "math", 0, "required"), "yes", "build_info.extensions.math[0].required"),
        (("build_info", "extensions"), [], "build_info.extensions"),
        (("crt_features",), "glibc-dynamic", "crt_features"),
        (("python_implementation_hex_version",), "51120112", "python_implementation_hex_version"),
    ],
)
def test_wrong_type(path: tuple[Any, ...], value: Any, field: str) -> None:
    document = minimal_metadata()
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert field in str(refused(document))


def test_unknown_object_file_format() -> None:
    document = minimal_metadata()
    document["build_info"]["object_file_format"] = "wasm"
    assert "unknown object_file_format 'wasm'" in str(refused(document))


def test_link_entry_without_kind() -> None:
    document = minimal_metadata()
    document["build_info"]["extensions"]["math"][0]["links"] = [{"name": "m"}]
    assert "no path_static, path_dynamic, system or framework" in str(refused(document))


def test_extension_without_variants() -> None:
    document = minimal_metadata()
    document["build_info"]["extensions"]["math"] = []
    assert "'math' has no variants" in str(refused(document))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("build_info", "core", "objs"), ["../../etc/passwd"]),
        (("build_info", "core", "objs"), ["/etc/passwd"]),
        (("build_info", "core", "objs"), ["build/../../outside.o"]),
        (("build_info", "extensions", "_ssl", 0, "links", 0, "path_static"), "../lib/libssl.a"),
        (("build_info", "inittab_object"), "C:/Windows/config.obj"),
        (("python_exe",), "/usr/bin/python3"),
        (("python_paths", "include"), "../../usr/include"),
        (("python_config_vars", "LIBRARY"), "../../../../../libpython3.11.a"),
    ],
)
def test_json_path_escaping_the_root(path: tuple[Any, ...], value: Any) -> None:
    document = minimal_metadata()
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(RelinkError) as caught:
        parse(document).core_static_lib  # noqa: B018  (LIBRARY is only joined when asked for)
    assert "escapes the distribution root" in str(caught.value)
    assert caught.value.code == ExitCode.INVALID_INPUT
