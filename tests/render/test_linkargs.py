"""Target-specific link arguments: the reconstructed Linux 3.12 sample retargeted to macOS and musl (the
triple is what decides), the real Windows sample, and response-file quoting."""

from __future__ import annotations

import json
from pathlib import Path

from relink.distribution.metadata import parse_python_json
from relink.plan.selection import make_plan
from relink.render.files import render_response_file
from relink.render.linkargs import (
    cargo_lines,
    gnu_link_args,
    pyo3_config_lines,
    python_library_inputs,
    python_library_name,
)

LINUX = "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
WINDOWS = "PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json"


def _retargeted(samples_dir: Path, triple: str, extra_links: list | None = None):
    document = json.loads((samples_dir / LINUX).read_text())
    document["target_triple"] = triple
    if extra_links:
        document["build_info"]["extensions"]["_scproxy"] = [{
            "in_core": False, "init_fn": "PyInit__scproxy", "objs": ["build/Modules/_scproxy.o"],
            "links": extra_links, "required": False, "variant": "default"}]
    return parse_python_json(json.dumps(document), triple)


def test_darwin_frameworks_rdynamic_and_clang_rt(samples_dir: Path) -> None:
    meta = _retargeted(samples_dir, "aarch64-apple-darwin", [
        {"name": "CoreFoundation", "framework": True}, {"name": "SystemConfiguration", "framework": True}])
    plan = make_plan(meta, "minimal,+_scproxy,+zlib", export_dynamic=True)
    assert plan.platform == "darwin"
    args = gnu_link_args(plan, "/p")
    assert "/p/build/lib/libclang_rt.osx.a" in args and "-Wl,--start-group" not in args
    assert args[-5:] == ["-framework", "CoreFoundation", "-framework", "SystemConfiguration", "-rdynamic"]
    assert "-lm" not in args  # libm is part of libSystem; only Linux adds it to the core
    # clang_rt is packed into the one static library, which --export-dynamic links whole.
    assert "/p/build/lib/libclang_rt.osx.a" in python_library_inputs(plan, "/p")
    assert python_library_name(plan) == "libpython3.12.a"
    lines = cargo_lines(plan, "/p", "/lib")
    assert lines[:2] == ["cargo:rustc-link-search=native=/lib", "cargo:rustc-link-lib=static:+whole-archive=python3.12"]
    assert lines[-3:] == ["cargo:rustc-link-lib=framework=CoreFoundation",
                          "cargo:rustc-link-lib=framework=SystemConfiguration", "cargo:rustc-link-arg=-rdynamic"]
    assert not any("clang_rt" in line for line in lines)
    # The default preset takes frameworks: the OS provides them.
    assert "_scproxy" in make_plan(meta, "default").extension_names


def test_musl_groups_static_libraries(samples_dir: Path) -> None:
    plan = make_plan(_retargeted(samples_dir, "x86_64-unknown-linux-musl"), "minimal,+_ssl,+zlib")
    assert plan.libc == "musl"
    args = gnu_link_args(plan, "/p", ["/o/config.o"])
    assert args[0] == "/o/config.o"
    start, end = args.index("-Wl,--start-group"), args.index("-Wl,--end-group")
    assert args[start + 1:end] == ["/p/build/lib/libcrypto.a", "/p/build/lib/libssl.a", "/p/build/lib/libz.a"]
    assert args[end + 1:] == ["-lpthread", "-ldl", "-lutil", "-lm"]
    # Cargo gets one archive with every object and static library: no group or order to keep.
    assert python_library_inputs(plan, "/p", ["/o/config.o"]) == [
        arg for arg in args if not arg.startswith("-")]
    assert cargo_lines(plan, "/p", "/lib") == [
        "cargo:rustc-link-search=native=/lib", "cargo:rustc-link-lib=static=python3.12",
        *(f"cargo:rustc-link-lib=dylib={name}" for name in ("pthread", "dl", "util", "m"))]


def test_single_static_library_needs_no_group(samples_dir: Path) -> None:
    args = gnu_link_args(make_plan(_retargeted(samples_dir, "x86_64-unknown-linux-gnu"), "minimal,+zlib"), "/p")
    assert "-Wl,--start-group" not in args and "/p/build/lib/libz.a" in args


def test_windows_lib_names_and_dlls(samples_dir: Path) -> None:
    from relink.distribution.opener import open_distribution

    plan = make_plan(open_distribution(samples_dir / WINDOWS), "default,+_ssl", export_dynamic=True)
    args = gnu_link_args(plan, "C:/pbs/python")
    # The import library drops the DLL's version suffix: build/lib/libssl.lib, as PBS ships it.
    assert "ws2_32.lib" in args and "libssl.lib" in args and "-LC:/pbs/python/build/lib" in args
    assert not any(arg.startswith("-l") or "export-dynamic" in arg for arg in args)
    assert plan.runtime_files == ("install/DLLs/libcrypto-1_1-x64.dll", "install/DLLs/libssl-1_1-x64.dll")
    lines = pyo3_config_lines(plan, "C:/pbs/python", "C:/lib")
    assert lines[:8] == [
        "implementation=CPython", "version=3.11", "shared=false", "abi3=false", "lib_name=python311",
        "lib_dir=C:/lib", "pointer_width=64", "suppress_build_script_link_lines=true"]
    assert python_library_name(plan) == "python311.lib"
    assert "extra_build_script_line=cargo:rustc-link-lib=static:+whole-archive=python311" in lines
    assert "extra_build_script_line=cargo:rustc-link-lib=dylib=libssl" in lines
    assert "extra_build_script_line=cargo:rustc-link-search=native=C:/pbs/python/build/lib" in lines


def test_pyo3_config_lets_pyo3_link_the_packed_library(samples_dir: Path) -> None:
    plan = make_plan(_retargeted(samples_dir, "x86_64-unknown-linux-gnu"), "minimal,+_ssl,+zlib")
    assert pyo3_config_lines(plan, "/p", "/lib") == [
        "implementation=CPython", "version=3.12", "shared=false", "abi3=false", "lib_name=python3.12",
        "lib_dir=/lib", "pointer_width=64",
        *(f"extra_build_script_line=cargo:rustc-link-lib=dylib={name}" for name in ("pthread", "dl", "util", "m"))]


def test_response_file_quotes_what_needs_it(samples_dir: Path) -> None:
    plan = make_plan(_retargeted(samples_dir, "x86_64-unknown-linux-gnu"), "none")
    text = render_response_file(plan, '/my dir/"py"', [])
    assert text.splitlines()[0] == '"/my dir/\\"py\\"/build/Objects/abstract.o"'
    assert text.endswith("-lm\n")
