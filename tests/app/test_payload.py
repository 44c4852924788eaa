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
    full_payload = collect_payload(python, stdlib, None, "full", [])
    full = {m.name for m in full_payload.modules}
    # Importable by name though not an identifier (sysconfig imports it); venv and ensurepip for `-m venv`.
    assert {"email", "asyncio", "json", "venv", "ensurepip", "_sysconfigdata__linux_x86_64-linux-gnu"} <= full
    # ensurepip's bundled wheels, venv's activate scripts (common, and POSIX's shells).
    assert [arcname.rsplit("/", 1)[0] for arcname in full_payload.data] == \
        ["ensurepip/_bundled"] * 2 + ["venv/scripts/common"] * 2 + ["venv/scripts/posix"] * 2
    assert not any(n.split(".")[0] in ("test", "tkinter", "idlelib") for n in full)
    listed = {m.name for m in collect_payload(python, stdlib, None, ["csv"], []).modules}
    assert "csv" in listed and "email" not in listed


def test_multiprocessing_brings_what_its_children_import(tmp_path, python, stdlib):
    script = _app(tmp_path, "import multiprocessing\nfrom concurrent.futures import ProcessPoolExecutor\n")
    names = {m.name for m in collect_payload(python, stdlib, AppSpec(script), "auto", []).modules}
    assert {"multiprocessing.popen_spawn_posix", "multiprocessing.popen_forkserver", "multiprocessing.spawn",
            "multiprocessing.forkserver", "concurrent.futures.process", "runpy", "pkgutil"} <= names
    plain = _app(tmp_path / "plain", "import json\n")
    names = {m.name for m in collect_payload(python, stdlib, AppSpec(plain), "auto", []).modules}
    assert not any(n.startswith(("multiprocessing", "concurrent")) for n in names)


@pytest.mark.parametrize("code, brings", [
    ("import time\nprint(time.time())\n", False),
    ("import time\ndef when(text):\n    return time.strptime(text, '%Y')\n", True),
    ("from time import strptime\n", True),
    ("import datetime\n", True),
])
def test_strptime_module_only_where_strptime_can_run(tmp_path, python, stdlib, code, brings):
    # time.strptime imports _strptime from C, which the scan cannot see: it is embedded when some reached
    # code names strptime, and not for every app that imports time (it brings calendar, locale, datetime).
    names = {m.name for m in collect_payload(python, stdlib, AppSpec(_app(tmp_path, code)), "auto", []).modules}
    assert ("_strptime" in names) is brings
    assert ("calendar" in names) is brings


def test_imports_for_type_checkers_only_are_not_followed(tmp_path, python, stdlib):
    script = _app(tmp_path, "import typing\nimport helper\n", **{"helper.py": (
        "from typing import TYPE_CHECKING\nimport typing as t\n"
        "if TYPE_CHECKING:\n    import asyncio\n"
        "if t.TYPE_CHECKING:\n    from email import message\nelse:\n    import csv\n"
        "def f():\n    if TYPE_CHECKING:\n        import sqlite3\n    import json\n")})
    names = {m.name for m in collect_payload(python, stdlib, AppSpec(script), "auto", []).modules}
    assert {"csv", "json"} <= names, "the else branch and imports outside the block are followed"
    assert not {"asyncio", "email", "email.message", "sqlite3"} & names


def test_logging_alone_does_not_bring_its_handlers(tmp_path, python, stdlib):
    names = {m.name for m in collect_payload(python, stdlib, AppSpec(_app(tmp_path, "import logging\n")),
                                             "auto", []).modules}
    assert "logging" in names and "logging.handlers" not in names and "socket" not in names
    config = _app(tmp_path / "config", "import logging.config\n")
    assert "logging.handlers" in {m.name for m in collect_payload(python, stdlib, AppSpec(config), "auto", []).modules}


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


def test_native_module_for_another_python_is_refused(tmp_path, python, stdlib):
    deps = tmp_path / "deps"
    deps.mkdir()
    # Only the file name matters here: the finder does not load it.
    (deps / "fastthing.cpython-310-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    script = _app(tmp_path / "src", "import fastthing\n")
    with pytest.raises(RelinkError, match=r"fastthing.cpython-310.*built for another Python or platform"):
        collect_payload(python, stdlib, AppSpec(script, includes=(deps,)), "auto", [])


@pytest.mark.parametrize("tag, fits", [
    ("cp311-cp311-manylinux_2_17_x86_64", True), ("cp310-abi3-manylinux2014_x86_64", True),
    ("cp311-cp311-musllinux_1_2_x86_64", False),
    ("cp311-cp311-manylinux_2_17_aarch64", False), ("cp312-abi3-manylinux_2_17_x86_64", False),
])
def test_wheel_tags_must_fit_the_distribution(tmp_path, python, stdlib, tag, fits):
    from relink.app.payload import WheelTarget

    deps = tmp_path / "deps"
    (deps / "fast").mkdir(parents=True)
    (deps / "fast" / "__init__.py").write_text("from fast import _speed\n")
    (deps / "fast" / "_speed.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    info = deps / "fast-1.0.dist-info"
    info.mkdir()
    (info / "WHEEL").write_text(f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n")
    (info / "RECORD").write_text("fast/__init__.py,,\nfast/_speed.cpython-311-x86_64-linux-gnu.so,,\n")
    script = _app(tmp_path / "src", "import fast\n")
    target = WheelTarget(python=(3, 11), arch="x86_64", libc="glibc", glibc=(2, 36))
    if fits:
        payload = collect_payload(python, stdlib, AppSpec(script, includes=(deps,)), "auto", [], target=target)
        assert [n.member for n in payload.natives] == ["fast/_speed.cpython-311-x86_64-linux-gnu.so"]
        assert "fast-1.0.dist-info/WHEEL" in payload.data
    else:
        with pytest.raises(RelinkError, match=r"_speed.*native module 'fast._speed' comes from a wheel for .*does not fit"):
            collect_payload(python, stdlib, AppSpec(script, includes=(deps,)), "auto", [], target=target)


def test_a_wheel_for_a_newer_glibc_than_the_floor_is_left_out_with_a_warning(tmp_path, python, stdlib):
    from relink.app.payload import WheelTarget

    deps = tmp_path / "deps"
    (deps / "fast").mkdir(parents=True)
    (deps / "fast" / "__init__.py").write_text("try:\n    from fast import _speed\nexcept ImportError:\n    pass\n")
    (deps / "fast" / "_speed.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    info = deps / "fast-1.0.dist-info"
    info.mkdir()
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_39_x86_64\n"
                                "Tag: cp311-cp311-manylinux_2_28_x86_64\n")
    (info / "RECORD").write_text("fast/__init__.py,,\nfast/_speed.cpython-311-x86_64-linux-gnu.so,,\n")
    script = _app(tmp_path / "src", "import fast\n")
    app = AppSpec(script, includes=(deps,))
    floor = WheelTarget(python=(3, 11), arch="x86_64", libc="glibc", glibc=(2, 17))
    payload = collect_payload(python, stdlib, app, "auto", [], target=floor)
    assert payload.natives == () and "fast/_speed.cpython-311-x86_64-linux-gnu.so" not in payload.data
    assert payload.warnings == (f"{deps / 'fast' / '_speed.cpython-311-x86_64-linux-gnu.so'}: native module "
                                "'fast._speed' left out: the wheel needs glibc 2.28, newer than the app's floor "
                                "2.17 (--glibc 2.28 embeds it)",)
    with pytest.raises(RelinkError, match=r"'fast._speed' left out: .*; --strict refuses it"):
        collect_payload(python, stdlib, app, "auto", [], target=floor, strict=True)
    raised = WheelTarget(python=(3, 11), arch="x86_64", libc="glibc", glibc=(2, 28))
    assert [n.name for n in collect_payload(python, stdlib, app, "auto", [], target=raised).natives] == ["fast._speed"]


def test_unresolved_imports_warn_with_file_and_line_and_strict_refuses(tmp_path, python, stdlib):
    script = _app(tmp_path / "src", "import os\ntry:\n    import optional_thing\nexcept ImportError:\n    pass\n"
                  "import helper\n", **{"helper.py": "\n\nimport not_installed_anywhere\n"
                                         "def later():\n    import nor_this_one\n"})
    payload = collect_payload(python, stdlib, AppSpec(script), "auto", [])
    helper = tmp_path / "src" / "helper.py"
    assert payload.warnings == (f"{helper}:3: module 'not_installed_anywhere' is imported but not found",
                                f"{helper}:5: module 'nor_this_one' is imported but not found")
    with pytest.raises(RelinkError, match=r"helper.py:3: module 'not_installed_anywhere'.*\(and 1 more\); --strict"):
        collect_payload(python, stdlib, AppSpec(script), "auto", [], strict=True)


def test_scan_survives_deep_import_chains_and_deep_nesting(tmp_path, python, stdlib):
    files = {f"chain{i}.py": f"import chain{i + 1}\n" for i in range(1500)}
    files["chain1500.py"] = "VALUE = " + "(" * 90 + "1" + ")" * 90 + " + 1" * 3000 + "\n"
    script = _app(tmp_path / "src", "import chain0\n", **files)
    payload = collect_payload(python, stdlib, AppSpec(script), "auto", [])
    assert {f"chain{i}" for i in range(1501)} <= {m.name for m in payload.modules}


def test_whole_packages_data_and_metadata_are_embedded(tmp_path, python, stdlib):
    deps = tmp_path / "deps"
    (deps / "plug" / "plugins").mkdir(parents=True)
    (deps / "plug" / "tests").mkdir()
    (deps / "plug" / "__init__.py").write_text("import importlib\ndef load(n):\n"
                                             "    return importlib.import_module('plug.plugins.' + n)\n")
    (deps / "plug" / "plugins" / "__init__.py").write_text("")
    (deps / "plug" / "plugins" / "shout.py").write_text("import textwrap\n")
    (deps / "plug" / "tests" / "test_x.py").write_text("import pytest\n")
    (deps / "plug" / "words.txt").write_text("hello\n")
    (deps / "plug" / "plugins" / "table.json").write_text("{}")
    info = deps / "plug-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plug\nVersion: 2.0\n")
    (info / "RECORD").write_text("plug/__init__.py,,\nplug-2.0.dist-info/METADATA,,\n")
    (deps / "other-1.0.dist-info").mkdir()
    (deps / "other-1.0.dist-info" / "RECORD").write_text("other/__init__.py,,\n")
    script = _app(tmp_path / "src", "import plug\nprint(plug.load('shout'))\n")
    payload = collect_payload(python, stdlib, AppSpec(script, includes=(deps,)), "auto", [])
    names = {m.name for m in payload.modules}
    assert {"plug", "plug.plugins", "plug.plugins.shout", "textwrap"} <= names
    assert not any(n.startswith("plug.tests") for n in names)
    assert set(payload.data) == {"plug/words.txt", "plug/plugins/table.json", "plug-2.0.dist-info/METADATA",
                                 "plug-2.0.dist-info/RECORD"}
    shout = next(m for m in payload.modules if m.name == "plug.plugins.shout")
    assert shout.display_name == "plug/plugins/shout.py", "tracebacks name files relative to the app"


@pytest.mark.parametrize("app_imports_extra", [False, True])
def test_modules_added_with_their_package_pull_in_other_packages_only_when_they_must(tmp_path, python, stdlib,
                                                                                   app_imports_extra):
    deps = tmp_path / "deps"
    files = {
        "plug/__init__.py": "",
        # An optional feature: its other packages are imported guarded or in a function.
        "plug/extra.py": "try:\n    import guarded\nexcept ImportError:\n    guarded = None\n"
                         "def f():\n    import infunction\n",
        # Glue that cannot be imported here (`absent` is not installed), so its `needed` is not needed.
        "plug/glue.py": "import needed\nimport absent\n",
        # A plugin whose other package is imported when it is: that one comes too.
        "plug/core.py": "import required\nfrom . import extra\n",
        **{f"{name}/__init__.py": "" for name in ("guarded", "infunction", "needed", "required")},
    }
    for name, text in files.items():
        (deps / name).parent.mkdir(parents=True, exist_ok=True)
        (deps / name).write_text(text)
    script = _app(tmp_path / "src", "import plug\n" + ("import plug.extra\n" if app_imports_extra else ""))
    names = {m.name for m in collect_payload(python, stdlib, AppSpec(script, includes=(deps,)), "auto", []).modules}
    assert {"plug.extra", "plug.glue", "plug.core", "required"} <= names, "the package is still embedded whole"
    assert "needed" not in names
    # What the app's own imports reach comes with everything it may import, optional or not.
    assert ({"guarded", "infunction"} <= names) is app_imports_extra
    assert not ({"guarded", "infunction"} & names) or app_imports_extra


def test_an_include_folder_inside_the_app_folder(tmp_path, python, stdlib):
    # `relink build --app app.py --include .venv/lib/python3.11/site-packages`: the package's data and
    # names are those of the include folder it was found in, not of the app's folder around it.
    deps = tmp_path / "src" / ".venv" / "site-packages"
    (deps / "plug" / "locale").mkdir(parents=True)
    (deps / "plug" / "__init__.py").write_text("")
    (deps / "plug" / "locale" / "fr.mo").write_text("x")
    script = _app(tmp_path / "src", "import plug\n")
    payload = collect_payload(python, stdlib, AppSpec(script, includes=(deps,)), "auto", [])
    assert set(payload.data) == {"plug/locale/fr.mo"}
    assert next(m for m in payload.modules if m.name == "plug").display_name == "plug/__init__.py"


def test_gettext_brings_what_reading_a_translation_imports(tmp_path, python, stdlib):
    # gettext.translation imports copy, and reading a .mo file struct, inside functions (humanize's i18n).
    names = {m.name for m in collect_payload(python, stdlib, AppSpec(_app(tmp_path, "import gettext\n")),
                                             "auto", []).modules}
    assert {"gettext", "locale", "copy", "struct"} <= names


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
