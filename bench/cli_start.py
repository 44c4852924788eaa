"""Side-by-side benchmark of the `relink` command's start-up, in one run, against `zstd -dc` of the archive.

relink is built as a wheel and installed into a private venv (what `pip install relink` gives: bytecode
cached, no editable-install hooks), then each command is timed from process start to exit:
`python -c pass` (the floor), `relink --version`, `relink cmake-dir` (parse, dispatch, one trivial command),
`relink --help` (every command's parser), `relink info ARCHIVE` on the default distribution, and
`zstd -dc ARCHIVE > /dev/null` (a full decompression, the reference `info` is measured against).
Writes bench/cli_start.md.

Usage: .venv/bin/python bench/cli_start.py [--runs N] [--archive PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_START_MS = 50.0
TARGET_INFO_VS_ZSTD = 0.3


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(programs: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """(median, best) seconds of each program over `runs` rounds after two warm-up rounds; each round runs
    every program once, so a burst of load on the machine hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in programs}
    for round_number in range(runs + 2):
        for name, argv in programs.items():
            elapsed = timed(argv)
            if round_number >= 2:
                samples[name].append(elapsed)
    return {name: (statistics.median(values), min(values)) for name, values in samples.items()}


def wheel_venv(work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "wheel"), str(ROOT)],
                   check=True)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheel = next((work / "wheel").glob("relink-*.whl"))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True)
    return venv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per program (median and best reported)")
    parser.add_argument("--archive", type=Path, help="the archive for `relink info` (default: the default distribution)")
    args = parser.parse_args()
    if args.archive is None:
        from relink.distribution.srcbuild import default_distribution

        args.archive = default_distribution()
    zstd = shutil.which("zstd")
    if zstd is None:
        raise SystemExit("bench/cli_start.py: needs the zstd command (apt install zstd)")

    with tempfile.TemporaryDirectory(prefix="relink-bench-") as tmp:
        venv = wheel_venv(Path(tmp))
        python = str(venv / "bin" / "python")
        relink = str(venv / "bin" / "relink")
        programs = {
            "python -c pass": [python, "-c", "pass"],
            "relink --version": [relink, "--version"],
            "relink cmake-dir": [relink, "cmake-dir"],
            "relink --help": [relink, "--help"],
            "relink info ARCHIVE": [relink, "info", str(args.archive)],
            "zstd -dc ARCHIVE": ["sh", "-c", f'exec {zstd} -qdc "$0" > /dev/null', str(args.archive)],
        }
        results = measure(programs, args.runs)

    info_ratio = results["relink info ARCHIVE"][0] / results["zstd -dc ARCHIVE"][0]
    size_mb = args.archive.stat().st_size / 1e6
    lines = [
        "# relink command start-up",
        "",
        f"One run of `bench/cli_start.py` (median and best of {args.runs} rounds after 2 warm-up rounds, each round running every program once; relink installed "
        f"from its wheel into a fresh venv, Python {sys.version.split()[0]}). Archive: `{args.archive.name}` "
        f"({size_mb:.1f} MB). Machine: 2 cores, Debian 12, shared with other work (medians are noisy).",
        "",
        "| program | median | best |",
        "|---|---|---|",
        *(f"| `{name}` | {median * 1000:.1f} ms | {best * 1000:.1f} ms |" for name, (median, best) in results.items()),
        "",
        f"- start-up target: parse and dispatch (`relink cmake-dir`) <= {TARGET_START_MS:.0f} ms: "
        f"{results['relink cmake-dir'][0] * 1000:.1f} ms median.",
        f"- `relink info` <= {TARGET_INFO_VS_ZSTD}x a full `zstd -dc` of the archive: {info_ratio:.2f}x "
        "(medians).",
        "",
    ]
    (HERE / "cli_start.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
