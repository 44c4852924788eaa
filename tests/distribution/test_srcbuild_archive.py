"""The archive `relink dist build` produces, checked against the PBS format and against reality."""

from __future__ import annotations

import json
import subprocess
import tarfile

import pytest
import zstandard

from relink.distribution.opener import open_distribution
from relink.toolchain.objects import sniff_file
from relink.toolchain.pin import pinned_toolchain

# Every top-level field PBS writes for a Linux full archive (format 8), Tcl fields aside (no _tkinter).
PBS_TOP_LEVEL_FIELDS = {
    "version", "target_triple", "build_options", "optimizations", "python_tag", "python_abi_tag",
    "python_platform_tag", "python_implementation_name", "python_implementation_cache_tag",
    "python_implementation_hex_version", "python_implementation_version", "python_version",
    "python_major_minor_version", "python_paths", "python_paths_abstract", "python_config_vars", "python_exe",
    "python_stdlib_platform_config", "python_stdlib_test_packages", "python_suffixes",
    "python_bytecode_magic_number", "python_symbol_visibility", "python_extension_module_loading",
    "libpython_link_mode", "crt_features", "run_tests", "build_info", "licenses", "license_path",
}
# Built with Debian's -dev packages and libraries rebuilt for the glibc floor; _tkinter is deliberately left
# out, and readline (libedit needs a libbsd newer than the floor).
EXPECTED_BUILTINS = {"_ssl", "_hashlib", "_sqlite3", "_ctypes", "_decimal", "zlib", "_bz2", "_lzma", "pyexpat",
                     "_elementtree", "_curses", "_curses_panel", "_uuid", "_json", "math"}


def _members_and_metadata(archive):
    with archive.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as stream, \
            tarfile.open(fileobj=stream, mode="r|") as tar:
        members = []
        metadata = None
        for member in tar:
            if metadata is None:
                metadata = json.load(tar.extractfile(member))
            members.append(member)
    return members, metadata


@pytest.fixture(scope="module")
def lto(lto_archive):
    members, metadata = _members_and_metadata(lto_archive)
    return lto_archive, members, metadata


def _all_paths(metadata):
    info = metadata["build_info"]
    paths = [*info["core"]["objs"], info["core"]["static_lib"], info["inittab_object"], info["inittab_source"],
             metadata["license_path"], metadata["python_exe"], metadata["run_tests"],
             metadata["python_stdlib_platform_config"], *metadata["python_paths"].values()]
    for variants in info["extensions"].values():
        for variant in variants:
            paths += variant["objs"] + variant.get("license_paths", [])
            paths += [link["path_static"] for link in variant["links"] if "path_static" in link]
    return paths


def test_archive_name_and_layout(lto):
    archive, members, metadata = lto
    assert archive.name == "cpython-3.11.2+local-x86_64-unknown-linux-gnu-lto-full.tar.zst"
    assert members[0].name == "python/PYTHON.json"
    names = [m.name for m in members]
    assert names[1:] == sorted(names[1:]), "members after PYTHON.json are sorted"
    # Directory entries only for folders that are empty (python3 looks for its lib-dynload at start).
    folders = [m.name for m in members if m.isdir()]
    assert not [f for f in folders if any(n.startswith(f + "/") for n in names)], "only empty folders"
    assert "python/install/lib/python3.11/lib-dynload" in folders
    assert {m.mtime for m in members} == {members[0].mtime}, "one normalized mtime"
    assert all(n.startswith("python/") for n in names)


def test_metadata_fields_are_pbs_v8(lto):
    _, _, metadata = lto
    assert PBS_TOP_LEVEL_FIELDS <= set(metadata)
    assert metadata["version"] == "8"
    assert metadata["target_triple"] == "x86_64-unknown-linux-gnu"
    assert metadata["build_options"] == "lto"
    assert metadata["python_tag"] == "cp311"
    assert metadata["python_bytecode_magic_number"] == "a70d0d0a"
    info = metadata["build_info"]
    assert info["object_file_format"] == f"llvm-bitcode:{pinned_toolchain().version}"
    assert info["inittab_object"] in info["core"]["objs"], "PBS lists the inittab object among core objs"
    glibc = [f for f in metadata["crt_features"] if f.startswith("glibc-max-symbol-version:")]
    assert glibc == ["glibc-max-symbol-version:2.17"]


def test_every_path_in_metadata_exists_in_archive(lto):
    _, members, metadata = lto
    names = {m.name.removeprefix("python/") for m in members}
    dirs = {n.rsplit("/", i)[0] for n in names for i in range(1, n.count("/") + 1)}
    missing = [p for p in _all_paths(metadata) if p not in names and p not in dirs]
    assert missing == []


def test_extension_entries(lto):
    _, _, metadata = lto
    extensions = metadata["build_info"]["extensions"]
    assert EXPECTED_BUILTINS <= set(extensions)
    assert "_tkinter" not in extensions
    assert extensions["builtins"][0]["init_fn"] == "NULL" and extensions["builtins"][0]["in_core"]
    assert extensions["marshal"][0]["init_fn"] == "PyMarshal_Init"
    assert extensions["_warnings"][0]["init_fn"] == "_PyWarnings_Init"
    assert extensions["posix"][0]["required"] and not extensions["math"][0]["required"]
    ssl = extensions["_ssl"][0]
    assert {"name": "ssl", "path_static": "build/lib/libssl.a"} in ssl["links"]
    assert ssl["licenses"] == ["Apache-2.0"] and ssl["license_paths"] == ["licenses/LICENSE.openssl-3.txt"]
    for name, (variant,) in extensions.items():
        for link in variant["links"]:
            assert link.get("system") or link.get("path_static", "").startswith("build/lib/"), (name, link)
        if variant["in_core"]:
            assert variant["objs"] == []


def test_lto_objects_are_bitcode_from_the_pinned_llvm(lto_archive):
    dist = open_distribution(lto_archive)
    core = dist.metadata.build_info.core.objs
    for rel in (core[0], core[len(core) // 2], "build/Modules/_ssl.o"):
        info = sniff_file(dist.path(rel))
        assert info.format == "llvm-bitcode", rel
        assert info.llvm_version == pinned_toolchain().version, rel
    # Cross-check the byte-level reading against LLVM's own tool.
    dump = subprocess.run(["llvm-bcanalyzer-22", "-dump", str(dist.path(core[0]))],
                          capture_output=True, text=True, check=True).stdout
    assert f"LLVM{pinned_toolchain().version}" in dump
    # Third-party static libraries are native, as in PBS archives.
    assert sniff_file(dist.path("build/lib/libz.a")).is_bitcode is False


def test_installed_interpreter_runs_and_matches_metadata(lto_archive):
    dist = open_distribution(lto_archive)
    root = dist.extract()
    python = root / "python" / dist.metadata.python_exe
    ran = subprocess.run([str(python), "-c", "import ssl, sqlite3, ctypes, json, decimal"], capture_output=True,
                         text=True, check=True)
    assert ran.stderr == "", "python3 finds its prefixes (lib-dynload, even empty, is in the archive)"
    builtins = subprocess.run([str(python), "-c", "import sys; print(*sys.builtin_module_names)"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert set(builtins) == set(dist.metadata.build_info.extensions)


def test_elf_build_is_native(elf_archive):
    _, metadata = _members_and_metadata(elf_archive)
    assert elf_archive.name.endswith("-noopt-full.tar.zst")
    assert metadata["build_options"] == "noopt"
    assert metadata["build_info"]["object_file_format"] == "elf"
    dist = open_distribution(elf_archive)
    assert sniff_file(dist.path("build/Objects/abstract.o")).format == "elf"
