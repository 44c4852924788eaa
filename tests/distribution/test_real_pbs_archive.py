"""Every command relink offers, on a real archive written by PBS itself (shared/real: CPython 3.10.3 for
i686-unknown-linux-gnu, LLVM 13 ThinLTO bitcode, PYTHON.json v7) and on a real Windows PYTHON.json.

Linking and running the i686 interpreter needs a 32-bit C library (the glibc floor work does that with
zig); here the binary `verify` reads is a real 32-bit PIE linked by lld from relink's config.c for this
archive, compiled against the archive's own headers, with the init functions as stubs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from relink.cli import main
from relink.errors import ExitCode

REAL = Path(__file__).resolve().parents[3] / "shared" / "real" / "cpython-3.10.3+real-i686-unknown-linux-gnu-lto-full.tar.zst"
WINDOWS_JSON = REAL.parents[1] / "samples" / "PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json"

pytestmark = pytest.mark.skipif(not REAL.is_file(), reason=f"the real PBS archive {REAL} is not on this machine")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_extensions_and_plan(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "extensions", str(REAL))
    assert code == 0
    rows = [line.split()[0] for line in out.splitlines()[1:]]
    assert rows.count("_weakref") == 1 and rows.count("_testinternalcapi") == 1
    assert "missing" not in out
    code, out, _ = _run(capsys, "plan", str(REAL), "--extensions", "default", "--json")
    plan = json.loads(out)
    assert code == 0 and plan["target_triple"] == "i686-unknown-linux-gnu" and plan["producer_llvm"] == "13.0.1"
    names = [ext["name"] for ext in plan["extensions"]]
    assert len(names) == len(set(names)) and {"_ssl", "_decimal", "pyexpat", "zlib"} <= set(names)


def test_toolchain_check_reads_every_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "toolchain", "check", str(REAL), "--json")
    report = json.loads(out)
    assert code == 0 and report["verdict"] == "warn"   # clang 22 reads LLVM 13 bitcode, a newer major
    assert report["objects"]["checked"] > 250 and report["objects"]["missing"] == []
    assert report["objects"]["effective_format"] == "llvm-bitcode"
    assert report["objects"]["producer_version"] == "13.0.1"
    code, _, err = _run(capsys, "toolchain", "check", str(REAL), "--cc", "gcc")
    assert code == ExitCode.TOOLCHAIN and "cannot read LLVM 13.0.1 bitcode" in err


def test_licenses_attribute_vendored_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "licenses", str(REAL), "--extensions", "minimal,+pyexpat,+_decimal,+zlib",
                          "--format", "json")
    report = json.loads(out)
    components = {c["key"]: c for c in report["components"]}
    assert code == 0
    assert components["expat"]["spdx_ids"] == ["MIT"] and components["expat"]["pulled_in_by"] == ["pyexpat"]
    assert components["mpdecimal"]["spdx_ids"] == ["BSD-2-Clause"]
    assert components["zlib"]["license_paths"] == ["licenses/LICENSE.zlib.txt"]
    assert report["texts"]["licenses/LICENSE.zlib.txt"].strip()
    # The archive has no expat or mpdecimal license text: said, not hidden.
    assert "the distribution has no licenses/LICENSE.expat.txt" in err
    assert "the distribution has no licenses/LICENSE.mpdecimal.txt" in err


def test_generate_cmake_configures_with_debian_cmake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "generate", str(REAL), "-o", str(tmp_path / "project"), "--extensions", "minimal")
    assert code == 0
    text = (tmp_path / "project" / "CMakeLists.txt").read_text()
    assert "cmake_minimum_required(VERSION 3.25)" in text and "LLVM bitcode: ThinLTO link" in text
    system_cmake = Path("/usr/bin/cmake")
    if not system_cmake.is_file():
        pytest.skip("no system cmake to check the minimum version against")
    configured = subprocess.run(
        [str(system_cmake), "-S", str(tmp_path / "project"), "-B", str(tmp_path / "build")],
        capture_output=True, text=True,
    )
    assert configured.returncode == 0, configured.stderr


def test_verify_reads_a_32_bit_binary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clang = shutil.which("clang-22")
    assert clang, "the pinned clang-22 is installed by toolchain/setup.sh"
    project = tmp_path / "project"
    assert main(["generate", str(REAL), "-o", str(project), "--extensions", "minimal,+zlib"]) == 0
    capsys.readouterr()
    plan = json.loads((project / "plan.json").read_text())
    # Python.h needs a 32-bit C library's headers, which this machine lacks: config.c needs only these two.
    (tmp_path / "shim").mkdir()
    (tmp_path / "shim" / "Python.h").write_text(
        "#include <stddef.h>\ntypedef struct _object PyObject;\n"
        "struct _inittab { const char *name; PyObject *(*initfunc)(void); };\n"
    )
    stubs = "".join(f"void *{ext['init_fn']}(void) {{ return 0; }}\n" for ext in plan["extensions"] if ext["init_fn"])
    (tmp_path / "stubs.c").write_text(stubs + "void _start(void) { for (;;) {} }\n")
    binary = tmp_path / "python32"
    subprocess.run(
        [clang, "--target=i686-linux-gnu", "-fPIE", "-pie", "-nostdlib", "-fuse-ld=lld", "-I", str(tmp_path / "shim"),
         str(project / "config.c"), str(tmp_path / "stubs.c"), "-o", str(binary)],
        check=True,
    )
    assert binary.read_bytes()[4] == 1  # ELFCLASS32
    code, out, _ = _run(capsys, "verify", str(binary), "--plan", str(project / "plan.json"), "--json")
    found = json.loads(out)
    assert code == 0, found
    assert "posix" in json.dumps(found) and "zlib" in json.dumps(found)
    code, _, err = _run(capsys, "verify", str(binary), "--expect-builtins", "posix,_io")
    assert code == ExitCode.VERIFY_FAILED and "inittab" in err.lower()


def test_windows_python_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "plan", str(WINDOWS_JSON), "--extensions", "default,+_ssl", "--json")
    plan = json.loads(out)
    libraries = {lib["name"]: lib["path"] for lib in plan["libraries"]}
    assert code == 0 and libraries["libcrypto"] == "install/DLLs/libcrypto-1_1-x64.dll"
    assert libraries["liblzma"] == "build/lib/liblzma.lib"
    code, out, err = _run(capsys, "licenses", str(WINDOWS_JSON), "--extensions", "default", "--format", "json")
    components = {c["key"]: c for c in json.loads(out)["components"]}
    assert code == 0 and components["zlib"]["pulled_in_by"] == ["core"]
    assert "cannot tell whether the archive has licenses/LICENSE.zlib.txt" in err
