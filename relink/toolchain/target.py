"""The target of everything relink compiles and links: the distribution's CPU, C library and glibc floor.

`link_target(metadata, glibc)` says what a link is for: the distribution's target triple, its libc (glibc
dynamic, or musl linked static) and, for glibc, the floor (by default the distribution's own
`glibc-max-symbol-version`; `--glibc X.Y` chooses another). `target_compiler(target)` returns the one C
compiler every relink compile and link uses for it: a small driver script in the cache that runs the
pinned clang + lld with `--target=<triple>`, the C library headers of that target and, when it links,
that libc's start files and stub libraries (their symbols carry the floor's GLIBC_x.y versions, so the
output never binds a newer one).

The headers and stubs come from the `ziglang` package (a pinned dependency), which carries them for every
glibc version and Linux CPU; they are asked for once per target by compiling and linking a tiny program
with `zig cc -v` and copying what it used into the cache. The pinned clang and lld (not zig's own linker
driver) do the real work, because zig's driver refuses `--thinlto-cache-dir` and `-mllvm` and runs the
ThinLTO back-end on one thread. Windows and macOS targets cannot be compiled here (no SDK): callers emit
config.c as source for the consumer's own build instead.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from relink.errors import ExitCode, RelinkError
from relink.toolchain.pin import find_pinned_tool, pinned_toolchain

__all__ = ["LinkTarget", "link_target", "parse_glibc", "target_compiler", "target_toolchain_file", "zig_command"]

# PBS's CPU names (first field of the triple) to zig's; x86_64_v2..v4 are x86_64 with a newer baseline.
_ZIG_ARCH = {
    "x86_64": "x86_64", "i686": "x86", "i386": "x86", "aarch64": "aarch64", "armv7": "arm",
    "ppc64le": "powerpc64le", "s390x": "s390x", "riscv64": "riscv64", "loongarch64": "loongarch64",
}
_DRIVER_REVISION = 2       # bump when what target_compiler writes changes: older cache entries are not reused
DEFAULT_GLIBC = (2, 17)   # PBS's promise, used when a glibc distribution does not state its floor


def parse_glibc(text: str) -> tuple[int, int]:
    """`"2.17"` → (2, 17); RelinkError(USAGE) for anything else."""
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text)
    if not match:
        raise RelinkError(f"--glibc wants a version like 2.17, got {text!r}", ExitCode.USAGE)
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class LinkTarget:
    """What a compile or link is for. `glibc` is the floor for glibc targets, None otherwise."""

    triple: str
    platform: str            # linux, darwin, windows
    libc: str                # gnu, musl, libSystem, msvc
    glibc: tuple[int, int] | None
    distribution_glibc: tuple[int, int] | None   # what the distribution's own objects need

    @property
    def compilable_here(self) -> bool:
        """Linux targets compile and link from this host; Windows and macOS need their SDKs."""
        return self.platform == "linux"

    @property
    def static(self) -> bool:
        """musl targets link fully static: the output needs no C library on the machine it runs on."""
        return self.libc == "musl"

    @property
    def glibc_text(self) -> str | None:
        return ".".join(map(str, self.glibc)) if self.glibc else None

    @property
    def arch(self) -> str:
        return self.triple.split("-")[0]

    @property
    def zig_target(self) -> str:
        """zig's name for this target, e.g. `x86-linux-gnu.2.17` or `x86_64-linux-musl`."""
        base = re.sub(r"_v\d$", "", self.arch)
        arch = _ZIG_ARCH.get(base)
        if arch is None or not self.compilable_here:
            raise RelinkError(f"relink cannot compile for {self.triple} on this machine", ExitCode.TOOLCHAIN)
        abi = self.triple.split("-")[-1]
        abi = abi if abi in ("gnueabihf", "gnueabi", "musleabihf", "musl") else self.libc
        return f"{arch}-linux-{abi}" + (f".{self.glibc_text}" if self.glibc else "")

    @property
    def clang_triple(self) -> str:
        base = re.sub(r"_v\d$", "", self.arch)
        return "-".join([base, *self.triple.split("-")[1:]])

    @property
    def cpu_flags(self) -> tuple[str, ...]:
        """x86_64_v3-… distributions were compiled for that micro-architecture level; so is config.c."""
        level = re.fullmatch(r"x86_64_(v\d)", self.arch)
        return (f"-march=x86-64-{level[1]}",) if level else ()

    def describe(self) -> str:
        if self.glibc:
            return f"{self.triple}, glibc {self.glibc_text} or newer"
        return f"{self.triple}{', static' if self.static else ''}"

    def to_json(self) -> dict:
        return {"triple": self.triple, "libc": self.libc, "glibc": self.glibc_text, "static": self.static,
                "distribution_glibc": ".".join(map(str, self.distribution_glibc)) if self.distribution_glibc else None}


def link_target(metadata, glibc: str | tuple[int, int] | None = None, *, where: str = "") -> LinkTarget:
    """The target of a link of `metadata`'s distribution with glibc floor `glibc` (default: its own).

    A floor older than the distribution's objects need cannot link (their symbols do not exist there):
    that is refused at once with what to do.
    """
    triple = metadata.target_triple
    platform = "linux" if "-linux" in triple else "darwin" if "apple" in triple else (
        "windows" if "windows" in triple else "unknown")
    libc = ("musl" if "musl" in triple or metadata.crt_features.libc == "musl" else "gnu") if platform == "linux" \
        else {"darwin": "libSystem", "windows": "msvc"}.get(platform, "unknown")
    if libc != "gnu":
        if glibc is not None:
            raise RelinkError(f"--glibc applies to glibc targets; {triple} is not one", ExitCode.USAGE)
        return LinkTarget(triple, platform, libc, None, None)
    own = metadata.crt_features.glibc_max_version
    floor = parse_glibc(glibc) if isinstance(glibc, str) else glibc or own or DEFAULT_GLIBC
    if own and floor < own:
        raise RelinkError(
            f"{where or triple}: the distribution's objects need glibc {'.'.join(map(str, own))} "
            f"(its crt_features); --glibc {'.'.join(map(str, floor))} is older: choose "
            f"--glibc {'.'.join(map(str, own))} or newer, or a distribution built for that floor",
            ExitCode.USAGE)
    return LinkTarget(triple, platform, libc, floor, own)


def zig_command() -> list[str]:
    """The pinned zig (from the `ziglang` package), run by this Python."""
    try:
        import ziglang  # noqa: F401  (only to say clearly when it is missing)
    except ImportError:
        raise RelinkError("the ziglang package (libc headers and stubs for every target) is missing: "
                          "run 'bash scripts/setup-env.sh' or 'pip install relink'", ExitCode.TOOLCHAIN) from None
    return [sys.executable, "-m", "ziglang"]


def _zig_env(cache: Path) -> dict[str, str]:
    import os

    return {**os.environ, "ZIG_GLOBAL_CACHE_DIR": str(cache / "zig"), "ZIG_LOCAL_CACHE_DIR": str(cache / "zig")}


def _ask_zig(target: LinkTarget, work: Path, cache: Path) -> tuple[list[str], list[str], list[str], str | None]:
    """Compile and link a tiny program with `zig cc -v`; return (include dirs, defines, link files in
    order, dynamic linker) it used."""
    (work / "probe.c").write_text("int main(void) { return 0; }\n")
    cc = [*zig_command(), "cc", "-target", target.zig_target, "-O2", "-fno-sanitize=all"]
    if target.static:
        cc.append("-static")
    try:
        compile_out = subprocess.run([*cc, "-c", "probe.c", "-o", "probe.o", "-###"], cwd=work,
                                     capture_output=True, text=True, env=_zig_env(cache), check=True).stderr
        link_out = subprocess.run([*cc, "probe.c", "-o", "probe", "-v"], cwd=work, capture_output=True, text=True,
                                  env=_zig_env(cache), check=True).stderr
    except subprocess.CalledProcessError as error:
        raise RelinkError(f"zig cc cannot target {target.zig_target}: {error.stderr.strip().splitlines()[-1:]}",
                          ExitCode.TOOLCHAIN) from None
    cc1 = shlex.split(next(line for line in compile_out.splitlines() if '"-cc1"' in line))
    includes = [cc1[i + 1] for i, arg in enumerate(cc1) if arg == "-isystem" and "/libc/include/" in cc1[i + 1]]
    defines = [cc1[i + 1] for i, arg in enumerate(cc1) if arg == "-D" and cc1[i + 1].startswith("__GLIBC")]
    # The link of the probe itself (a cold zig also prints the links of the libc it builds first).
    ld = shlex.split(next(line for line in link_out.splitlines()
                          if line.lstrip().startswith("ld.lld") and " -o probe " in line))
    dynamic_linker = ld[ld.index("--dynamic-linker") + 1] if "--dynamic-linker" in ld else None
    files = [arg for arg in ld if arg.startswith("/") and re.search(r"\.(o|a|so(\.\d+)*)$", arg)
             and arg != dynamic_linker and not arg.endswith("probe.o") and "ubsan" not in arg]
    return includes, defines, files, dynamic_linker


def target_compiler(target: LinkTarget) -> Path:
    """The C compiler driver for `target`, made once per target in the cache (see the module docstring)."""
    from relink.support import cache_root, entry_lock, publish_dir, staging_dir

    pinned = pinned_toolchain()
    zig_command()
    zig_version = _ziglang_version()
    # The driver names zig's header folders in place: another ziglang install is another entry.
    import hashlib

    import ziglang

    where = hashlib.sha256(str(Path(ziglang.__file__).resolve().parent).encode()).hexdigest()[:8]
    key = f"{target.zig_target}-llvm{pinned.version}-zig{zig_version}-{where}-r{_DRIVER_REVISION}"
    entry = cache_root() / "targets" / re.sub(r"[^\w.-]", "_", key)
    driver = entry / "cc"
    with entry_lock(entry):
        if driver.is_file():
            return driver
        clang, lld = find_pinned_tool(pinned.clang), find_pinned_tool(pinned.lld)
        strip = find_pinned_tool(f"llvm-strip-{pinned.major}")
        with staging_dir(entry) as staged, tempfile.TemporaryDirectory(prefix="relink-zig-") as tmp:
            includes, defines, files, dynamic_linker = _ask_zig(target, Path(tmp), cache_root())
            (staged / "lib").mkdir()
            start, end = [], []
            for path in files:
                name = Path(path).name
                shutil.copyfile(path, staged / "lib" / name)
                if not name.startswith("lib") or name.endswith(".a"):
                    # zig compiled these with debug info naming its cache folder: without it, two caches
                    # give byte-identical outputs (the build id is taken before relink strips).
                    subprocess.run([strip, "--strip-debug", str(staged / "lib" / name)], check=True)
                final = str(entry / "lib" / name)
                (start if name in ("crt1.o", "Scrt1.o", "rcrt1.o", "crti.o") else end).append(final)
            # -lm, -ldl, -lpthread… of a project name the target's libc too, never the host's: the
            # sysroot is empty, and lib/ holds the stubs under their link names.
            (staged / "sysroot").mkdir()
            libc_file = "libc.a" if target.static else "libc.so.6"
            for path in files:
                match = re.fullmatch(r"(lib\w+)\.so\.\d+", Path(path).name)
                if match:
                    (staged / "lib" / f"{match[1]}.so").symlink_to(Path(path).name)
            for name in ("c", "m", "dl", "pthread", "rt", "util"):
                link_name = staged / "lib" / (f"lib{name}.a" if target.static else f"lib{name}.so")
                if not link_name.exists() and not link_name.is_symlink():
                    link_name.symlink_to(libc_file)
            # libcrypt is not among zig's stubs, yet PBS's older cores name -lcrypt without using it: an
            # empty archive satisfies the name, and a real use still fails with its undefined symbol.
            if not (staged / "lib" / "libcrypt.so").exists():
                (staged / "lib" / "libcrypt.a").write_bytes(b"!<arch>\n")
            link = ["-nostdlib", "-fuse-ld=lld", f"--ld-path={lld}", f"--sysroot={entry / 'sysroot'}",
                    f"-L{entry / 'lib'}", *(["-static"] if target.static else [])]
            if dynamic_linker:
                link.append(f"-Wl,--dynamic-linker={dynamic_linker}")
            compile_flags = [f"--target={target.clang_triple}", *target.cpu_flags, "-nostdlibinc",
                             *(f"-isystem{d}" for d in includes), *(f"-D{d}" for d in defines), "-Qunused-arguments"]
            # Start files go before the caller's arguments, the C library after them; a compile-only call
            # (-c, -E, -S) gets no link inputs at all.
            script = f"""#!/bin/sh
# relink's C compiler for {target.zig_target}: {pinned.clang} + lld with the C library headers and
# {'libc' if target.static else 'glibc ' + str(target.glibc_text) + ' stub libraries'} of ziglang {zig_version}.
for arg in "$@"; do
  case "$arg" in -c|-E|-S|-M|-MM) exec {shlex.quote(clang)} {shlex.join(compile_flags)} "$@";; esac
done
exec {shlex.quote(clang)} {shlex.join(compile_flags)} {shlex.join(link)} {shlex.join(start)} "$@" \\
  -Wl,--as-needed {shlex.join(end)} -Wl,--no-as-needed
"""
            (staged / "cc").write_text(script)
            (staged / "toolchain.cmake").write_text(_toolchain_file(target, entry / "cc", pinned))
            (staged / "cc").chmod(0o755)
            (staged / "target.json").write_text(json.dumps(target.to_json() | {"zig_target": target.zig_target},
                                                           indent=2) + "\n")
            publish_dir(staged, entry)
    return driver


def _ziglang_version() -> str:
    from importlib.metadata import version

    return version("ziglang")


def target_toolchain_file(target: LinkTarget) -> Path:
    """A CMake toolchain file compiling and linking for `target` with `target_compiler(target)`."""
    return target_compiler(target).parent / "toolchain.cmake"


def _toolchain_file(target: LinkTarget, driver: Path, pinned) -> str:
    processor = {"i686": "i686", "i386": "i686"}.get(target.arch, re.sub(r"_v\d$", "", target.arch))
    return f"""# CMake toolchain file written by relink: compile and link for {target.describe()}.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR {processor})
set(CMAKE_C_COMPILER "{driver}")
set(CMAKE_AR "{find_pinned_tool(pinned.ar)}")
set(CMAKE_RANLIB "{find_pinned_tool(pinned.ranlib)}")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
"""
