"""CPython's own regression tests, a chosen subset of Lib/test, with the relinked interpreter and with the
distribution's python3: relink may add no failing test case beyond the documented known differences.

Both run the same test files (from the CPython source the distribution was built from) in the same clean
environment; see tests/cpython_lib_tests.py, and scripts/cpython-lib-tests.py for the whole of Lib/test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relink.distribution import open_distribution
from relink.distribution.srcbuild.source import debian_source
from relink.support import cache_root

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cpython_lib_tests import (  # noqa: E402
    CI_SUBSET, KNOWN_DIFFERENCES, compare, describe, lib_test_folder, run_lib_tests, stock_python,
)

pytestmark = pytest.mark.slow


def test_relink_adds_no_failure_to_cpythons_tests(elf_archive, tmp_path):
    relinked = tmp_path / "bin" / "python3"
    relinked.parent.mkdir()
    build = subprocess.run([sys.executable, "-m", "relink", "build", "-q", str(elf_archive), "--extensions", "default",
                            "-o", str(relinked)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    lib_tests = lib_test_folder(debian_source(), cache_root() / "cpython-lib-tests" / "3.11")
    stock = stock_python(open_distribution(elf_archive).extract())
    comparison = compare(stock, relinked, CI_SUBSET, tmp_path / "runs", lib_tests, jobs=2, timeout=600)
    report = describe(comparison)
    print(report)
    # The runs really ran: regrtest reported on every module, and found each interpreter's failures.
    assert comparison.stock.log.read_text().count("== Tests result") == 1
    assert comparison.relinked.log.read_text().count("== Tests result") == 1
    assert not comparison.unexplained_cases, report
    assert not comparison.unexplained_modules, report


def test_sysconfig_differs_only_by_the_build_files_a_single_file_lacks(elf_archive, tmp_path):
    """test_sysconfig's known differences are the C headers and Makefile alone: with the distribution's copied
    into the prefix (what building C extensions with OUT needs), it passes."""
    prefix = tmp_path / "prefix"
    (prefix / "lib" / "python3.11").mkdir(parents=True)
    build = subprocess.run([sys.executable, "-m", "relink", "build", "-q", str(elf_archive), "--extensions", "default",
                            "-o", str(prefix / "bin" / "python3")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    install = stock_python(open_distribution(elf_archive).extract()).parents[1]
    shutil.copytree(install / "include", prefix / "include")
    (config,) = (install / "lib" / "python3.11").glob("config-3.11-*")
    shutil.copytree(config, prefix / "lib" / "python3.11" / config.name, ignore=shutil.ignore_patterns("*.a"))
    assert any(case.startswith("test.test_sysconfig.") for case in KNOWN_DIFFERENCES)
    lib_tests = lib_test_folder(debian_source(), cache_root() / "cpython-lib-tests" / "3.11")
    run = run_lib_tests(prefix / "bin" / "python3", ["test_sysconfig"], tmp_path / "run", lib_tests)
    assert "== Tests result: SUCCESS ==" in run.log.read_text(), run.log.read_text()[-3000:]
