"""The glibc floor, measured side by side in one run. Writes bench/floor-results.md.

1. The link: the hello app linked for the distribution's glibc floor vs linked the way relink did before.
   Both links use the same generated project (plan, config.c, launcher), the same pinned clang + lld, the
   same ThinLTO options and the same embedded payload; only the C library differs:
   - host: `toolchain/clang.cmake`, the build machine's own glibc 2.36 (relink's link step until the floor);
   - floor: the target's driver (ziglang's glibc stubs at the distribution's floor, `relink build`'s now).
2. The distribution: the hello app built by `relink build` from the previous default distribution
   (builder revision 1: compiled against Debian 12's glibc, floor 2.35; `--before`, by default the newest
   such ThinLTO archive in the cache) vs from today's default distribution (glibc 2.17 floor).
3. With `--cold-build`: `relink dist build` (ThinLTO, the default) in an empty scratch cache
   (RELINK_CACHE_DIR), everything included (Debian source packages, the floor's libraries, CPython), then
   the same command again (cached).

Start-up: median of N runs after 3 warm-ups, the two binaries of a pair run alternately.

Usage: .venv/bin/python bench/floor.py [--runs N] [--before ARCHIVE] [--cold-build]
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


def startups(binaries: list[Path], runs: int) -> list[float]:
    """Median start-up of each, run alternately so that machine noise hits all alike."""
    for binary in binaries:
        for _ in range(3):
            timed([str(binary)])
    samples: list[list[float]] = [[] for _ in binaries]
    for _ in range(runs):
        for binary, times in zip(binaries, samples):
            times.append(timed([str(binary)]))
    return [statistics.median(times) for times in samples]


def revision_1_archive() -> Path | None:
    """The newest cached ThinLTO archive of builder revision 1 (the default distribution before the floor)."""
    from relink.support import cache_root

    found = []
    for record in (cache_root() / "dists").glob("*/build.json"):
        info = json.loads(record.read_text())
        if info.get("builder_revision") == 1 and info.get("options", {}).get("lto"):
            found.extend(record.parent.glob("*-full.tar.zst"))
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def distribution_rows(before: Path, after: Path, work: Path, runs: int) -> list[tuple]:
    from relink.distribution import open_distribution
    from relink.report.binary_info import read_binary

    outs = []
    for label, archive in (("revision 1 (before)", before), ("glibc 2.17 floor (now)", after)):
        out = work / f"hello-{len(outs)}"
        subprocess.run([sys.executable, "-m", "relink", "build", str(archive), "--app", str(APP), "-o", str(out),
                        "-q"], check=True)
        floor = open_distribution(archive).metadata.crt_features.glibc_max_version
        outs.append((label, out, ".".join(map(str, floor))))
    times = startups([out for _, out, _ in outs], runs)
    return [(label, s, out.stat().st_size, floor, read_binary(out).glibc_required_text)
            for (label, out, floor), s in zip(outs, times)]


def cold_build(work: Path) -> tuple[float, float, dict]:
    """Seconds of a cold `relink dist build` in a scratch cache, of the cached second call, and its build.json."""
    env = {**os.environ, "RELINK_CACHE_DIR": str(work / "cold-cache")}
    argv = [sys.executable, "-m", "relink", "dist", "build", "-q"]
    cold = timed_env(argv, env)
    cached = timed_env(argv, env)
    record = json.loads(next((work / "cold-cache" / "dists").glob("*/build.json")).read_text())
    return cold, cached, record


def timed_env(argv, env) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--before", type=Path, help="the distribution before the floor (default: the newest "
                        "cached ThinLTO archive of builder revision 1)")
    parser.add_argument("--cold-build", action="store_true", help="also time a cold default distribution build")
    args = parser.parse_args()
    before = args.before or revision_1_archive()
    if before is None:
        parser.error("no builder-revision-1 distribution in the cache: pass --before ARCHIVE")

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
        dist_rows = distribution_rows(before, archive, work, args.runs)
        cold = cold_build(work) if args.cold_build else None
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
        "## The default distribution, before and after its floor became real",
        "",
        f"The hello app as `relink build DIST --app examples/hello-app/hello_app.py` makes it, from the previous "
        f"default distribution (`{before.name}`, builder revision 1) and from today's (`{archive.name}`), "
        f"start-ups alternated ({args.runs} each, median).",
        "",
        "| distribution | start-up | size | distribution's floor | newest GLIBC symbol of the app |",
        "|---|---|---|---|---|",
        *(f"| {label} | {s * 1000:.1f} ms | {size / 1e6:.3f} MB | {floor} | {glibc} |"
          for label, s, size, floor, glibc in dist_rows),
        "",
        f"Start-up after/before: {dist_rows[1][1] / dist_rows[0][1]:.3f}; size after/before: "
        f"{dist_rows[1][2] / dist_rows[0][2]:.4f} (target: within 5%).",
        "",
    ]
    if cold is not None:
        cold_s, cached_s, record = cold
        lines += [
            "## Cold default distribution build",
            "",
            f"`relink dist build` in an empty scratch cache on {os.cpu_count()} cores: {cold_s:.0f} s wall "
            f"(build.json: {record['seconds']} s from the floor's libraries to the archive; the rest is fetching "
            f"Debian's source packages and making the target driver); the same command again: {cached_s:.1f} s "
            "(target: at most 8 minutes cold, instant when cached).",
            "",
        ]
    (HERE / "floor-results.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
