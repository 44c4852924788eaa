"""Debian roots made from Debian's packages: Debian 11 (bullseye, glibc 2.31) to run relink's outputs on an
older system than the build machine's, and others (sid's newer Pythons) to install relink on.

`debian11_root(arch)` makes it once with `debootstrap --variant=minbase` (as root; about a minute) under
`$RELINK_TEST_CACHE` (default `~/.cache/relink-tests`), outside the repository and outside relink's own
cache, and returns it; later calls and other test runs reuse it. `run_in_root` copies an executable into
the root and runs it there with `chroot`, so it sees only bullseye's libraries.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from filelock import FileLock

MIRROR = "http://deb.debian.org/debian"
SUITE = "bullseye"
GLIBC = (2, 31)


def test_cache() -> Path:
    return Path(os.environ.get("RELINK_TEST_CACHE") or Path.home() / ".cache" / "relink-tests")


def why_no_root() -> str | None:
    """Why a Debian root cannot be made or used here, or None when it can."""
    if os.geteuid() != 0:
        return "making and entering a Debian root needs root (debootstrap, chroot)"
    if shutil.which("debootstrap") is None:
        return "debootstrap is not installed: run 'bash toolchain/setup.sh'"
    return None


def debian11_root(arch: str = "amd64") -> Path:
    """The cached bullseye minbase root for `arch` (amd64, i386), made now if missing."""
    return debian_root(SUITE, arch, name=f"debian11-{arch}")


def debian_root(suite: str, arch: str = "amd64", include: tuple[str, ...] = (), *, name: str | None = None) -> Path:
    """The cached minbase root of Debian `suite` for `arch`, with the packages `include` names, made now
    if missing (about a minute; other test runs reuse it)."""
    root = test_cache() / (name or "-".join(["debian", suite, arch, *include]))
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root.parent / f".{root.name}.lock")):
        if (root / "etc" / "debian_version").is_file():
            return root
        staged = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
        try:
            extra = [f"--include={','.join(include)}"] if include else []
            subprocess.run(["debootstrap", "--variant=minbase", f"--arch={arch}", *extra, suite, str(staged),
                            MIRROR], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            shutil.rmtree(root, ignore_errors=True)
            os.replace(staged, root)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
    return root


def run_in_root(root: Path, executable: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Copy `executable` into `root` and run it there (chroot in new mount and pid namespaces, a clean
    environment, cwd /tmp)."""
    inside = Path("/tmp") / f"relink-test-{os.getpid()}-{executable.name}"
    shutil.copy2(executable, root / inside.relative_to("/"))
    try:
        # Own mount and pid namespaces with the root's /proc mounted (executables find themselves
        # through /proc/self/exe); nothing stays mounted afterwards.
        return subprocess.run(["unshare", "--mount", "--pid", "--fork", f"--mount-proc={root / 'proc'}",
                               "chroot", str(root), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=/tmp",
                               "LANG=C.UTF-8", "/bin/sh", "-c", 'cd /tmp && exec "$@"', "sh", str(inside), *args],
                              capture_output=True, text=True, timeout=timeout)
    finally:
        (root / inside.relative_to("/")).unlink(missing_ok=True)


def glibc_version(root: Path) -> tuple[int, int]:
    """The glibc of `root`, asked from its own ldd."""
    out = subprocess.run(["chroot", str(root), "/usr/bin/ldd", "--version"], capture_output=True, text=True,
                         check=True).stdout
    major, minor = out.splitlines()[0].rsplit(" ", 1)[1].split(".")[:2]
    return int(major), int(minor)
