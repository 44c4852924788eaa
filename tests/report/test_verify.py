"""`relink verify` on real binaries: small C programs compiled here (own inittab, PIE and not, an extra
shared library, exported C API, stripped) and the real distribution's statically-linked-libpython python3.11."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from relink.cli import main
from relink.distribution.opener import open_distribution
from relink.errors import ExitCode, RelinkError
from relink.plan.selection import make_plan
from relink.report.binary_info import InittabEntry, read_binary
from relink.report.verify import Expectations, expectations_from_plan, is_base_library, verify_binary

CC = shutil.which("gcc") or shutil.which("clang-22")
pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler")

INITTAB_C = r"""
#include <stddef.h>
typedef void *(*initfunc)(void);
struct _inittab { const char *name; initfunc initfunc; };
void *PyInit_alpha(void) { return NULL; }
void *PyInit_beta(void) { return NULL; }
struct _inittab _PyImport_Inittab[] = {
    {"alpha", PyInit_alpha},
    {"builtins", NULL},
    {"beta", PyInit_beta},
    {0, 0}
};
int main(void) { return _PyImport_Inittab[1].initfunc != NULL; }
"""

C_API_C = r"""
void Py_Initialize(void) {}
void *PyObject_GetAttr(void *o, void *n) { return o ? o : n; }
int main(void) { Py_Initialize(); return PyObject_GetAttr(0, 0) != 0; }
"""

ZLIB_C = r"""
#include <zlib.h>
int main(void) { return zlibVersion()[0] == 0; }
"""


def compile_c(tmp_path: Path, name: str, source: str, *flags: str) -> Path:
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    out = tmp_path / name
    subprocess.run([CC, "-O1", "-o", str(out), str(src), *flags], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("flags", [("-fPIE", "-pie"), ("-fno-pie", "-no-pie")], ids=["pie", "no-pie"])
def test_inittab_is_read_from_relocations_or_absolute_pointers(tmp_path: Path, flags: tuple[str, ...]) -> None:
    binary = compile_c(tmp_path, "inittab", INITTAB_C, *flags)
    info = read_binary(binary)
    assert info.pie is (flags[0] == "-fPIE")
    assert info.inittab == (
        InittabEntry("alpha", "PyInit_alpha"), InittabEntry("builtins", None), InittabEntry("beta", "PyInit_beta"),
    )
    assert verify_binary(binary, Expectations(builtins=("beta", "builtins", "alpha"))).ok


def test_inittab_mismatch_is_one_line_per_problem(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "inittab", INITTAB_C)
    report = verify_binary(binary, Expectations(builtins=("alpha", "builtins", "gamma")))
    assert report.problems == (
        "inittab lacks expected builtin modules: gamma",
        "inittab has unexpected builtin modules: beta",
    )


def test_stripped_binary_has_no_readable_inittab(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "inittab", INITTAB_C, "-s")
    info = read_binary(binary)
    assert info.stripped and info.inittab is None
    assert verify_binary(binary).ok   # nothing expected of the inittab: not a problem
    report = verify_binary(binary, Expectations(builtins=("alpha",)))
    assert report.problems == ("has no readable _PyImport_Inittab (stripped, or not a Python executable)",)


def test_extra_shared_library_is_flagged_unless_allowed(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "withz", ZLIB_C, "-lz")
    report = verify_binary(binary)
    assert report.info.needed == ("libz.so.1", "libc.so.6")
    assert report.problems == ("needs shared library libz.so.1, which is not a base system library",)
    assert verify_binary(binary, Expectations(allowed_libraries=("libz.so.1",))).ok


def test_base_libraries() -> None:
    for soname in ("libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "libutil.so.1", "librt.so.1",
                   "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libgcc_s.so.1", "libc.musl-x86_64.so.1"):
        assert is_base_library(soname), soname
    for soname in ("libz.so.1", "libssl.so.3", "libcrypt.so.1", "libstdc++.so.6", "libpython3.11.so.1.0"):
        assert not is_base_library(soname), soname


def test_max_glibc_violation_names_the_version_and_symbols(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "inittab", INITTAB_C)
    info = read_binary(binary)
    # Debian 12's glibc 2.36: __libc_start_main@GLIBC_2.34 in every program linked against it.
    assert info.glibc_required is not None and info.glibc_required >= (2, 34)
    report = verify_binary(binary, Expectations(max_glibc=(2, 17)))
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"requires GLIBC_{info.glibc_required_text} (for ")
    assert report.problems[0].endswith("newer than the allowed 2.17")
    assert verify_binary(binary, Expectations(max_glibc=info.glibc_required)).ok


def test_exported_c_api(tmp_path: Path) -> None:
    exported = compile_c(tmp_path, "exported", C_API_C, "-rdynamic")
    hidden = compile_c(tmp_path, "hidden", C_API_C)
    assert read_binary(exported).exports_c_api and not read_binary(hidden).exports_c_api
    assert verify_binary(exported, Expectations(exports_c_api=True)).ok
    assert verify_binary(hidden, Expectations(exports_c_api=True)).problems[0].startswith(
        "does not export the Python C API"
    )


def test_non_elf_files_are_invalid_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    pe = tmp_path / "python.exe"
    pe.write_bytes(b"MZ" + bytes(200))
    damaged = tmp_path / "damaged"
    damaged.write_bytes(b"\x7fELF" + bytes(8))
    with pytest.raises(RelinkError, match="not an ELF file"):
        read_binary(text)
    assert main(["verify", str(pe)]) == ExitCode.INVALID_INPUT
    assert capsys.readouterr().err == (
        f"relink: error: {pe}: a PE (Windows) executable, which relink cannot read; "
        "relink verify reads ELF executables (32- and 64-bit) only\n"
    )
    assert main(["verify", str(damaged)]) == ExitCode.INVALID_INPUT
    assert main(["verify", str(tmp_path / "absent")]) == ExitCode.INVALID_INPUT
    (tmp_path / "obj.c").write_text("int f(void) { return 1; }\n")
    subprocess.run([CC, "-c", "-o", str(tmp_path / "obj.o"), str(tmp_path / "obj.c")], check=True)
    with pytest.raises(RelinkError, match="an ELF REL file, not an executable"):
        read_binary(tmp_path / "obj.o")


def test_cli_exit_code_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = compile_c(tmp_path, "withz", ZLIB_C, "-lz")
    assert main(["verify", str(binary), "--max-glibc", "2.17", "--expect-builtins", "alpha"]) == ExitCode.VERIFY_FAILED
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith(f"relink: verify: {binary}: ") for line in err)
    assert main(["verify", str(binary), "--allow-library", "libz.so.1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["binary"]["needed"] == ["libz.so.1", "libc.so.6"] and data["problems"] == []
    assert main(["verify", str(binary), "--max-glibc", "two"]) == ExitCode.USAGE


@pytest.fixture(scope="module")
def real_python(elf_archive: Path) -> tuple[Path, object]:
    dist = open_distribution(elf_archive)
    return dist.path("install/bin/python3.11"), dist


@pytest.mark.slow
def test_real_python_inittab_is_the_metadata_extensions(real_python: tuple[Path, object]) -> None:
    binary, dist = real_python
    info = read_binary(binary)
    assert info.inittab is not None
    assert sorted(info.builtin_names) == sorted(dist.metadata.build_info.extensions)
    rows = {entry.name: entry.init_fn for entry in info.inittab}
    assert rows["builtins"] is None and rows["sys"] is None
    for name, (variant, *_) in dist.metadata.build_info.extensions.items():
        assert rows[name] == variant.init_fn, name
    assert info.exports_c_api and not info.stripped and info.sections[".text"] > 1_000_000
    # The build's own interpreter links the shipped static libraries too: nothing beyond the C runtime, and
    # nothing newer than the floor its PYTHON.json states.
    report = verify_binary(binary, expectations_from_plan(make_plan(dist, "all"), dist.metadata))
    assert report.info.glibc_required <= dist.metadata.crt_features.glibc_max_version == (2, 17)
    assert report.ok, report.problems


@pytest.mark.slow
def test_real_python_against_a_saved_plan(
    real_python: tuple[Path, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary, dist = real_python
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(make_plan(dist, "minimal").to_json_text())
    code = main(["verify", str(binary), "--plan", str(plan_file), "--dist", str(dist.source), "--allow-library",
                 *"libffi.so.8 --allow-library libz.so.1".split()])
    assert code == ExitCode.VERIFY_FAILED
    err = capsys.readouterr().err
    assert "inittab has unexpected builtin modules: " in err and "_sqlite3" in err
    assert "inittab lacks" not in err and "libz.so.1" not in err and "GLIBC" not in err
    bad_plan = tmp_path / "bad.json"
    bad_plan.write_text("{}")
    assert main(["verify", str(binary), "--plan", str(bad_plan)]) == ExitCode.INVALID_INPUT


EMBED_C = r"""
#include <Python.h>
int main(void) { Py_Initialize(); return Py_FinalizeEx(); }
"""


@pytest.mark.slow
def test_program_embedding_libpython_from_the_archive(real_python: tuple[Path, object], tmp_path: Path) -> None:
    """libpython3.11.a plus the distribution's own static libraries, linked by the host's cc: nothing is left
    dynamic beyond the C runtime (the floor distribution has no _crypt, so -lcrypt is dropped as unneeded),
    but the host's glibc is newer than the floor, and that is flagged; the inittab is libpython's config.c."""
    _, dist = real_python
    python = dist.extract() / "python"
    meta = dist.metadata
    static_libs = sorted(str(p) for p in (python / "build" / "lib").glob("*.a"))
    binary = compile_c(
        tmp_path, "embed", EMBED_C, f"-I{python / meta.python_paths['include']}",
        str(python / meta.core_static_lib), "-Wl,--start-group", *static_libs, "-Wl,--end-group",
        "-lcrypt", "-lm", "-ldl", "-lpthread", "-lutil",
    )
    report = verify_binary(binary, expectations_from_plan(make_plan(dist, "all"), meta))
    # Linked by the host's cc against its glibc 2.36, not the distribution's 2.17 floor: flagged.
    assert "_crypt" not in meta.build_info.extensions
    (glibc,) = report.problems
    assert glibc.startswith("requires GLIBC_2.3") and glibc.endswith("newer than the allowed 2.17"), glibc
    assert "libcrypt.so.1" not in report.info.needed
    assert not report.info.exports_c_api
    minimal = verify_binary(binary, expectations_from_plan(make_plan(dist, "minimal,+zlib"), meta))
    assert minimal.problems[0] == glibc
    assert minimal.problems[1].startswith("inittab has unexpected builtin modules: _asyncio, _bisect, ")
