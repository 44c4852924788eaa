"""Building CPython with the pinned clang and turning the result into a PBS-format full archive.

`build_distribution` is cached by its inputs (source sha256, options, builder revision, compiler
version): a second request returns the archive at once. Each step logs to a file under the cache's
`logs/`; a failure raises one line naming the step and its log, and leaves no archive behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from relink.distribution.srcbuild import setup_files
from relink.distribution.srcbuild.floor_libraries import floor_libraries
from relink.distribution.srcbuild.layout import assemble_distribution
from relink.distribution.srcbuild.package import archive_name, write_archive
from relink.distribution.srcbuild.source import SourceTarball, debian_source, inspect_source, unpack_source
from relink.errors import ExitCode, RelinkError
from relink.support import cache_root, entry_lock, publish_dir, scratch_dir, staging_dir
from relink.toolchain import find_pinned_tool, pinned_toolchain

__all__ = ["BuildOptions", "build_distribution", "default_distribution", "BUILDER_REVISION"]

# Bump when the builder's output changes for the same inputs, so cached archives are rebuilt.
BUILDER_REVISION = 3
# The oldest glibc a source-built distribution runs on (PBS's promise): CPython and the third-party
# libraries that need it are compiled against this glibc's headers and linked against its stub libraries.
GLIBC_FLOOR = (2, 17)
# Fixed timestamp for reproducible archives and hash-checked .pyc files (2024-01-01T00:00:00Z).
SOURCE_DATE_EPOCH = 1704067200


@dataclass(frozen=True)
class BuildOptions:
    lto: bool = True            # objects as ThinLTO LLVM bitcode (PBS's pgo+lto form) or native ELF
    jobs: int = os.cpu_count() or 2

    @property
    def build_options(self) -> str:
        """PBS's name for the flavour: `lto` (LTO, no PGO) or `noopt` (neither PGO nor LTO; still -O3)."""
        return "lto" if self.lto else "noopt"


def _progress(quiet: bool, message: str) -> None:
    if not quiet:
        print(f"relink: {message}", file=sys.stderr, flush=True)


def _compiler_version(clang: str) -> str:
    out = subprocess.run([clang, "--version"], capture_output=True, text=True).stdout
    first = out.splitlines()[0] if out else ""
    if "clang version" not in first:
        raise RelinkError(f"{clang} is not clang ({first or 'no --version output'})", ExitCode.TOOLCHAIN)
    return first.split("clang version", 1)[1].split()[0]


def _cache_key(source: SourceTarball, options: BuildOptions, compiler: str) -> str:
    inputs = {"source": source.sha256, "lto": options.lto, "builder": BUILDER_REVISION, "compiler": compiler,
              "glibc_floor": GLIBC_FLOOR}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]


def default_distribution(*, quiet: bool = False) -> Path:
    """The distribution relink uses when none is named: Debian's CPython 3.11, ThinLTO bitcode."""
    return build_distribution(None, BuildOptions(), quiet=quiet)


def build_distribution(source_path: Path | None, options: BuildOptions, *, output_dir: Path | None = None,
                       force: bool = False, quiet: bool = False) -> Path:
    """Build (or find in the cache) the full archive for `source_path`; returns the archive's path."""
    pin = pinned_toolchain()
    tools = {name: find_pinned_tool(name) for name in (pin.clang, pin.clangxx, pin.ar, pin.ranlib, pin.lld)}
    compiler_version = _compiler_version(tools[pin.clang])
    if source_path is None:
        source_path = debian_source("python3.11", on_download=lambda: _progress(
            quiet, "fetching Debian's python3.11 source package with apt"))
    source = inspect_source(Path(source_path))
    key = _cache_key(source, options, compiler_version)
    entry = cache_root() / "dists" / key
    name = archive_name(source.version, _target_triple(), options.build_options)

    with entry_lock(entry):
        archive = entry / name
        if archive.is_file() and not force:
            _progress(quiet, f"cached: {archive}")
            return _deliver(archive, output_dir)
        logs = cache_root() / "logs" / key
        shutil.rmtree(logs, ignore_errors=True)
        logs.mkdir(parents=True)
        with staging_dir(entry) as staged, scratch_dir("relink-cpython") as work:
            started = time.monotonic()
            driver = _floor_compiler()
            libraries = floor_libraries(driver, logs, lambda message: _progress(quiet, message))
            build_dir = _compile(source, options, tools, driver, libraries, Path(work), logs, quiet)
            stage = Path(work) / "stage"
            _run_step("make install", ["make", "install", f"DESTDIR={stage / 'python'}"], build_dir,
                      logs / "install.log", quiet, env={"SOURCE_DATE_EPOCH": str(SOURCE_DATE_EPOCH)})
            _progress(quiet, "writing PYTHON.json and the archive")
            metadata = assemble_distribution(
                build_dir=build_dir, source=source, stage=stage, build_options=options.build_options,
                target_triple=_target_triple(), object_file_format=(
                    f"llvm-bitcode:{compiler_version}" if options.lto else "elf"),
                library_dir=libraries / "lib", glibc_floor=GLIBC_FLOOR,
            )
            write_archive(stage, staged / name, mtime=SOURCE_DATE_EPOCH)
            (staged / "build.json").write_text(json.dumps({
                "source": str(source.path), "source_sha256": source.sha256, "options": asdict(options),
                "compiler": compiler_version, "builder_revision": BUILDER_REVISION,
                "glibc_floor": ".".join(map(str, GLIBC_FLOOR)),
                "libraries": json.loads((libraries / "libraries.json").read_text())["libraries"],
                "extensions": len(metadata["build_info"]["extensions"]),
                "seconds": round(time.monotonic() - started, 1),
            }, indent=2))
            publish_dir(staged, entry)
        _progress(quiet, f"built {entry / name} in {time.monotonic() - started:.0f} s")
        return _deliver(entry / name, output_dir)


def _deliver(archive: Path, output_dir: Path | None) -> Path:
    if output_dir is None:
        return archive
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / archive.name
    fd, tmp = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".partial", dir=output_dir)
    os.close(fd)
    try:
        shutil.copyfile(archive, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _target_triple() -> str:
    machine = platform.machine()
    if sys.platform != "linux":
        raise RelinkError(f"the source builder supports Linux only (this is {sys.platform})", ExitCode.TOOLCHAIN)
    libc = "gnu" if platform.libc_ver()[0] == "glibc" else "musl"
    return f"{machine}-unknown-linux-{libc}"


def _floor_compiler() -> Path:
    """The pinned clang + lld driver for this machine's triple at GLIBC_FLOOR (relink.toolchain.target)."""
    from relink.toolchain import LinkTarget, target_compiler

    return target_compiler(LinkTarget(_target_triple(), "linux", "gnu", GLIBC_FLOOR, None))


def _compile(source: SourceTarball, options: BuildOptions, tools: dict[str, str], driver: Path, libraries: Path,
             work: Path, logs: Path, quiet: bool) -> Path:
    pin = pinned_toolchain()
    _progress(quiet, f"unpacking {source.path.name} (CPython {source.version})")
    build_dir = unpack_source(source, work)
    setup_files.write_setup_local(build_dir, source.minor)

    # configure's probes ignore the *_NODIST flags, so LTO and native builds can share one cache file;
    # what the floor's stubs offer decides them (getrandom, close_range, memfd_create… are not found).
    config_cache = cache_root() / "configure" / f"{source.sha256[:16]}-{driver.parent.name}-{libraries.name}.cache"
    if config_cache.is_file():
        shutil.copyfile(config_cache, build_dir / "config.cache")
    lto = ["-flto=thin"] if options.lto else []
    configure = [
        "./configure", "--prefix=/install", "--disable-shared", "--disable-test-modules",
        # CPython's own expat (Debian's libexpat.a needs arc4random_buf, glibc 2.36) and libmpdec.
        "--without-ensurepip", "--cache-file=config.cache",
        f"CC={driver}", f"CXX={tools[pin.clangxx]}", f"AR={tools[pin.ar]}", f"RANLIB={tools[pin.ranlib]}",
        # The floor's libraries and headers first; Debian's headers after glibc's (the driver's) ones.
        f"CPPFLAGS=-I{libraries / 'include'} -idirafter /usr/include/{_multiarch()} -idirafter /usr/include",
        f"LDFLAGS=-L{libraries / 'lib'}", "OPT=-DNDEBUG -fwrapv -O3 -Wall",
        f"CFLAGS_NODIST={' '.join(lto)}",
        # The throw-away build tools (_freeze_module, _bootstrap_python) link fast at -O0.
        f"LDFLAGS_NODIST={' '.join(lto + ['-Wl,--lto-O0', '-Wl,--lto-CGO0'] if lto else [])}",
    ]
    # Every Setup.stdlib module builtin (3.12+ read Setup.stdlib; 3.11 gets its rules merged below).
    _run_step("configure", configure, build_dir, logs / "configure.log", quiet, env={"MODULE_BUILDTYPE": "static"})
    config_cache.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(build_dir / "config.cache", config_cache)
    if source.minor == 11:
        setup_files.merge_stdlib_rules(build_dir)
    _run_step(f"make -j{options.jobs}", ["make", f"-j{options.jobs}"], build_dir, logs / "make.log", quiet)
    return build_dir


def _multiarch() -> str:
    return subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _run_step(label: str, argv: list[str], cwd: Path, log: Path, quiet: bool, env: dict[str, str] | None = None) -> None:
    from relink.support.runner import run_logged

    _progress(quiet, f"{label} (log: {log})")
    started = time.monotonic()
    with log.open("w") as out:
        returncode = run_logged(argv, out, label, cwd=cwd, env={**os.environ, **(env or {})}, quiet=quiet)
    if returncode != 0:
        raise RelinkError(f"{label} failed (exit {returncode}): read {log}", ExitCode.BUILD_FAILED)
    _progress(quiet, f"{label}: done in {time.monotonic() - started:.0f} s")
