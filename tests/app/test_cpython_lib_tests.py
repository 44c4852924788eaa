"""CPython's own regression tests, a chosen subset of Lib/test, with the relinked interpreter and with the
distribution's python3: relink may add no failing test case beyond the documented known differences.

Both run the same test files (from the CPython source the distribution was built from) in the same clean
environment; see tests/cpython_lib_tests.py, and scripts/cpython-lib-tests.py for the whole of Lib/test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from relink.distribution import open_distribution
from relink.distribution.srcbuild.source import debian_source
from relink.support import cache_root

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cpython_lib_tests import CI_SUBSET, compare, describe, lib_test_folder, stock_python  # noqa: E402

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
