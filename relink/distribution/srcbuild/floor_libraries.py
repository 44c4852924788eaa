"""The third-party static libraries of a distribution whose glibc floor is real.

Debian's own static archives are built against Debian 12's glibc 2.36 headers, and some use newer symbols
than the floor: libffi (memfd_create), libsqlite3 (fcntl64) and libuuid (getrandom). Those are rebuilt
here from the same Debian source packages with the floor's compiler driver (relink.toolchain's target
driver: glibc stub libraries of the floor); the others (zlib, bzip2, xz, OpenSSL, ncurses) link cleanly
and are taken as Debian ships them. expat and libmpdec come from CPython's own tree (configure without
--with-system-expat). libedit is left out: Debian's needs libbsd (__explicit_bzero_chk, glibc 2.25),
whose source does not build against the floor's headers, so the readline module is not built.

`floor_libraries(driver, …)` returns a folder with `lib/` (every static archive CPython's extensions link,
and nothing shared, so the build's own interpreter links them statically too), `include/` (the rebuilt
libraries' headers, searched before Debian's) and `libraries.json` (each library's Debian source package,
version and whether it was rebuilt). Cached in the cache's `floorlibs/` by driver and sources.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from relink.distribution.srcbuild.source import debian_source
from relink.errors import ExitCode, RelinkError
from relink.support import cache_root, entry_lock, publish_dir, staging_dir

__all__ = ["floor_libraries", "FLOOR_LIBRARIES_REVISION"]

FLOOR_LIBRARIES_REVISION = 1
MULTIARCH = "x86_64-linux-gnu"

# Debian's static archives that need nothing newer than glibc 2.17: library name -> Debian source package.
TAKEN_FROM_DEBIAN = {
    "z": "zlib", "bz2": "bzip2", "lzma": "xz-utils", "crypto": "openssl", "ssl": "openssl",
    "ncursesw": "ncurses", "panelw": "ncurses", "tinfo": "ncurses",
}


def _sqlite_configure(src: Path, cc: str, env: dict[str, str], log) -> list[Path]:
    # The amalgamation (tclsh generates it), compiled as Debian's rules do, as one object.
    _run(["./configure"], src, log)
    _run(["make", "sqlite3.c"], src, log)
    cc = [cc, *env["CPPFLAGS"].split()]
    flags = ["-O2", "-fPIC", "-DSQLITE_ENABLE_COLUMN_METADATA", "-DSQLITE_ENABLE_FTS3",
             "-DSQLITE_ENABLE_FTS3_PARENTHESIS", "-DSQLITE_ENABLE_FTS4", "-DSQLITE_ENABLE_FTS5",
             "-DSQLITE_ENABLE_RTREE", "-DSQLITE_ENABLE_MATH_FUNCTIONS", "-DSQLITE_SECURE_DELETE",
             "-DSQLITE_ENABLE_UNLOCK_NOTIFY", "-DSQLITE_ENABLE_DBSTAT_VTAB", "-DSQLITE_MAX_SCHEMA_RETRY=25",
             "-DSQLITE_MAX_VARIABLE_NUMBER=250000", "-DSQLITE_THREADSAFE=1", "-DHAVE_USLEEP=1"]
    _run([*cc, *flags, "-c", "sqlite3.c", "-o", "sqlite3.o"], src, log)
    _run([_ar(), "rcs", "libsqlite3.a", "sqlite3.o"], src, log)
    return [src / "libsqlite3.a", src / "sqlite3.h", src / "sqlite3ext.h"]


def _autotools(configure_args: list[str], make_args: list[str], outputs: list[str]):
    def build(src: Path, cc: str, env: dict[str, str], log) -> list[Path]:
        _run(["./configure", "--disable-shared", "--enable-static", "--with-pic", f"CC={cc}", "CFLAGS=-O2",
              *(f"{k}={v}" for k, v in env.items()), *configure_args], src, log)
        _run(["make", f"-j{os.cpu_count() or 2}", *make_args], src, log)
        return [next(src.glob(out)) for out in outputs]
    return build


# Library name -> (Debian source package, how to build it, headers' sub-folder in include/).
REBUILT = {
    # Static trampolines need memfd_create (glibc 2.27); closures use the classic mmap path instead.
    "ffi": ("libffi", _autotools(["--disable-docs", "--disable-multi-os-directory", "--disable-exec-static-tramp"],
                                 [], ["*-linux-gnu/.libs/libffi.a", "*-linux-gnu/include/ffi.h",
                                      "*-linux-gnu/include/ffitarget.h"]), ""),
    "sqlite3": ("sqlite3", _sqlite_configure, ""),
    "uuid": ("util-linux", _autotools(["--disable-all-programs", "--enable-libuuid", "--without-systemd",
                                       "--without-udev", "--without-python", "--disable-nls",
                                       "--disable-bash-completion", "--disable-asciidoc"],
                                      ["libuuid.la"], [".libs/libuuid.a", "libuuid/src/uuid.h"]), "uuid"),
}


def _ar() -> str:
    from relink.toolchain import find_pinned_tool, pinned_toolchain

    return find_pinned_tool(pinned_toolchain().ar)


def _run(argv: list[str], cwd: Path, log) -> None:
    log.write(f"$ {' '.join(map(str, argv))}\n")
    log.flush()
    result = subprocess.run(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise RelinkError(f"building a floor library failed at '{argv[0]} {' '.join(map(str, argv[1:3]))}' "
                          f"(exit {result.returncode}): read {log.name}", ExitCode.BUILD_FAILED)


def _debian_version(source_tarball: Path) -> str:
    """`libffi_3.4.4.orig.tar.gz` -> `3.4.4`."""
    return re.sub(r"\.orig(-\w+)?\.tar\.\w+$", "", source_tarball.name).split("_", 1)[1]


def floor_libraries(driver: Path, logs: Path, quiet_progress) -> Path:
    """The folder of static libraries for a build whose compiler is `driver` (see the module docstring)."""
    sources = {name: debian_source(package, on_download=lambda p=package: quiet_progress(
        f"fetching Debian's {p} source package with apt")) for name, (package, _, _) in REBUILT.items()}
    key = hashlib.sha256(json.dumps({"driver": driver.parent.name, "revision": FLOOR_LIBRARIES_REVISION,
                                     "sources": {n: p.name for n, p in sources.items()}},
                                    sort_keys=True).encode()).hexdigest()[:20]
    entry = cache_root() / "floorlibs" / key
    with entry_lock(entry):
        if (entry / "libraries.json").is_file():
            return entry
        started = time.monotonic()
        with staging_dir(entry) as staged, tempfile.TemporaryDirectory(prefix="relink-floorlibs-",
                                                                        dir=cache_root()) as work:
            (staged / "lib").mkdir()
            (staged / "include").mkdir()
            record = {}
            for name, package in TAKEN_FROM_DEBIAN.items():
                archive = Path(f"/usr/lib/{MULTIARCH}/lib{name}.a")
                if not archive.is_file():
                    raise RelinkError(f"{archive} is missing: run 'bash toolchain/setup.sh'", ExitCode.TOOLCHAIN)
                (staged / "lib" / archive.name).symlink_to(archive)
                record[name] = {"source_package": package, "version": _installed_version(archive), "rebuilt": False}
            # Headers and libraries: the rebuilt ones first, then Debian's (never its shared libraries).
            env = {"CPPFLAGS": f"-I{staged / 'include'} -idirafter /usr/include/{MULTIARCH} -idirafter /usr/include",
                   "LDFLAGS": f"-L{staged / 'lib'}"}
            for name, (package, build, header_dir) in REBUILT.items():
                quiet_progress(f"building lib{name} from Debian's {package} source for the glibc floor")
                src = Path(work) / package
                src.mkdir()
                with tarfile.open(sources[name]) as tar:
                    top = tar.getmembers()[0].name.split("/")[0]
                    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Debian's 3.11.2: none
                    tar.extractall(Path(work) / f"{package}-unpacked", **safe)
                os.replace(Path(work) / f"{package}-unpacked" / top, src)
                with (logs / f"floorlib-{name}.log").open("w") as log:
                    outputs = build(src, str(driver), env, log)
                for output in outputs:
                    if output.suffix == ".a":
                        shutil.copyfile(output, staged / "lib" / output.name)
                    else:
                        (staged / "include" / header_dir).mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(output, staged / "include" / header_dir / output.name)
                record[name] = {"source_package": package, "version": _debian_version(sources[name]), "rebuilt": True}
            (staged / "libraries.json").write_text(json.dumps({"seconds": round(time.monotonic() - started, 1),
                                                               "libraries": record}, indent=2, sort_keys=True))
            publish_dir(staged, entry)
    return entry


def _installed_version(archive: Path) -> str | None:
    owner = subprocess.run(["dpkg", "-S", str(archive)], capture_output=True, text=True).stdout.split(":", 1)[0]
    if not owner:
        return None
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", owner.strip()], capture_output=True, text=True)
    return version.stdout.strip() or None
