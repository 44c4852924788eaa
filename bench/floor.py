"""Side-by-side: the hello app linked for the distribution's glibc floor vs linked the way relink did before.

Both links use the same generated project (plan, config.c, launcher), the same pinned clang + lld, the
same ThinLTO options and the same embedded payload; only the C library differs:

- host: `toolchain/clang.cmake`, the build machine's own glibc 2.36 (relink's link step until the floor);
- floor: the target's driver (ziglang's glibc stubs at the distribution's floor, `relink build`'s now).

Measures start-up (median of N runs after 3 warm-ups), file size and link time of each, and the newest
GLIBC symbol version each needs. Writes bench/floor-results.md.

Usage: .venv/bin/python bench/floor.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "examples" / "hello-app" / "hello_app.py"


def timed(argv) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def startup(binary: Path, runs: int) -> float:
    for _ in range(3):
        timed([str(binary)])
    return statistics.median(timed([str(binary)]) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from relink.app.build import _strip, write_executable
    from relink.distribution import open_distribution
    from relink.distribution.srcbuild import default_distribution
    from relink.render import python_dir_for, render_project
    from relink.report.binary_info import read_binary
    from relink.resources import templates_dir, toolchain_dir
    from relink.support import cache_root, configure_and_build
    from relink.toolchain import link_target, target_toolchain_file

    archive = default_distribution()
    dist = open_distribution(archive)
    target = link_target(dist.metadata)
    work = Path(tempfile.mkdtemp(prefix="relink-bench-floor-"))
    try:
        # The app as relink build makes it (payload and plan); its interpreter is then relinked twice.
        built = json.loads(subprocess.run([sys.executable, "-m", "relink", "build", str(archive), "--app", str(APP),
                                           "-o", str(work / "app"), "--json"], check=True, capture_output=True,
                                          text=True).stdout)
        interpreter = Path(built["interpreter"])
        payload = (work / "app").read_bytes()[interpreter.stat().st_size:]
        from relink.plan import make_plan

        plan = make_plan(dist, ",".join(["minimal", *(f"+{e}" for e in built["extensions"])]))
        project = render_project(plan, dist, work / "project", ["cmake"], name="python",
                                 python_dir=python_dir_for(plan, dist),
                                 main_c=(templates_dir() / "onefile_main.c").read_text(), target=target)
        definitions = {"RELINK_THINLTO_CACHE_DIR": str(cache_root() / "thinlto"), "CMAKE_BUILD_TYPE": "Release",
                       "RELINK_LINK_OPTIONS": "-no-pie"}
        rows = []
        for label, toolchain in (("host glibc (before)", toolchain_dir() / "clang.cmake"),
                                 (f"glibc {target.glibc_text} floor (now)", target_toolchain_file(target))):
            build = work / f"build-{len(rows)}"
            started = time.perf_counter()
            configure_and_build(project, build, work / f"link-{len(rows)}.log", toolchain_file=toolchain,
                                definitions=definitions)
            link_s = time.perf_counter() - started
            _strip(build / "python")
            out = work / f"hello-{len(rows)}"
            write_executable(build / "python", payload, out)
            info = read_binary(out)
            rows.append((label, startup(out, args.runs), out.stat().st_size, link_s, info.glibc_required_text))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    (host, floor) = rows
    lines = [
        "# Glibc floor: start-up and size, before and after",
        "",
        f"One run of `bench/floor.py` ({args.runs} start-ups, median, after 3 warm-ups), hello app "
        f"(`examples/hello-app`), default distribution, same plan, payload and ThinLTO options; only the C "
        f"library linked against differs. Machine: {os.cpu_count()} cores, Debian 12 (glibc 2.36); the link "
        "times include configure and share one warm ThinLTO cache, so compare them only with care.",
        "",
        "| link | start-up | size | link (incl. configure) | newest GLIBC symbol |",
        "|---|---|---|---|---|",
        *(f"| {label} | {s * 1000:.1f} ms | {size / 1e6:.3f} MB | {link:.1f} s | {glibc} |"
          for label, s, size, link, glibc in rows),
        "",
        f"Start-up after/before: {floor[1] / host[1]:.3f}; size after/before: {floor[2] / host[2]:.4f} "
        "(target: within 5%).",
        "",
    ]
    (HERE / "floor-results.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
