"""Corpus benchmark: size and start-up of every corpus program (tests/corpus) as a relink single file,
side by side in one run with the distribution's own interpreter running the same program and with a
PyInstaller one-file build of it.

Each program is built with `relink build`'s default options (the default distribution, --include the
corpus packages, and the corpus test's --glibc for programs whose wheels need a newer glibc), again with
--no-compress, and with `pyinstaller --onefile --paths <corpus packages>`; each executable and
`python -s program.py` (PYTHONPATH = the corpus packages) is run from an empty folder under
`env -i LANG=C.UTF-8`, 3 warm-ups then the median of --runs. Outputs are compared with the stock
interpreter's: a build whose output differs is reported, not timed. Writes bench/corpus.md.

Usage: .venv/bin/python bench/corpus.py [--runs N] [--pyinstaller all|none|NAME,NAME…]
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
ROOT = HERE.parent
PROGRAMS = ROOT / "tests" / "corpus" / "programs"
SITE = ROOT / ".corpus" / "site-packages"
# PyInstaller one-file builds take 30-90 s each: by default a sample covering pure, native and data.
PYINSTALLER_SAMPLE = ("click_cli", "sqlparse_format", "yaml_roundtrip", "requests_prepare", "tzdata_zoneinfo",
                      "pydantic_model")
TARGETS = {"startup_vs_stock": 0.7, "startup_vs_pyinstaller": 0.4}


def _env(extra: dict[str, str] | None = None) -> list[str]:
    return ["env", "-i", "LANG=C.UTF-8", *(f"{k}={v}" for k, v in (extra or {}).items())]


def _glibc_flags(name: str) -> list[str]:
    """The corpus test's own `--glibc` for programs whose wheels need a newer glibc than the floor."""
    sys.path.insert(0, str(ROOT / "tests" / "corpus"))
    from test_corpus import GLIBC_FLOOR

    return ["--glibc", GLIBC_FLOOR[name]] if name in GLIBC_FLOOR else []


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)


def _startup(argv: list[str], cwd: Path, runs: int) -> float:
    for _ in range(3):
        _run(argv, cwd)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        _run(argv, cwd)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="timed start-ups per executable (median reported)")
    parser.add_argument("--pyinstaller", default="sample",
                        help="programs also built with PyInstaller: sample (default), all, none or NAME,NAME")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    from run import tools_venv  # the hello benchmark's venv with PyInstaller

    from relink.distribution import open_distribution
    from relink.distribution.srcbuild import default_distribution
    from relink.support.cache import cache_root

    subprocess.run(["bash", str(ROOT / "scripts" / "setup-corpus.sh")], check=True)
    dist = open_distribution(default_distribution())
    stock = dist.extract() / "python" / dist.metadata.python_exe
    programs = sorted(p.stem for p in PROGRAMS.glob("*.py"))
    wanted = {"sample": set(PYINSTALLER_SAMPLE), "all": set(programs), "none": set()}.get(
        args.pyinstaller, set(args.pyinstaller.split(",")))
    pyinstaller = tools_venv(cache_root()) / "bin" / "pyinstaller" if wanted else None

    work = Path(tempfile.mkdtemp(prefix="relink-corpus-bench-"))
    empty = work / "empty"
    empty.mkdir()
    rows = []
    for name in programs:
        source = PROGRAMS / f"{name}.py"
        row = {"name": name}
        stock_argv = [*_env({"PYTHONPATH": str(SITE)}), str(stock), "-s", str(source)]
        expected = _run(stock_argv, empty)
        row["stock_ms"] = _startup(stock_argv, empty, args.runs) * 1000
        for variant, flags in (("relink", []), ("stored", ["--no-compress"])):
            out = work / variant / name
            out.parent.mkdir(exist_ok=True)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "relink", "build", "-q", "--app", str(source), "--include",
                            str(SITE), "-o", str(out), *flags, *_glibc_flags(name)], check=True)
            row[f"{variant}_build_s"] = time.perf_counter() - started
            row[f"{variant}_mb"] = out.stat().st_size / 1e6
            got = _run([*_env(), str(out)], empty)
            row[f"{variant}_same"] = (got.returncode, got.stdout) == (expected.returncode, expected.stdout)
            if row[f"{variant}_same"]:
                row[f"{variant}_ms"] = _startup([*_env(), str(out)], empty, args.runs) * 1000
        if name in wanted:
            pi_work = work / "pyinstaller" / name
            result = subprocess.run([str(pyinstaller), "--onefile", "--noconfirm", "--log-level", "ERROR",
                                     "--paths", str(SITE), "--distpath", str(pi_work / "dist"),
                                     "--workpath", str(pi_work / "build"), "--specpath", str(pi_work),
                                     "-n", name, str(source)], capture_output=True, text=True)
            binary = pi_work / "dist" / name
            if result.returncode == 0 and binary.is_file():
                row["pyinstaller_mb"] = binary.stat().st_size / 1e6
                got = _run([*_env(), str(binary)], empty)
                row["pyinstaller_same"] = (got.returncode, got.stdout) == (expected.returncode, expected.stdout)
                if row["pyinstaller_same"]:
                    row["pyinstaller_ms"] = _startup([*_env(), str(binary)], empty, args.runs) * 1000
            else:
                row["pyinstaller_same"] = False
        rows.append(row)
        print(row, file=sys.stderr, flush=True)
    (HERE / "corpus.md").write_text(_report(rows, args.runs))
    shutil.rmtree(work, ignore_errors=True)
    return 0


def _fmt(value, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _report(rows: list[dict], runs: int) -> str:
    vs_stock = [r["relink_ms"] / r["stock_ms"] for r in rows if "relink_ms" in r]
    stored_vs_stock = [r["stored_ms"] / r["stock_ms"] for r in rows if "stored_ms" in r]
    stored_vs_pi = [r["stored_mb"] / r["pyinstaller_mb"] for r in rows if "pyinstaller_mb" in r]
    requests = next((r for r in rows if r["name"] == "requests_prepare"), {})
    vs_pi = [r["relink_ms"] / r["pyinstaller_ms"] for r in rows if "relink_ms" in r and "pyinstaller_ms" in r]
    size_vs_pi = [r["relink_mb"] / r["pyinstaller_mb"] for r in rows if "pyinstaller_mb" in r]
    same = sum(r["relink_same"] for r in rows)
    lines = [
        "# Corpus benchmark: relink single files vs the stock interpreter and PyInstaller one-file",
        "",
        f"`.venv/bin/python bench/corpus.py --runs {runs}` — {len(rows)} programs from tests/corpus, each built with",
        "`relink build`'s default options; start-up is the median wall time of the whole program run from an empty",
        "folder under `env -i LANG=C.UTF-8` (3 warm-ups first), measured side by side in one run on a shared 2-core",
        "machine. Stock = the distribution's own `python3 -s program.py` with the corpus packages on PYTHONPATH.",
        "",
        f"- Output identical to stock: relink {same}/{len(rows)}; PyInstaller "
        f"{sum(r.get('pyinstaller_same', False) for r in rows)}/{sum('pyinstaller_same' in r for r in rows)} built.",
        f"- Median start-up relink/stock: {_fmt(statistics.median(vs_stock) if vs_stock else None, '.2f')} "
        f"(target ≤ {TARGETS['startup_vs_stock']}); relink/PyInstaller: "
        f"{_fmt(statistics.median(vs_pi) if vs_pi else None, '.2f')} (target ≤ {TARGETS['startup_vs_pyinstaller']}).",
        f"- Median size relink/PyInstaller: {_fmt(statistics.median(size_vs_pi) if size_vs_pi else None, '.2f')} "
        "(target ≤ 1.0); the requests program: "
        f"{_fmt(requests.get('relink_mb'), '.1f')} MB (target ≤ 12).",
        f"- With `--no-compress` (bytecode stored, not deflated): start-up relink/stock "
        f"{_fmt(statistics.median(stored_vs_stock) if stored_vs_stock else None, '.2f')}, size relink/PyInstaller "
        f"{_fmt(statistics.median(stored_vs_pi) if stored_vs_pi else None, '.2f')}.",
        "",
        "| program | stock ms | relink ms | relink MB | `--no-compress` ms | `--no-compress` MB | relink build s "
        "| PyInstaller ms | PyInstaller MB | same output (relink / `--no-compress` / PyInstaller) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    yes = {True: "yes", False: "NO"}
    for r in rows:
        lines.append(f"| {r['name']} | {r['stock_ms']:.0f} | {_fmt(r.get('relink_ms'), '.0f')} | {r['relink_mb']:.1f} | "
                     f"{_fmt(r.get('stored_ms'), '.0f')} | {r['stored_mb']:.1f} | "
                     f"{r['relink_build_s']:.1f} | {_fmt(r.get('pyinstaller_ms'), '.0f')} | "
                     f"{_fmt(r.get('pyinstaller_mb'), '.1f')} | {yes[r['relink_same']]} / {yes[r['stored_same']]} / "
                     f"{yes.get(r.get('pyinstaller_same'), '—')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
