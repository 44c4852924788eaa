#!/usr/bin/env python3
"""The whole of CPython's Lib/test with a relinked interpreter and with the distribution's own python3.

    .venv/bin/python scripts/cpython-lib-tests.py [--dist ARCHIVE] [--embed-source] [--jobs 2] [--lock FILE]
                                                  [--output FILE.md] [TEST ...]
    .venv/bin/python scripts/cpython-lib-tests.py --report-only [--output FILE.md]

Builds a plain interpreter (`relink build DIST --extensions default`, the whole stdlib), runs regrtest with
it and with the distribution's python3 on the same test files (Lib/test of the CPython source the default
distribution is built from) in the same clean environment, and writes the comparison, with this command,
the archive and its sha256, to tests/cpython-lib-tests.md (the raw results to the .json beside it; the
report's reasons for known differences can be refreshed from them with --report-only). Without --dist:
the native-ELF build of the default source (`relink dist build --no-lto`). Takes about an hour on 2 cores;
the modules run in chunks, and with --lock FILE each chunk holds an exclusive lock on FILE (so a shared
machine's other heavy jobs interleave). Both files are written after every chunk, marked partial until
the last one.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from cpython_lib_tests import (  # noqa: E402
    KNOWN_DIFFERENCES, Comparison, LibTestRun, clean_env, compare, lib_test_folder, stock_python,
)

RUN_FIELDS = ("failed_modules", "env_changed", "skipped", "failed_cases")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests", nargs="*", help="test modules (default: all of Lib/test)")
    parser.add_argument("--dist", type=Path, help="a full archive (default: the --no-lto build of the default source)")
    parser.add_argument("--embed-source", action="store_true", help="build the interpreter with --embed-source")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=900, help="per test module, seconds")
    parser.add_argument("--output", type=Path, default=ROOT / "tests" / "cpython-lib-tests.md",
                        help="the report; the raw results go beside it, with the suffix .json")
    parser.add_argument("--chunk", type=int, default=40, help="test modules per run")
    parser.add_argument("--lock", type=Path, help="hold an exclusive flock on this file while each chunk runs")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report again from the raw results (e.g. after KNOWN_DIFFERENCES changed)")
    args = parser.parse_args()
    raw = args.output.with_suffix(".json")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        args.output.write_text(_report(json.loads(raw.read_text())))
        print(args.output.read_text())
        return 0

    from relink.distribution import open_distribution
    from relink.distribution.srcbuild import BuildOptions, build_distribution
    from relink.distribution.srcbuild.source import debian_source
    from relink.support import cache_root

    archive = (args.dist or build_distribution(None, BuildOptions(lto=False), quiet=True)).resolve()
    build = ["--extensions", "default"] + (["--embed-source"] if args.embed_source else [])
    results = {"command": "scripts/cpython-lib-tests.py" + "".join(f" {a}" for a in sys.argv[1:]),
               "date": datetime.date.today().isoformat(), "archive": str(archive), "sha256": _sha256(archive),
               "build": " ".join(["relink build DIST", *build]), "jobs": args.jobs}
    with tempfile.TemporaryDirectory(prefix="relink-lib-tests-") as tmp:
        relinked = Path(tmp) / "bin" / "python3"
        relinked.parent.mkdir()
        subprocess.run([sys.executable, "-m", "relink", "build", "-q", str(archive), *build, "-o", str(relinked)],
                       check=True)
        lib_tests = lib_test_folder(debian_source(), cache_root() / "cpython-lib-tests" / "3.11")
        stock = stock_python(open_distribution(archive).extract())
        tests = args.tests or _all_tests(stock, lib_tests, Path(tmp))
        results["version"] = subprocess.run([str(relinked), "-c", "import sys; print(sys.version.split()[0])"],
                                            capture_output=True, text=True).stdout.strip()
        results["tests"] = tests
        started = time.monotonic()
        comparison = Comparison(LibTestRun(str(stock)), LibTestRun(str(relinked)), tuple(tests))
        for index in range(0, len(tests), args.chunk):
            chunk = tests[index:index + args.chunk]
            with _locked(args.lock):
                part = compare(stock, relinked, chunk, Path(tmp) / "runs" / str(index), lib_tests,
                               jobs=args.jobs, timeout=args.timeout)
            comparison.rerun += part.rerun
            for total, run in ((comparison.stock, part.stock), (comparison.relinked, part.relinked)):
                for name in RUN_FIELDS:
                    getattr(total, name).update(getattr(run, name))
            done = index + len(chunk)
            print(f"{done}/{len(tests)} modules; failing only under relink so far: "
                  f"{sorted(comparison.added_modules)}", flush=True)
            # Written after every chunk, so a run stopped early still leaves its (marked partial) result.
            results.update(done=done, minutes=round((time.monotonic() - started) / 60, 1),
                           rerun=list(comparison.rerun),
                           **{side: {name: sorted(getattr(run, name)) for name in RUN_FIELDS}
                              for side, run in (("stock", comparison.stock), ("relinked", comparison.relinked))})
            raw.write_text(json.dumps(results, indent=1) + "\n")
            args.output.write_text(_report(results))
    print(args.output.read_text())
    return 0 if not comparison.unexplained_modules and not comparison.unexplained_cases else 1


def _all_tests(python: Path, lib_tests: Path, workdir: Path) -> list[str]:
    listed = subprocess.run([str(python), "-m", "test", "--list-tests"], capture_output=True, text=True,
                            env=clean_env(lib_tests, workdir), cwd=workdir, check=True)
    return [line.strip() for line in listed.stdout.splitlines() if line.strip().startswith("test_")]


@contextlib.contextmanager
def _locked(path: Path | None):
    if path is None:
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _report(results: dict) -> str:
    """The comparison in Markdown, from the raw results (the reasons come from KNOWN_DIFFERENCES as it is now)."""
    def run(side: str) -> LibTestRun:
        return LibTestRun(side, **{name: set(results[side][name]) for name in RUN_FIELDS})

    comparison = Comparison(run("stock"), run("relinked"), tuple(results["tests"]), tuple(results["rerun"]))
    stock, relinked, done = comparison.stock, comparison.relinked, results["done"]
    lines = ["# CPython's Lib/test: relinked interpreter vs the distribution's python3", ""]
    if done < len(comparison.tests):
        lines += [f"**Partial result: {done} of {len(comparison.tests)} test modules run** (the run goes in "
                  f"alphabetical chunks; the last module run is {comparison.tests[done - 1]}).", ""]
    lines += [
        f"Made by `.venv/bin/python {results['command']}` on {results['date']} ({results['minutes']:.0f} min):",
        f"CPython {results['version']}, `{results['archive']}` (sha256 `{results['sha256']}`); the relinked",
        f"interpreter is `{results['build']}` (the whole stdlib embedded); both run the same Lib/test files from",
        f"the CPython source, `-j{results['jobs']}`, in the same clean environment (`LANG=C.UTF-8`, the test package",
        "on `PYTHONPATH`, no resources enabled). The raw results are in the .json file beside this one.",
        "",
        "| | stock python3 | relinked |",
        "|---|---|---|",
        f"| test modules run | {done} | {done} |",
        f"| test modules failed | {len(stock.failed_modules)} | {len(relinked.failed_modules)} |",
        f"| failing test cases | {len(stock.failed_cases)} | {len(relinked.failed_cases)} |",
        "",
        "## Failing only under the relinked interpreter",
        "",
    ]
    unexplained = comparison.unexplained_modules
    lines += [f"- **{m}**" + (": not explained" if m in unexplained else ": every case below is a known difference")
              for m in sorted(comparison.added_modules)] or ["None."]
    if comparison.rerun:
        lines += ["", f"Run a second time, alone and on both interpreters, because they first failed only under "
                      f"relink (the second results count): {', '.join(comparison.rerun)}."]
    lines += ["", "Test cases failing only under relink (in any module), with the reason:", ""]
    for case in sorted(comparison.added_cases):
        reason = KNOWN_DIFFERENCES.get(case.split(" ", 1)[0], "**not explained: a regression**")
        lines.append(f"- `{case}`: {reason}")
    if not comparison.added_cases:
        lines.append("None.")
    lines += ["", "## Failing only under the distribution's python3", ""]
    lines += [f"- {m}" for m in sorted(stock.failed_modules - relinked.failed_modules)] or ["None."]
    both = sorted(stock.failed_modules & relinked.failed_modules)
    lines += ["", "## Failing under both (the test environment, not relink: no network, root user, -I children",
              "without the test package on PYTHONPATH, …)", "", ", ".join(both) or "None.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
