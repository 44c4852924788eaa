"""Side-by-side benchmark of relink against its peers, on one hello-world app, in one run.

Measures (a) start-up time of the relink single-file app vs the distribution's own `python3 -E -s app.py`
vs a PyInstaller one-file build; (b) file sizes of relink minimal, relink default and PyInstaller one-file;
(c) relink's cold build, app-only rebuild and rebuild with another extension set. Writes bench/results.md
and bench/results.png. PyInstaller and matplotlib are installed from PyPI into a private venv in the cache.

Usage: .venv/bin/python bench/run.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_SOURCE = HERE.parent / "examples" / "hello-app"
RELINK = [sys.executable, "-m", "relink"]
TARGETS = {"startup_vs_python": 1.0, "startup_vs_pyinstaller": 5.0, "minimal_size_mb": 6.0, "cold_build_s": 60.0,
           "app_rebuild_s": 1.0, "other_extensions_rebuild_s": 10.0}


def run(argv, env=None, cwd=None):
    started = time.perf_counter()
    subprocess.run(argv, check=True, env=env, cwd=cwd, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def startup(argv, runs, env=None, cwd=None):
    for _ in range(3):
        run(argv, env, cwd)
    return statistics.median(run(argv, env, cwd) for _ in range(runs))


def tools_venv(cache: Path) -> Path:
    venv = cache / "bench-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        # PyInstaller needs a Python with a shared libpython: the machine's python3, not a relink build.
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "pyinstaller", "matplotlib"], check=True)
    return venv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="timed start-ups per program (median reported)")
    args = parser.parse_args()

    from relink.distribution.srcbuild import default_distribution
    from relink.support.cache import cache_root

    archive = default_distribution()
    venv = tools_venv(cache_root())
    work = Path(tempfile.mkdtemp(prefix="relink-bench-"))
    app_dir = work / "app"
    shutil.copytree(APP_SOURCE, app_dir, ignore=shutil.ignore_patterns("__pycache__"))
    app = app_dir / "hello_app.py"

    # (c) builds, in a private cache so the first one is really cold (the distribution is extracted too).
    env = {**os.environ, "RELINK_CACHE_DIR": str(work / "cache")}
    build = [*RELINK, "build", str(archive), "--app", str(app), "-q"]
    results = {}
    # "minimal" for an app is relink build's default `auto`: minimal plus the extensions the app imports.
    results["cold_build_s"] = run([*build, "--extensions", "auto", "-o", str(work / "hello-minimal")], env)
    app.write_text(app.read_text() + "\n# an app-only change\n")
    results["app_rebuild_s"] = run([*build, "--extensions", "auto", "-o", str(work / "hello-minimal")], env)
    results["other_extensions_rebuild_s"] = run(
        [*build, "--extensions", "auto,+_bisect,+_heapq", "-o", str(work / "hello-other")], env)
    # The same two links with --fast-link (ThinLTO without cross-module importing).
    results["fast_cold_build_s"] = run([*build, "--fast-link", "-o", str(work / "hello-fast")], env)
    results["fast_other_extensions_rebuild_s"] = run(
        [*build, "--fast-link", "--extensions", "auto,+_bisect,+_heapq", "-o", str(work / "hello-fast-other")], env)
    run([*build, "--extensions", "default", "-o", str(work / "hello-default")], env)

    # PyInstaller one-file build of the same app.
    pyinstaller = venv / "bin" / "pyinstaller"
    run([str(pyinstaller), "--onefile", "--noconfirm", "--log-level", "ERROR", "--distpath", str(work / "pyi"),
         "--workpath", str(work / "pyi-build"), "--specpath", str(work), "--paths", str(app_dir), str(app)])
    pyi = work / "pyi" / "hello_app"

    # (a) start-up, (b) sizes.
    dist_root = subprocess.run([*RELINK, "extract", str(archive), "--print-path"], check=True, capture_output=True,
                               text=True, env=env).stdout.strip()
    dist_python = Path(dist_root) / "python" / "install" / "bin" / "python3"
    clean = {"PATH": "/usr/bin:/bin"}
    timings = {
        "relink minimal (auto)": startup([str(work / "hello-minimal")], args.runs, clean, work),
        # -E -s: isolated from the environment and user site like -I, but keeping the script's folder on
        # sys.path (which -I drops) so the app's local package imports.
        "python3 -E -s app.py": startup([str(dist_python), "-E", "-s", str(app)], args.runs, clean, app_dir),
        "PyInstaller one-file": startup([str(pyi)], args.runs, clean, work),
    }
    sizes = {
        "relink minimal (auto)": (work / "hello-minimal").stat().st_size,
        "relink default": (work / "hello-default").stat().st_size,
        "PyInstaller one-file": pyi.stat().st_size,
    }
    results["startup_vs_python"] = timings["relink minimal (auto)"] / timings["python3 -E -s app.py"]
    results["startup_vs_pyinstaller"] = timings["PyInstaller one-file"] / timings["relink minimal (auto)"]
    results["minimal_size_mb"] = sizes["relink minimal (auto)"] / 1e6
    write_report(results, timings, sizes, args.runs)
    plot(venv, timings, sizes, results)
    shutil.rmtree(work, ignore_errors=True)
    print((HERE / "results.md").read_text())
    return 0


NOTES = """Why the default relink after an extension change is slow: ThinLTO imports functions across
objects, so adding an extension changes which functions other objects export and import, and every object
whose import or export list changed is compiled again (the cache key covers those lists). `--fast-link`
turns cross-module importing off: cache entries stay valid and only what changed is compiled, at the cost
of cross-module inlining (on a dict/str loop and a method-call loop the interpreter ran 3-10% slower)."""


def verdict(name: str, value: float) -> str:
    target = TARGETS[name]
    better_high = name == "startup_vs_pyinstaller"
    ok = value >= target if better_high else value <= target
    return "met" if ok else "MISSED"


def write_report(results, timings, sizes, runs) -> None:
    lines = [
        "# relink benchmark", "",
        f"One run of `bench/run.py` (median of {runs} start-ups after 3 warm-ups; same hello app: json, math, "
        "zlib, hashlib and a local package). Machine: 2 cores, Debian 12.", "",
        "## Start-up", "", "| program | median start-up |", "|---|---|",
        *[f"| {name} | {seconds * 1000:.1f} ms |" for name, seconds in timings.items()], "",
        "## Sizes", "", "| file | size |", "|---|---|",
        *[f"| {name} | {size / 1e6:.2f} MB |" for name, size in sizes.items()], "",
        "## Builds (relink)", "", "| build | time |", "|---|---|",
        f"| cold (empty cache: extraction, compile, ThinLTO link, embed) | {results['cold_build_s']:.1f} s |",
        f"| app-only rebuild | {results['app_rebuild_s']:.2f} s |",
        f"| another extension set (ThinLTO cache reused) | {results['other_extensions_rebuild_s']:.1f} s |",
        f"| `--fast-link` cold link (interpreter cache empty, ThinLTO cache warm from the builds above) | "
        f"{results['fast_cold_build_s']:.1f} s |",
        f"| `--fast-link` another extension set | {results['fast_other_extensions_rebuild_s']:.1f} s |", "",
        "## Targets", "", "| target | measured | verdict |", "|---|---|---|",
        f"| start-up no slower than the distribution's python (ratio ≤ 1) | {results['startup_vs_python']:.2f}× | "
        f"{verdict('startup_vs_python', results['startup_vs_python'])} |",
        f"| ≥ 5× faster than PyInstaller one-file | {results['startup_vs_pyinstaller']:.1f}× | "
        f"{verdict('startup_vs_pyinstaller', results['startup_vs_pyinstaller'])} |",
        f"| minimal hello app ≤ 6 MB | {results['minimal_size_mb']:.2f} MB | "
        f"{verdict('minimal_size_mb', results['minimal_size_mb'])} |",
        f"| cold build ≤ 60 s | {results['cold_build_s']:.1f} s | {verdict('cold_build_s', results['cold_build_s'])} |",
        f"| app-only rebuild ≤ 1 s | {results['app_rebuild_s']:.2f} s | "
        f"{verdict('app_rebuild_s', results['app_rebuild_s'])} |",
        f"| other extension set ≤ 10 s | {results['other_extensions_rebuild_s']:.1f} s (`--fast-link`: "
        f"{results['fast_other_extensions_rebuild_s']:.1f} s) | "
        f"{verdict('other_extensions_rebuild_s', results['other_extensions_rebuild_s'])} "
        f"(`--fast-link`: {verdict('other_extensions_rebuild_s', results['fast_other_extensions_rebuild_s'])}) |",
        "", NOTES, "",
        "![benchmark chart](results.png)", "",
    ]
    (HERE / "results.md").write_text("\n".join(lines))


def plot(venv: Path, timings, sizes, results) -> None:
    script = f"""
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
timings = {timings!r}; sizes = {sizes!r}; results = {results!r}
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
axes[0].barh(list(timings), [v * 1000 for v in timings.values()], color=["#2a7", "#888", "#c54"])
axes[0].set_title("start-up (ms, lower is better)")
axes[1].barh(list(sizes), [v / 1e6 for v in sizes.values()], color=["#2a7", "#5b9", "#c54"])
axes[1].set_title("file size (MB)")
builds = {{"cold build": results["cold_build_s"], "app-only rebuild": results["app_rebuild_s"],
          "other extension set": results["other_extensions_rebuild_s"]}}
axes[2].barh(list(builds), list(builds.values()), color="#37a")
axes[2].set_title("relink build times (s)")
fig.tight_layout()
fig.savefig({str(HERE / "results.png")!r}, dpi=90)
"""
    subprocess.run([str(venv / "bin" / "python"), "-c", script], check=True)


if __name__ == "__main__":
    sys.exit(main())
