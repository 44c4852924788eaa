"""The embedded payload: which modules an app reaches, bytecode from the distribution's interpreter."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from relink.app.payload import APP_MARKER, AppSpec, collect_payload, compile_payload, payload_zip
from relink.distribution.opener import distribution_identity, open_distribution
from relink.errors import RelinkError


@pytest.fixture(scope="module")
def install(elf_archive) -> Path:
    dist = open_distribution(elf_archive)
    return dist.extract() / "python" / "install"


@pytest.fixture(scope="module")
def python(install) -> Path:
    return install / "bin" / "python3"


@pytest.fixture(scope="module")
def stdlib(install) -> Path:
    return install / "lib" / "python3.11"


def _app(tmp_path: Path, main: str, **files: str) -> Path:
    for name, text in {"app.py": main, **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "app.py"


def test_auto_follows_the_app_but_not_lazy_stdlib_imports(tmp_path, python, stdlib):
    script = _app(tmp_path, "import json\nimport helper\n", **{"helper.py": "def f():\n    import csv\n"})
    payload = collect_payload(python, stdlib, AppSpec(script), "auto", [])
    names = {m.name for m in payload.modules}
    assert {"json", "json.decoder", "helper", "encodings.utf_8", "runpy"} <= names
    assert "csv" in names, "imports inside the app's own functions are followed"
    assert "email" not in names and "asyncio" not in names, "lazy stdlib imports are not"
    assert {m.origin for m in payload.modules if m.name == "helper"} == {"app"}


def test_full_and_explicit_stdlib(python, stdlib):
    full = {m.name for m in collect_payload(python, stdlib, None, "full", []).modules}
    assert {"email", "asyncio", "json"} <= full
    assert not any(n.split(".")[0] in ("test", "tkinter", "idlelib") for n in full)
    listed = {m.name for m in collect_payload(python, stdlib, None, ["csv"], []).modules}
    assert "csv" in listed and "email" not in listed


def test_exclude_a_module_only_the_stdlib_imports(tmp_path, python, stdlib):
    script = _app(tmp_path, "import json\n")
    names = {m.name for m in collect_payload(python, stdlib, AppSpec(script), "auto", ["re"]).modules}
    assert "json" in names
    assert not any(n == "re" or n.startswith("re.") for n in names)


def test_excluded_but_imported_by_the_app(tmp_path, python, stdlib):
    script = _app(tmp_path, "import csv\n")
    with pytest.raises(RelinkError, match=r"module 'csv' is excluded \(--exclude\) but imported by __main__"):
        collect_payload(python, stdlib, AppSpec(script), "auto", ["csv"])


def test_bytecode_is_deterministic_and_from_the_distribution(tmp_path, python, stdlib, elf_archive):
    script = _app(tmp_path, "print('hi')\n")
    payload = collect_payload(python, stdlib, AppSpec(script), "auto", [])
    key = distribution_identity(open_distribution(elf_archive))[:20]
    first = payload_zip(compile_payload(python, payload, dist_key=key), app=True)
    second = payload_zip(compile_payload(python, payload, dist_key=key), app=True)
    assert first == second
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert archive.comment == APP_MARKER
    assert archive.namelist() == sorted(archive.namelist())
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    magic = bytes.fromhex(open_magic(python))
    assert all(archive.read(n)[:4] == magic for n in archive.namelist())


def open_magic(python: Path) -> str:
    import subprocess

    return subprocess.run([str(python), "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_syntax_error_names_file_and_line(tmp_path, python, stdlib):
    script = _app(tmp_path, "import helper\n", **{"helper.py": "x = 1\ndef broken(:\n"})
    with pytest.raises(RelinkError, match=r"helper\.py:2: SyntaxError"):
        collect_payload(python, stdlib, AppSpec(script), "auto", [])
    script.write_text("print('ok'\n")
    with pytest.raises(RelinkError, match=r"app\.py:1: SyntaxError"):
        collect_payload(python, stdlib, AppSpec(script), "auto", [])


def test_missing_app_and_entry_point(tmp_path, python, stdlib):
    with pytest.raises(RelinkError, match="nothing.py: app not found"):
        collect_payload(python, stdlib, AppSpec(tmp_path / "nothing.py"), "auto", [])
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "cli.py").write_text("def main():\n    return 0\n")
    with pytest.raises(RelinkError, match="entry module 'pkg.nope' not found"):
        collect_payload(python, stdlib, AppSpec(tmp_path, entry="pkg.nope"), "auto", [])
    with pytest.raises(RelinkError, match="entry function 'run' is not defined in module 'pkg.cli'"):
        collect_payload(python, stdlib, AppSpec(tmp_path, entry="pkg.cli:run"), "auto", [])
    payload = collect_payload(python, stdlib, AppSpec(tmp_path, entry="pkg.cli:main"), "auto", [])
    assert "from pkg.cli import main" in payload.main_generated


def test_native_extension_in_dependencies_is_refused(tmp_path, python, stdlib):
    deps = tmp_path / "deps"
    deps.mkdir()
    # A real shared object is not needed for the refusal: the finder sees an extension module file.
    (deps / "fastthing.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    script = _app(tmp_path / "src", "import fastthing\n")
    with pytest.raises(RelinkError, match=r"native extension modules cannot be linked.*fastthing"):
        collect_payload(python, stdlib, AppSpec(script, includes=(deps,)), "auto", [])


def test_auto_extension_set(elf_archive):
    from relink.app.build import resolve_extensions_spec
    from relink.app.payload import Payload

    dist = open_distribution(elf_archive)
    payload = Payload(modules=(), main_script=None, main_generated=None, missing={},
                      builtin_imports={"_hashlib": "optional", "_sha256": "optional", "_ssl": "required",
                                       "math": "required"})
    spec = resolve_extensions_spec("auto", payload, dist, app=True).split(",")
    assert spec[0] == "minimal"
    assert {"+_sha256", "+_ssl", "+math", "+zlib"} <= set(spec), "required imports, light optional ones, zlib"
    assert "+_hashlib" not in spec, "an optional import of OpenSSL's 6 MB is left to the fallback"
    assert "+zlib" not in resolve_extensions_spec("auto,-zlib", payload, dist, app=True).split(",")
    assert resolve_extensions_spec("auto,+_ctypes", payload, dist, app=False) == "default,+_ctypes"
    assert resolve_extensions_spec("minimal,+zlib", payload, dist, app=True) == "minimal,+zlib"
