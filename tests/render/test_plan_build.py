"""Generated projects built for real: cmake + ninja (from the venv) with the pinned clang/lld against the
source-built CPython 3.11 distributions, run, and compared with their plan. Native ELF objects for most
(links take a fraction of a second), one ThinLTO build from the bitcode archive (about half a minute)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relink.cli import main as relink_main
from relink.distribution.opener import Distribution, open_distribution
from relink.plan.model import LinkPlan
from relink.plan.selection import make_plan
from relink.render.files import render_main_c
from relink.render.project import render_project
from relink.toolchain.pin import pinned_toolchain

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PROBE = "import sys; print(','.join(sys.builtin_module_names)); print(sum(range(10)))"


def _home(dist: Distribution) -> Path:
    stdlib = dist.metadata.python_paths["stdlib"]
    return dist.extract([stdlib]) / "python" / "install"


def _build(plan: LinkPlan, dist: Distribution, where: Path) -> tuple[Path, float]:
    project = render_project(plan, dist, where / "project")
    build = where / "build"
    subprocess.run(
        [str(BIN / "cmake"), "-S", str(project), "-B", str(build), "-G", "Ninja",
         f"-DCMAKE_MAKE_PROGRAM={BIN / 'ninja'}"],
        check=True, capture_output=True, text=True,
    )
    started = time.monotonic()
    result = subprocess.run([str(BIN / "cmake"), "--build", str(build)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return build / "python", time.monotonic() - started


def _run(exe: Path, dist: Distribution, code: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "PYTHONHOME": str(_home(dist)), **env}
    return subprocess.run([str(exe), "-c", code, *args], capture_output=True, text=True, env=environment,
                          timeout=60, encoding="utf-8")


def _check_runs_as_planned(exe: Path, dist: Distribution, plan: LinkPlan) -> None:
    result = _run(exe, dist, PROBE)
    assert result.returncode == 0, result.stderr
    names, total = result.stdout.split()
    assert tuple(names.split(",")) == tuple(sorted(plan.extension_names))
    assert total == "45"


def test_minimal_elf_build_starts_and_lacks_what_it_left_out(elf_archive: Path, tmp_path: Path) -> None:
    dist = open_distribution(elf_archive)
    plan = make_plan(dist, "minimal")
    exe, _ = _build(plan, dist, tmp_path)
    _check_runs_as_planned(exe, dist, plan)
    # The stdlib's pure-Python json works without _json; math has no fallback: it really is absent.
    assert _run(exe, dist, "import json, os, io; print(json.dumps([1]))").stdout == "[1]\n"
    missing = _run(exe, dist, "import math")
    assert missing.returncode == 1 and "No module named 'math'" in missing.stderr


def test_default_elf_build_has_its_libraries_and_not_crypt(elf_archive: Path, tmp_path: Path) -> None:
    dist = open_distribution(elf_archive)
    plan = make_plan(dist, "default")
    assert "_crypt" not in plan.extension_names and "_ssl" in plan.extension_names
    exe, _ = _build(plan, dist, tmp_path)
    _check_runs_as_planned(exe, dist, plan)
    result = _run(exe, dist, "import ssl, sqlite3, zlib, ctypes, decimal, lzma, bz2; "
                             "print(zlib.decompress(zlib.compress(b'ok')).decode(), sqlite3.sqlite_version > '3')")
    assert result.stdout == "ok True\n", result.stderr
    assert "No module named '_crypt'" in _run(exe, dist, "import _crypt").stderr
    needed = subprocess.run(["readelf", "-d", str(exe)], capture_output=True, text=True).stdout
    # Static libraries from build/lib are inside: only the C runtime is needed at run time.
    assert "libz.so" not in needed and "libssl" not in needed and "libsqlite3" not in needed


def _compile_extension(dist: Distribution, where: Path) -> Path:
    """A tiny external extension module `relinkext.so` using the C API from the executable."""
    source = where / "relinkext.c"
    source.write_text(
        "#include <Python.h>\n"
        "static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, \"relinkext\", NULL, -1, NULL};\n"
        "PyMODINIT_FUNC PyInit_relinkext(void) {\n"
        "    PyObject *m = PyModule_Create(&def);\n"
        "    if (m) PyModule_AddObject(m, \"answer\", PyLong_FromLong(42));\n"
        "    return m;\n}\n"
    )
    include = dist.path(dist.metadata.python_paths["include"])
    subprocess.run([pinned_toolchain().clang, "-shared", "-fPIC", "-I", str(include), str(source),
                    "-o", str(where / "relinkext.so")], check=True)
    return where


def test_export_dynamic_loads_an_external_extension_module(elf_archive: Path, tmp_path: Path) -> None:
    dist = open_distribution(elf_archive)
    ext_dir = _compile_extension(dist, tmp_path)
    code = "import relinkext; print(relinkext.answer)"
    exported, _ = _build(make_plan(dist, "minimal", export_dynamic=True), dist, tmp_path / "exported")
    assert _run(exported, dist, code, PYTHONPATH=str(ext_dir)).stdout == "42\n"
    closed, _ = _build(make_plan(dist, "minimal"), dist, tmp_path / "closed")
    refused = _run(closed, dist, code, PYTHONPATH=str(ext_dir))
    assert refused.returncode == 1 and "undefined symbol" in refused.stderr


def test_gnu_link_args_link_a_working_interpreter(elf_archive: Path, tmp_path: Path, capsys) -> None:
    dist = open_distribution(elf_archive)
    assert relink_main(["link-args", str(elf_archive), "--extensions", "minimal,+math"]) == 0
    (tmp_path / "link.rsp").write_text(capsys.readouterr().out)
    plan = make_plan(dist, "minimal,+math")
    (tmp_path / "main.c").write_text(render_main_c(plan))
    include = dist.path(plan.include_dir)
    clang = pinned_toolchain().clang
    subprocess.run([clang, "-c", "-I", str(include), str(tmp_path / "main.c"), "-o", str(tmp_path / "main.o")], check=True)
    subprocess.run([clang, "-fuse-ld=lld", str(tmp_path / "main.o"), f"@{tmp_path / 'link.rsp'}",
                    "-o", str(tmp_path / "python")], check=True)
    assert _run(tmp_path / "python", dist, "import math; print(math.factorial(5))").stdout == "120\n"
    # The generated main.c pre-initialises like `python`: without LANG the C locale is coerced to UTF-8.
    text = _run(tmp_path / "python", dist, "import sys; print('é', sys.flags.utf8_mode, sys.argv[1:])", "hé")
    assert (text.returncode, text.stdout) == (0, "é 1 ['hé']\n"), text.stderr


def test_thinlto_build_from_bitcode(lto_archive: Path, tmp_path: Path) -> None:
    dist = open_distribution(lto_archive)
    plan = make_plan(dist, "minimal,+_json,+math")
    assert plan.lto
    exe, seconds = _build(plan, dist, tmp_path)
    _check_runs_as_planned(exe, dist, plan)
    assert (tmp_path / "build" / "thinlto-cache").is_dir()
    print(f"ThinLTO link of {len(plan.objects)} objects: {seconds:.1f} s, {exe.stat().st_size} bytes")


def test_generated_project_runs_anywhere_with_its_stdlib_zip(elf_archive: Path, tmp_path: Path, capsys) -> None:
    assert relink_main(["generate", str(elf_archive), "-o", str(tmp_path / "out"), "--extensions",
                        "minimal,+_json"]) == 0
    capsys.readouterr()
    build = tmp_path / "out" / "build"
    subprocess.run([str(BIN / "cmake"), "-S", str(tmp_path / "out"), "-B", str(build), "-G", "Ninja",
                    f"-DCMAKE_MAKE_PROGRAM={BIN / 'ninja'}"], check=True, capture_output=True, text=True)
    built = subprocess.run([str(BIN / "cmake"), "--build", str(build)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name in ("python", "python311.zip"):
        (shipped / name).write_bytes((build / name).read_bytes())
    (shipped / "python").chmod(0o755)
    result = subprocess.run(["env", "-i", str(shipped / "python"), "-c", "import json, sys; print(json.__file__, sys.path)"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{shipped}/python311.zip/json/__init__.pyc ['{shipped}/python311.zip']\n"
    strings = subprocess.run(["strings", str(shipped / "python")], capture_output=True, text=True).stdout
    assert "/relink/" not in strings and "python/install" not in strings
