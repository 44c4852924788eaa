"""CPython's own regression tests (Lib/test) run with a relinked interpreter and with the distribution's python3.

Shared by the CI subset (tests/app/test_cpython_lib_tests.py) and the whole-suite comparison
(scripts/cpython-lib-tests.py). Both interpreters run the same test files, taken from the CPython source
the distribution was built from, under the same clean environment; regrtest's JUnit report gives the
failing test cases of each, and a module "fails" when regrtest counts it as failed.

KNOWN_DIFFERENCES lists the test cases that fail only under the relinked interpreter for a reason that
is a property of a single-file interpreter (no stdlib, Makefile or headers on disk), each with that
reason; anything else that fails only under relink is a regression.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

# The subset run in CI: the interpreter's command line, text, signals, processes, imports, site, venv.
CI_SUBSET = (
    "test_sys", "test_cmd_line", "test_cmd_line_script", "test_utf8_mode", "test_signal", "test_subprocess",
    "test_sysconfig", "test_site", "test_json", "test_unicode", "test_importlib", "test_zipimport",
    "test_concurrent_futures", "test_multiprocessing_spawn", "test_faulthandler", "test_venv",
)

# Test case id (module.Class.method, as in the JUnit report) -> why it cannot pass on a single file: the
# stdlib is a zip inside the executable, and the distribution's C headers and build Makefile are not part of
# it. Deliberate, and documented in the README ("What still differs from stock").
_STDLIB_IN_ZIP = "the stdlib is a zip inside the executable: "
_NO_BUILD_FILES = ("a single file carries no C headers or build Makefile: sysconfig names them under the prefix "
                   "as stock does, where they are not (copy the distribution's include/ and config-3.X-*/ there "
                   "to build C extensions)")
_NO_SOURCE = "without --embed-source the stdlib is bytecode only, so tracebacks have no stdlib source lines: "
_EXAMPLE_MODULES = ("`--extensions default` leaves out CPython's test and example extension modules (xxsubtype; "
                    "`all` links them)")
KNOWN_DIFFERENCES = {
    "test.test_sys.SysModuleTest.test_stdlib_dir":
        _STDLIB_IN_ZIP + "sys._stdlib_dir is None, and the frozen os module has no __file__ on disk",
    "test.test_sysconfig.TestSysConfig.test_get_config_h_filename": _NO_BUILD_FILES,
    "test.test_sysconfig.MakefileTests.test_get_makefile_filename": _NO_BUILD_FILES,
    "test.test_sysconfig.TestSysConfig.test_srcdir": _NO_BUILD_FILES + "; srcdir is the Makefile's folder",
    "test.test_cmd_line.CmdLineTest.test_xoption_frozen_modules":
        _STDLIB_IN_ZIP + "with -X frozen_modules=off the stdlib comes from zipimporter, not SourceFileLoader",
    "test.test_importlib.test_api.Frozen_ReloadTests.test_reload_missing_loader":
        _STDLIB_IN_ZIP + "its modules are loaded by zipimporter, which has no .path (SourceFileLoader's)",
    "test.test_importlib.test_api.Source_ReloadTests.test_reload_missing_loader":
        _STDLIB_IN_ZIP + "its modules are loaded by zipimporter, which has no .path (SourceFileLoader's)",
    **{f"test.test_multiprocessing_{method}._TestImportStar.test_import":
       _STDLIB_IN_ZIP + "the test lists multiprocessing's modules with glob on its folder"
       for method in ("spawn", "fork", "forkserver")},
    **{f"test.test_linecache.LineCacheTests.{case}": _STDLIB_IN_ZIP + "the test reads stdlib .py files by path"
       for case in ("test_clearcache", "test_getline", "test_memoryerror")},
    "test.test_module.ModuleTests.test_module_repr_source":
        _STDLIB_IN_ZIP + "of bytecode, so unittest's repr names its __init__.pyc, not __init__.py",
    "test.test_argparse.TestEncoding.test_argparse_module_encoding":
        _STDLIB_IN_ZIP + "the test opens argparse.__file__ as a file",
    "test.test_ast.ASTValidatorTests.test_stdlib_validates":
        _STDLIB_IN_ZIP + "the test lists and opens the .py files in ast.__file__'s folder",
    "test.test_doctest.test_unicode": _NO_SOURCE + "the expected traceback has doctest.py's source line",
    "test.test_contextlib.TestExitStack.test_exit_exception_traceback":
        _NO_SOURCE + "the test compares contextlib's source lines in a traceback",
    "test.test_contextlib_async.TestAsyncExitStack.test_exit_exception_traceback":
        _NO_SOURCE + "the test compares contextlib's source lines in a traceback",
    "test.test_docxmlrpc.DocXMLRPCHTTPGETServer.test_get_css":
        _STDLIB_IN_ZIP + "xmlrpc.server opens pydoc_data/_pydoc.css by a path built from its __file__",
    **{f"test.test_frozen.TestFrozen.{case}": "`__phello__`, CPython's frozen-import test package, is not embedded "
       "(with frozen modules off it is imported from the stdlib)"
       for case in ("test_frozen_submodule_in_unfrozen_package", "test_unfrozen_submodule_in_frozen_package")},
    "test.test_imp.ImportTests.test_issue1267": _STDLIB_IN_ZIP + "imp.find_module('tokenize') finds files on disk only",
    "test.test_imp.ImportTests.test_load_from_source": _STDLIB_IN_ZIP + "imp.find_module('os') finds files on disk only",
    "test.test_imp.ImportTests.test_multiple_calls_to_get_data": _STDLIB_IN_ZIP + "the test opens imp.__file__",
    "test.test_import.ImportTests.test_from_import_missing_attr_has_name_and_path":
        _STDLIB_IN_ZIP + "sys._stdlib_dir is None, so the frozen os module has no __file__ for the error's path",
    "test.test_import.ImportlibBootstrapTests.test_frozen_importlib_is_bootstrap":
        _STDLIB_IN_ZIP + "sys._stdlib_dir is None, so the frozen importlib._bootstrap has no __file__",
    "test.test_import.ImportlibBootstrapTests.test_frozen_importlib_external_is_bootstrap_external":
        _STDLIB_IN_ZIP + "sys._stdlib_dir is None, so the frozen importlib._bootstrap_external has no __file__",
    **{f"test.test_descr.{case}": _EXAMPLE_MODULES for case in (
        "ClassPropertiesAndMethods.test_classmethods_in_c", "ClassPropertiesAndMethods.test_staticmethods_in_c",
        "OperatorsTest.test_spam_dicts", "OperatorsTest.test_spam_lists")},
}


@dataclass
class LibTestRun:
    """One regrtest run: the modules regrtest reported in each state, and the failing test cases."""

    python: str
    failed_modules: set[str] = field(default_factory=set)
    env_changed: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    failed_cases: set[str] = field(default_factory=set)
    returncode: int = 0
    log: Path | None = None


@dataclass
class Comparison:
    stock: LibTestRun
    relinked: LibTestRun
    tests: tuple[str, ...]
    rerun: tuple[str, ...] = ()   # modules run again, alone, on both interpreters

    @property
    def added_modules(self) -> set[str]:
        """Modules failing only under the relinked interpreter."""
        return self.relinked.failed_modules - self.stock.failed_modules

    @property
    def added_cases(self) -> set[str]:
        return self.relinked.failed_cases - self.stock.failed_cases

    @property
    def unexplained_cases(self) -> set[str]:
        return {case for case in self.added_cases if _case_key(case) not in KNOWN_DIFFERENCES}

    @property
    def unexplained_modules(self) -> set[str]:
        """Modules failing only under relink with no failing case to show for it (a crash, a timeout, an
        import error) or with a failing case that is not a known difference."""
        explained = {_module_of(case) for case in self.added_cases if _case_key(case) in KNOWN_DIFFERENCES}
        unexplained = {_module_of(case) for case in self.unexplained_cases}
        return {m for m in self.added_modules if m in unexplained or m not in explained}


def _case_key(case: str) -> str:
    """`test.test_x.Class.method (subtest…)` -> `test.test_x.Class.method`."""
    return case.split(" ", 1)[0]


def _module_of(case: str) -> str:
    parts = case.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "test" else parts[0]


def lib_test_folder(source_tarball: Path, cache: Path) -> Path:
    """A folder holding only `test/` from the source's Lib (for PYTHONPATH: nothing else of the source's
    stdlib may shadow the interpreter's own). Extracted once into `cache`."""
    target = cache / "lib-test"
    if (target / "test" / "regrtest.py").is_file():
        return target
    partial = cache / "lib-test.partial"
    if partial.exists():
        import shutil

        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    with tarfile.open(source_tarball) as archive:
        members = []
        for member in archive.getmembers():
            parts = member.name.split("/")
            if len(parts) > 2 and parts[1:3] == ["Lib", "test"] and (member.isfile() or member.isdir()):
                member.name = "/".join(parts[2:])
                members.append(member)
        archive.extractall(partial / "Lib", members=members)  # regular files and folders under Lib/test only
    (partial / "Lib" / "test").rename(partial / "test")
    (partial / "Lib").rmdir()
    partial.rename(target)
    return target


def clean_env(lib_tests: Path, home: Path) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
            "PYTHONPATH": str(lib_tests), "TMPDIR": str(home)}


def run_lib_tests(python: Path, tests: list[str] | tuple[str, ...], workdir: Path, lib_tests: Path, *,
                  jobs: int = 1, timeout: int = 900, extra: tuple[str, ...] = ()) -> LibTestRun:
    """Run regrtest with `python` in `workdir` (a fresh folder) and read its summary and JUnit report."""
    workdir.mkdir(parents=True, exist_ok=True)
    junit = workdir / "junit.xml"
    log = workdir / "regrtest.log"
    command = [str(python), "-m", "test", f"-j{jobs}", "--timeout", str(timeout), "--junit-xml", str(junit),
               *extra, *tests]
    with log.open("w") as out:
        result = subprocess.run(command, cwd=workdir, env=clean_env(lib_tests, workdir), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    text = log.read_text(errors="replace")
    run = LibTestRun(str(python), returncode=result.returncode, log=log)
    run.failed_modules = _summary_list(text, "failed")
    run.env_changed = _summary_list(text, "altered the execution environment")
    run.skipped = _summary_list(text, "skipped")
    if junit.is_file():
        run.failed_cases = _junit_failures(junit)
    return run


def _summary_list(text: str, label: str) -> set[str]:
    """Names regrtest lists after `N tests <label>:` (indented, wrapped lines) in its final summary."""
    names: set[str] = set()
    summary = text[text.rfind("== Tests result"):] if "== Tests result" in text else text
    for match in re.finditer(rf"^\d+ tests? {re.escape(label)}:\n((?:    .*\n)+)", summary, re.MULTILINE):
        names.update(match.group(1).split())
    return names


def _junit_failures(junit: Path) -> set[str]:
    cases = set()
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            name = case.get("name", "")
            # regrtest's names are `test.test_x.Class.method`; classname repeats the prefix.
            cases.add(name if name.startswith("test.") else f"{case.get('classname', '')}.{name}".strip("."))
    return cases


def compare(stock_python: Path, relinked_python: Path, tests, workdir: Path, lib_tests: Path, **options) -> Comparison:
    """Both interpreters on `tests`; then the modules with unexplained failures only under relink run again,
    one worker at a time, on both (process-heavy tests such as forkserver pools are flaky on a loaded
    machine), and their second results count."""
    stock = run_lib_tests(stock_python, tests, workdir / "stock", lib_tests, **options)
    relinked = run_lib_tests(relinked_python, tests, workdir / "relinked", lib_tests, **options)
    comparison = Comparison(stock, relinked, tuple(tests))
    again = sorted(comparison.unexplained_modules | {_module_of(c) for c in comparison.unexplained_cases})
    if again:
        options = {**options, "jobs": 1}
        second = (run_lib_tests(stock_python, again, workdir / "stock-again", lib_tests, **options),
                  run_lib_tests(relinked_python, again, workdir / "relinked-again", lib_tests, **options))
        for first, rerun in zip((stock, relinked), second):
            first.failed_modules = (first.failed_modules - set(again)) | rerun.failed_modules
            first.failed_cases = {c for c in first.failed_cases if _module_of(c) not in again} | rerun.failed_cases
        comparison.rerun = tuple(again)
    return comparison


def describe(comparison: Comparison) -> str:
    """Plain-text verdict: what fails only under relink, with the known reason where there is one."""
    lines = [f"modules: {len(comparison.tests)}; failing under stock: {len(comparison.stock.failed_modules)}, "
             f"under relink: {len(comparison.relinked.failed_modules)}"]
    for module in sorted(comparison.added_modules):
        lines.append(f"  only under relink: {module}")
    for case in sorted(comparison.added_cases):
        reason = KNOWN_DIFFERENCES.get(_case_key(case), "UNEXPLAINED")
        lines.append(f"    {case}: {reason}")
    for module in sorted(comparison.stock.failed_modules - comparison.relinked.failed_modules):
        lines.append(f"  only under stock: {module}")
    if comparison.rerun:
        lines.append(f"  run again alone on both: {', '.join(comparison.rerun)}")
    return "\n".join(lines)


def stock_python(extracted_root: Path) -> Path:
    """The distribution's own interpreter in an extracted archive (python/install/bin/python3)."""
    return extracted_root / "python" / "install" / "bin" / "python3"


__all__ = ["CI_SUBSET", "KNOWN_DIFFERENCES", "Comparison", "LibTestRun", "clean_env", "compare", "describe",
           "lib_test_folder", "run_lib_tests", "stock_python"]
