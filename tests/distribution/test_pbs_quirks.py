"""One synthetic archive per PBS metadata quirk (docs/pbs-quirks.md), each checked through the commands.

The archives are small but real: their objects come from real compilers (clang-22 for ELF, COFF and
Mach-O), MSVC /GL objects carry the real anonymous-object header lld-link recognises and refuses, and
import libraries are written by llvm-dlltool.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers_archives import SAMPLES, distribution_members, minimal_metadata, write_archive

from relink.cli import main
from relink.distribution import open_distribution
from relink.errors import ExitCode
from relink.plan import make_plan
from relink.report import license_report_from_plan

WINDOWS_JSON = SAMPLES / "PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json"
# An MSVC /GL object as cl.exe writes it: anonymous header (Sig1 0, Sig2 0xFFFF, version 1, x86-64) with
# the link-time code generation class id, then the (here empty) IL payload.
LTCG_OBJECT = (
    bytes.fromhex("0000ffff01006486") + bytes(4) + bytes.fromhex("38feb30ca5d9ab4dac9bd6b6222653c2")
    + (16).to_bytes(4, "little") + bytes(64)
)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("RELINK_CACHE_DIR", str(root))
    return root


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Real objects: an ELF object, an ar archive of it, a COFF object and a Windows import library."""
    work = tmp_path_factory.mktemp("objects")
    (work / "f.c").write_text("int relink_f(int x) { return x + 1; }\n")
    subprocess.run(["clang-22", "-c", "-fPIC", str(work / "f.c"), "-o", str(work / "f.o")], check=True)
    subprocess.run(["llvm-ar-22", "rcs", str(work / "libf.a"), str(work / "f.o")], check=True)
    subprocess.run(["clang-22", "--target=x86_64-pc-windows-msvc", "-c", str(work / "f.c"), "-o", str(work / "f.obj")],
                   check=True)
    (work / "ffi.def").write_text("LIBRARY libcrypto-3-x64.dll\nEXPORTS\nrelink_f\n")
    subprocess.run(["llvm-dlltool-22", "-m", "i386:x86-64", "-d", str(work / "ffi.def"), "-l", str(work / "imp.lib")],
                   check=True)
    return {name: (work / name).read_bytes() for name in ("f.o", "libf.a", "f.obj", "imp.lib")}


def _elf_archive(path: Path, objects: dict[str, bytes], metadata: dict[str, Any], skip: tuple[str, ...] = ()) -> Path:
    """The synthetic Linux archive with every listed object a real ELF object and every .a a real archive."""
    members = []
    for name, data in distribution_members(metadata, skip=skip):
        if isinstance(name, str) and name.endswith(".o"):
            data = objects["f.o"]
        elif isinstance(name, str) and name.endswith(".a"):
            data = objects["libf.a"]
        members.append((name, data))
    return write_archive(path, members)


# --------------------------------------------------------------------------------------------------
# Quirk: a listed file the archive lacks (3.10 i686 lacks two install files; any archive may lack one)


def test_missing_listed_file_refuses_only_the_selections_that_need_it(
    tmp_path: Path, objects: dict[str, bytes], capsys: pytest.CaptureFixture[str],
) -> None:
    archive = _elf_archive(tmp_path / "dist.tar.zst", objects, minimal_metadata(), skip=("build/lib/libssl.a",))
    assert main(["extensions", str(archive)]) == 0
    assert "_ssl" in capsys.readouterr().out
    assert main(["toolchain", "check", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "listed in PYTHON.json but missing from the distribution (build/lib/libssl.a)" in out
    assert main(["generate", str(archive), "-o", str(tmp_path / "minimal"), "--extensions", "minimal"]) == 0
    assert (tmp_path / "minimal" / "CMakeLists.txt").is_file()
    capsys.readouterr()

    assert main(["generate", str(archive), "-o", str(tmp_path / "default"), "--extensions", "default"]) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "python/build/lib/libssl.a" in err and "needed by _ssl" in err
    assert "-_ssl" in err and not (tmp_path / "default").exists()

    # The license texts are all there: the unrelated missing library does not hide them.
    assert main(["licenses", str(archive), "--extensions", "default"]) == 0
    captured = capsys.readouterr()
    assert "LICENSE.cpython.txt: named by" not in captured.err  # only the text the archive really lacks:
    assert "licenses/LICENSE.openssl-3.txt: named by PYTHON.json but missing" in captured.err
    assert "object licenses/LICENSE.cpython.txt" in captured.out


# --------------------------------------------------------------------------------------------------
# Quirk: the same variant listed twice (3.10 i686: _weakref, _testinternalcapi)


def test_duplicate_variants_are_kept_once_and_real_alternatives_numbered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    metadata = minimal_metadata()
    extensions = metadata["build_info"]["extensions"]
    extensions["math"] = extensions["math"] * 2
    alternative = dict(extensions["_ssl"][0], variant="openssl-1.1")
    extensions["_ssl"] = [extensions["_ssl"][0], alternative]
    path = tmp_path / "PYTHON.json"
    path.write_text(json.dumps(metadata))
    dist = open_distribution(path)
    assert len(dist.metadata.build_info.extensions["math"]) == 1
    assert main(["extensions", str(path)]) == 0
    rows = {line.split()[0] + " " + line.split()[1]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "(1 of 2)" in rows["_ssl default"] and "(2 of 2)" in rows["_ssl openssl-1.1"]
    assert " of " not in rows["math default"]


# --------------------------------------------------------------------------------------------------
# Quirk: MSVC /GL objects declared as plain `coff` (every PBS Windows pgo archive)


def _windows_archive(path: Path, objects: dict[str, bytes], obj: bytes, dlls: tuple[str, ...],
                     libs: tuple[str, ...]) -> Path:
    metadata = json.loads(WINDOWS_JSON.read_text())
    listed = sorted(open_distribution(WINDOWS_JSON).metadata.build_info.listed_paths())
    members: list[Any] = [("python/PYTHON.json", json.dumps(metadata).encode())]
    members += [(f"python/{rel}", obj) for rel in listed]
    members += [(f"python/install/DLLs/{dll}", b"MZ" + bytes(200)) for dll in dlls]
    members += [(f"python/build/lib/{lib}", objects["imp.lib"]) for lib in libs]
    members += [("python/install/include/Python.h", b"/* */\n"), ("python/licenses/LICENSE.cpython.txt", b"PSF\n")]
    return write_archive(path, members)


def test_ltcg_objects_are_refused_for_every_consumer_like_lld_link_does(
    tmp_path: Path, objects: dict[str, bytes], capsys: pytest.CaptureFixture[str],
) -> None:
    archive = _windows_archive(tmp_path / "win.tar.zst", objects, LTCG_OBJECT, (), ())
    assert main(["toolchain", "check", str(archive), "--linker", "lld-link-22", "--json"]) == ExitCode.TOOLCHAIN
    report = json.loads(capsys.readouterr().out)
    assert report["objects"]["effective_format"] == "coff-ltcg" and report["verdict"] == "refuse"
    assert {v["verdict"] for v in report["consumers"]} == {"refuse"}
    assert "MSVC's link.exe" in report["remedy"] and "without /GL" in report["remedy"]
    # The linker agrees: lld-link refuses the very same bytes.
    (tmp_path / "gl.obj").write_bytes(LTCG_OBJECT)
    linked = subprocess.run(["lld-link-22", "/dll", "/noentry", f"/out:{tmp_path / 'x.dll'}", str(tmp_path / "gl.obj")],
                            capture_output=True, text=True)
    assert linked.returncode != 0 and "is not a native COFF file" in linked.stderr


def test_native_coff_is_not_ok_for_an_elf_linker(tmp_path: Path, objects: dict[str, bytes],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    archive = _windows_archive(tmp_path / "win.tar.zst", objects, objects["f.obj"], (), ())
    assert main(["toolchain", "check", str(archive), "--linker", "ld.lld-22"]) == ExitCode.TOOLCHAIN
    out = capsys.readouterr().out
    assert "links elf objects only, not these native coff objects" in out
    assert main(["toolchain", "check", str(archive), "--linker", "lld-link-22"]) == 0
    out = capsys.readouterr().out
    assert "warn   clang-22" in out and "ok     lld-link-22" in out


def test_bare_python_json_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["toolchain", "check", str(WINDOWS_JSON)]) == ExitCode.INVALID_INPUT
    assert "has no objects to check" in capsys.readouterr().err
    assert main(["link-args", str(WINDOWS_JSON)]) == ExitCode.INVALID_INPUT
    assert "bare PYTHON.json has metadata only; link-args" in capsys.readouterr().err
    assert main(["generate", str(WINDOWS_JSON), "-o", str(tmp_path / "all"), "--format", "all"]) == ExitCode.INVALID_INPUT
    assert not (tmp_path / "all").exists()
    capsys.readouterr()
    assert main(["generate", str(WINDOWS_JSON), "-o", str(tmp_path / "cmake")]) == 0
    assert "has no build/ folder" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# Quirks: Windows link inputs (OpenSSL 1.1 DLL names for OpenSSL 3 files, import libraries without the
# DLL's version suffix, libffi's import library never shipped, _lzma's unannotated liblzma, expat twice)


def test_windows_link_inputs_follow_the_archive(tmp_path: Path, objects: dict[str, bytes],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    archive = _windows_archive(
        tmp_path / "win.tar.zst", objects, objects["f.obj"], ("libcrypto-3-x64.dll", "libssl-3-x64.dll", "libffi-8.dll"),
        ("libcrypto.lib", "libssl.lib", "liblzma.lib"),
    )
    assert main(["generate", str(archive), "-o", str(tmp_path / "ssl"), "--extensions", "default,+_ssl,+_lzma"]) == 0
    capsys.readouterr()
    plan = json.loads((tmp_path / "ssl" / "plan.json").read_text())
    libraries = {lib["name"]: lib for lib in plan["libraries"]}
    assert libraries["libcrypto"]["path"] == "install/DLLs/libcrypto-3-x64.dll"
    assert libraries["libssl"]["path"] == "install/DLLs/libssl-3-x64.dll"
    assert libraries["liblzma"] == {"name": "liblzma", "kind": "static", "path": "build/lib/liblzma.lib",
                                    "why": ["_lzma (liblzma: not annotated in PYTHON.json)"]}
    cmake = (tmp_path / "ssl" / "CMakeLists.txt").read_text()
    assert "install/DLLs/libcrypto-3-x64.dll" in cmake and "\n  libcrypto\n" in cmake
    expat = [obj["path"] for obj in plan["objects"] if obj["path"].endswith("/xmlparse.obj")]
    assert len(expat) == 1  # pyexpat and _elementtree each list it: linked once

    assert main(["generate", str(archive), "-o", str(tmp_path / "ctypes"), "--extensions", "minimal,+_ctypes"]) == 3
    err = capsys.readouterr().err
    assert "python/build/lib/libffi.lib" in err and "needed by _ctypes" in err


def test_vendored_code_gets_a_license_component() -> None:
    dist = open_distribution(WINDOWS_JSON)
    report = license_report_from_plan(dist, make_plan(dist, "minimal,+pyexpat,+_decimal"))
    keys = {component.key: component for component in report.components}
    assert keys["zlib"].pulled_in_by == ("core",) and keys["zlib"].spdx_ids == ("Zlib",)
    assert keys["expat"].spdx_ids == ("MIT",) and keys["mpdecimal"].spdx_ids == ("BSD-2-Clause",)
    assert any(note.startswith("zlib: compiled into core") for note in report.notes)
    assert "Zlib" in (report.spdx_expression or "") and "BSD-2-Clause" in (report.spdx_expression or "")


# --------------------------------------------------------------------------------------------------
# Quirk: macOS system libraries (libz, libedit, ncurses are part of macOS)


def test_macos_system_libraries_are_baseline() -> None:
    metadata = minimal_metadata()
    metadata.update(target_triple="aarch64-apple-darwin", crt_features=["libSystem"])
    extensions = metadata["build_info"]["extensions"]
    for name, lib in (("zlib", "z"), ("readline", "edit"), ("_curses", "ncurses")):
        extensions[name] = [{"in_core": False, "init_fn": f"PyInit_{name}", "objs": [f"build/Modules/{name}.o"],
                             "links": [{"name": lib, "system": True}], "required": False, "variant": "default"}]
    from relink.distribution.metadata import parse_python_json

    plan = make_plan(parse_python_json(json.dumps(metadata), "macos"), "default")
    assert {"zlib", "readline", "_curses"} <= set(plan.extension_names)


@pytest.mark.parametrize(("dll", "import_library"), [
    ("libcrypto-1_1-x64", "libcrypto"), ("libcrypto-1_1", "libcrypto"), ("libssl-3-x64", "libssl"),
    ("libffi-8", "libffi"), ("sqlite3", "sqlite3"), ("tcl86t", "tcl86t"), ("libcrypto-3-arm64", "libcrypto"),
])
def test_windows_import_library_names(dll: str, import_library: str) -> None:
    from relink.plan import windows_import_library

    assert windows_import_library(dll) == import_library


def test_every_linked_object_belongs_to_one_license_component() -> None:
    dist = open_distribution(WINDOWS_JSON)
    plan = make_plan(dist, "default,+_decimal")
    report = license_report_from_plan(dist, plan)
    owners: dict[str, list[str]] = {}
    for component in report.components:
        for obj in component.objects:
            owners.setdefault(obj, []).append(component.key)
    assert all(len(keys) == 1 for keys in owners.values())
    assert {obj.path for obj in plan.objects} <= set(owners)
    assert owners["build/core/adler32.obj"] == ["zlib"] and owners["build/extensions/_decimal/mpdecimal.obj"] == ["mpdecimal"]
    assert owners["build/extensions/_decimal/_decimal.obj"] == ["cpython"]
