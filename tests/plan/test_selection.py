"""make_plan on the real Windows 3.11.9 and reconstructed Linux 3.12.7 PYTHON.json samples (pure: metadata
only), plus variants of the Linux sample edited to carry the cases PBS metadata has had: two variants,
shared-only modules, `_hmac` borrowing HACL objects, an object listed under two extensions."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from relink.distribution.metadata import ExtensionVariant, PythonJson, parse_python_json
from relink.distribution.opener import open_distribution
from relink.errors import ExitCode, RelinkError
from relink.plan.model import LinkPlan
from relink.plan.policy import bootstrap_modules, copyleft_licenses, is_test_module
from relink.plan.selection import make_plan

LINUX = "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
WINDOWS = "PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json"


def _load(samples_dir: Path, name: str) -> PythonJson:
    return open_distribution(samples_dir / name).metadata


def _edited(samples_dir: Path, edit) -> PythonJson:
    document = json.loads((samples_dir / LINUX).read_text())
    document = copy.deepcopy(document)
    edit(document)
    return parse_python_json(json.dumps(document), "edited sample")


def _names(plan: LinkPlan) -> set[str]:
    return set(plan.extension_names)


def _error(meta: PythonJson, spec: str, **kwargs) -> str:
    with pytest.raises(RelinkError) as caught:
        make_plan(meta, spec, **kwargs)
    assert caught.value.code == ExitCode.USAGE
    assert "\n" not in caught.value.message
    return caught.value.message


def test_minimal_is_core_required_and_bootstrap(samples_dir: Path) -> None:
    meta = _load(samples_dir, LINUX)
    plan = make_plan(meta, "minimal")
    extensions = meta.build_info.extensions
    in_core = {n for n, vs in extensions.items() if vs[0].in_core}
    required = {n for n, vs in extensions.items() if vs[0].required}
    bootstrap = set(bootstrap_modules("3.12")) & set(extensions)
    assert _names(plan) == in_core | required | bootstrap
    assert {"_typing", "posix", "_io", "builtins", "sys", "marshal"} <= _names(plan)
    assert "math" not in _names(plan)
    why = {ext.name: ext.why for ext in plan.extensions}
    assert why["sys"] == ("in core",) and why["_io"] == ("required",) and why["time"] == ("preset minimal",)
    assert dict((e.name, e.reason) for e in plan.excluded)["math"] == "not in preset minimal"


def test_none_keeps_only_core_and_required(samples_dir: Path) -> None:
    meta = _load(samples_dir, LINUX)
    plan = make_plan(meta, "none,+_json")
    assert _names(plan) == {n for n, vs in meta.build_info.extensions.items() if vs[0].in_core or vs[0].required} | {"_json"}
    # A bare name without a preset means none + that name.
    assert _names(make_plan(meta, "_json")) == _names(plan)


def test_default_excludes_foreign_system_libraries_and_tests_but_keeps_static(samples_dir: Path) -> None:
    plan = make_plan(_load(samples_dir, LINUX), "default")
    excluded = {e.name: e.reason for e in plan.excluded}
    assert excluded["_crypt"] == "links system library crypt (not in preset default)"
    assert {"_testbuffer", "_testinternalcapi", "_ctypes_test", "_xxtestfuzz", "xxsubtype"} <= set(excluded)
    assert {"_ssl", "zlib", "_sqlite3", "math", "_xxsubinterpreters"} <= _names(plan)
    assert set(excluded) == {"_crypt", "_ctypes_test", "_testbuffer", "_testimportmultiple", "_testinternalcapi",
                             "_testmultiphase", "_testsinglephase", "_xxtestfuzz", "xxsubtype"}
    libs = {(lib.name, lib.kind): lib for lib in plan.libraries}
    assert libs[("z", "static")].path == "build/lib/libz.a"
    assert libs[("z", "static")].why == ("zlib",)
    assert ("crypt", "system") not in libs
    # The core never links libm in PBS's annotation; the plan adds it, saying why.
    assert "libm" in libs[("m", "system")].why[0]


def test_all_takes_everything_linkable(samples_dir: Path) -> None:
    meta = _load(samples_dir, LINUX)
    plan = make_plan(meta, "all")
    assert _names(plan) == set(meta.build_info.extensions)
    assert plan.excluded == ()


def test_edits_and_why(samples_dir: Path) -> None:
    plan = make_plan(_load(samples_dir, LINUX), "minimal,+_json,+zlib,-readline,-pwd")
    names = _names(plan)
    assert {"_json", "zlib"} <= names and "pwd" not in names and "readline" not in names
    why = {ext.name: ext.why for ext in plan.extensions}
    assert why["zlib"] == ("+zlib",)
    excluded = {e.name: e.reason for e in plan.excluded}
    assert excluded["pwd"] == "removed by -pwd"
    objects = {obj.path: obj.why for obj in plan.objects}
    assert objects["build/Modules/zlibmodule.o"] == ("zlib",)
    assert objects["build/Objects/abstract.o"] == ("core",)


def test_inittab_object_is_dropped_from_core(samples_dir: Path) -> None:
    meta = _load(samples_dir, LINUX)
    assert "build/Modules/config.o" in meta.build_info.core.objs
    plan = make_plan(meta, "minimal")
    assert "build/Modules/config.o" not in {obj.path for obj in plan.objects}


def test_filters(samples_dir: Path) -> None:
    meta = _load(samples_dir, LINUX)
    plan = make_plan(meta, "default", no_copyleft=True)
    excluded = {e.name: e.reason for e in plan.excluded}
    assert excluded["_dbm"] == "copyleft license Sleepycat (--no-copyleft)"
    assert "_ssl" in _names(plan)
    plan = make_plan(meta, "default", no_libraries=True)
    excluded = {e.name: e.reason for e in plan.excluded}
    assert excluded["zlib"] == "links static library z (build/lib/libz.a) (--no-libraries)"
    assert {"math", "cmath", "_posixshmem"} <= _names(plan)  # m and rt are the OS baseline
    assert all(lib.kind == "system" for lib in plan.libraries)
    message = _error(meta, "default,+_dbm", no_copyleft=True)
    assert message == "cannot add '_dbm': copyleft license Sleepycat (--no-copyleft)"


def test_copyleft_is_any_license_not_all() -> None:
    # All of an extension's licenses apply: one copyleft license among permissive ones makes it copyleft.
    variant = ExtensionVariant(
        name="readline", variant="default", in_core=False, init_fn="PyInit_readline", objs=("r.o",), links=(),
        required=False, licenses=("MIT", "GPL-3.0-only", "BSD-3-Clause"),
    )
    assert copyleft_licenses(variant) == ("GPL-3.0-only",)
    assert copyleft_licenses(variant._replace(licenses=("MIT", "X11"))) == ()
    assert copyleft_licenses(variant._replace(licenses=("LGPL-2.1-or-later",)))
    assert not copyleft_licenses(variant._replace(licenses=("GPLv2-like-but-not",)))


def test_test_module_names() -> None:
    assert all(map(is_test_module, ["_testcapi", "_ctypes_test", "_xxtestfuzz", "xxlimited", "xxsubtype"]))
    assert not any(map(is_test_module, ["_xxsubinterpreters", "_xxinterpchannels", "_stat", "test"]))


def test_variant_choice(samples_dir: Path) -> None:
    def two_variants(document: dict) -> None:
        readline = document["build_info"]["extensions"]["readline"]
        gnu = dict(readline[0], licenses=["GPL-3.0-only"], links=[{"name": "readline", "path_static": "build/lib/libreadline.a"}])
        libedit = dict(readline[0], variant="libedit")
        readline[:] = [gnu, libedit]

    meta = _edited(samples_dir, two_variants)
    plan = make_plan(meta, "minimal,+readline")
    assert [lib.name for lib in plan.libraries if "readline" in lib.why] == ["readline"]
    plan = make_plan(meta, "minimal,+readline:libedit")
    assert {ext.name: ext.variant for ext in plan.extensions}["readline"] == "libedit"
    assert [lib.name for lib in plan.libraries if "readline" in lib.why] == ["edit", "ncursesw"]
    # default with --no-copyleft leaves out the GPL default variant; asking for libedit is fine.
    assert "readline" not in _names(make_plan(meta, "default", no_copyleft=True))
    assert "readline" in _names(make_plan(meta, "default,+readline:libedit", no_copyleft=True))
    assert _error(meta, "minimal,+readline:gnu") == "extension 'readline' has no variant 'gnu' (it has: default, libedit)"


def test_hmac_borrows_hacl_objects_and_objects_are_deduplicated(samples_dir: Path) -> None:
    def hmac(document: dict) -> None:
        extensions = document["build_info"]["extensions"]
        extensions["_hmac"] = [{"in_core": False, "init_fn": "PyInit__hmac", "links": [], "required": False,
                                "objs": ["build/Modules/hmacmodule.o"], "variant": "default"}]
        extensions["_sha2"][0]["objs"].append("build/Modules/_hacl/Hacl_Hash_SHA2.o")
        # The same object under two extensions (math and cmath shared _math.o up to 3.10).
        extensions["math"][0]["objs"].append("build/Modules/_math.o")
        extensions["cmath"][0]["objs"].append("build/Modules/_math.o")

    meta = _edited(samples_dir, hmac)
    plan = make_plan(meta, "none,+_hmac,+math,+cmath")
    objects = {obj.path: obj.why for obj in plan.objects}
    assert objects["build/Modules/_hacl/Hacl_Hash_MD5.o"] == ("_hmac (borrowed from _md5)",)
    # Hacl_Hash_SHA2.o sits in core.objs in this sample (a PBS leftover) and is listed under _sha2 too.
    assert objects["build/Modules/_hacl/Hacl_Hash_SHA2.o"] == ("core", "_hmac (borrowed from _sha2)")
    assert "build/Modules/md5module.o" not in objects  # the lender's own module code is not borrowed
    assert "_md5" not in _names(plan)
    assert objects["build/Modules/_math.o"] == ("cmath", "math")
    assert [obj.path for obj in plan.objects].count("build/Modules/_math.o") == 1


def test_windows_sample(samples_dir: Path) -> None:
    meta = _load(samples_dir, WINDOWS)
    plan = make_plan(meta, "default")
    assert plan.platform == "windows" and plan.libc == "msvc" and not plan.lto
    excluded = {e.name: e.reason for e in plan.excluded}
    assert excluded["_ssl"].startswith("links dynamic library libcrypto-1_1-x64 (install/DLLs/libcrypto-1_1-x64.dll")
    assert excluded["_tkinter"] == "its link entry '$(tcltk' is not a library name (a PYTHON.json bug)"
    assert {"_socket", "select", "nt", "_json", "winsound"} <= _names(plan)
    assert "build/core/config.obj" not in {obj.path for obj in plan.objects}
    # DLL-linked extensions can be asked for: their DLLs become runtime files.
    plan = make_plan(meta, "default,+_sqlite3")
    assert plan.runtime_files == ("install/DLLs/sqlite3.dll",)
    assert _error(meta, "default,+_tkinter") == (
        "cannot add '_tkinter': its link entry '$(tcltk' is not a library name (a PYTHON.json bug)")
    # Windows builds _json into the core: it cannot be removed.
    assert _error(meta, "default,-_json") == "cannot remove '_json': it is part of the core objects"


def test_plan_json_round_trip_and_determinism(samples_dir: Path) -> None:
    meta = _load(samples_dir, LINUX)
    plan = make_plan(meta, "default,-_ssl", export_dynamic=True)
    text = plan.to_json_text()
    assert LinkPlan.from_json(json.loads(text)) == plan
    assert make_plan(_load(samples_dir, LINUX), "default,-_ssl", export_dynamic=True).to_json_text() == text


# ----------------------------------------------------------------------------------------------
# Bad selections: one clear line each, exit code 2 (usage).


def test_unknown_preset_suggests(samples_dir: Path) -> None:
    assert _error(_load(samples_dir, LINUX), "minmal,+_json") == (
        "unknown preset or extension 'minmal' (did you mean 'minimal'?); presets are minimal, default, all, none")


def test_unknown_extension_suggests(samples_dir: Path) -> None:
    assert _error(_load(samples_dir, LINUX), "minimal,+_jsno") == (
        "unknown extension '_jsno' (did you mean '_json'?): 'relink extensions DIST' lists them")
    assert "did you mean" not in _error(_load(samples_dir, LINUX), "minimal,-qqqqqqqq")


def test_contradictory_edits(samples_dir: Path) -> None:
    assert _error(_load(samples_dir, LINUX), "minimal,+_json,-_json") == (
        "contradictory edits in --extensions: both +_json and -_json")


def test_misplaced_preset(samples_dir: Path) -> None:
    assert _error(_load(samples_dir, LINUX), "+_json,all") == "preset 'all' must come first in --extensions '+_json,all'"


def test_missing_variant(samples_dir: Path) -> None:
    assert _error(_load(samples_dir, LINUX), "minimal,+_json:fast") == (
        "extension '_json' has no variant 'fast' (it has: default)")


def test_removing_required(samples_dir: Path) -> None:
    assert _error(_load(samples_dir, LINUX), "default,-posix") == (
        "cannot remove 'posix': it is required by the interpreter")


def test_shared_only_on_static_only_target(samples_dir: Path) -> None:
    def static_only(document: dict) -> None:
        document["python_extension_module_loading"] = ["builtin"]
        crypt = document["build_info"]["extensions"]["_crypt"][0]
        crypt["objs"] = []

    meta = _edited(samples_dir, static_only)
    assert _error(meta, "minimal,+_crypt") == (
        "cannot add '_crypt': shared-only: no objects to link, only a shared library "
        "(install/lib/python3.12/lib-dynload/_crypt.cpython-312-x86_64-linux-gnu.so); "
        "this target loads extensions only as builtins")
    # A preset skips it and says why.
    assert dict((e.name, e.reason) for e in make_plan(meta, "all").excluded)["_crypt"].startswith("shared-only")
