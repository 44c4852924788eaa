"""Shared fixtures: real distributions built from CPython source by relink's own builder.

They use the user's normal cache (built once per machine: ~2.5 min each on 2 cores, instant after),
so every test module that needs a real archive shares the same two builds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from relink.distribution.srcbuild import BuildOptions, build_distribution

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def lto_archive() -> Path:
    """Debian's CPython 3.11 built as ThinLTO bitcode with the pinned clang (PBS's optimized form)."""
    return build_distribution(None, BuildOptions(lto=True), quiet=True)


@pytest.fixture(scope="session")
def elf_archive() -> Path:
    """The same source built as native ELF objects (`--no-lto`)."""
    return build_distribution(None, BuildOptions(lto=False), quiet=True)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SHARED / "samples"


@pytest.fixture(scope="session")
def debian11_root():
    """A Debian 11 (bullseye, glibc 2.31) minbase root for amd64, made once by debootstrap and cached
    outside the repository (see tests/debian_root.py); run outputs in it with `run_in_root`."""
    from debian_root import debian11_root as make_root
    from debian_root import why_no_root

    reason = why_no_root()
    if reason:
        pytest.skip(reason)
    return make_root("amd64")


@pytest.fixture(scope="session")
def debian11_i386_root():
    """The same for i386: runs 32-bit x86 outputs on this x86_64 machine without multilib packages."""
    from debian_root import debian11_root as make_root
    from debian_root import why_no_root

    reason = why_no_root()
    if reason:
        pytest.skip(reason)
    return make_root("i386")


@pytest.fixture(scope="session")
def corpus_site_packages() -> Path:
    """The pinned real PyPI wheels of tests/corpus/requirements.txt, installed by scripts/setup-corpus.sh."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    subprocess.run(["bash", str(root / "scripts" / "setup-corpus.sh")], check=True)
    return root / ".corpus" / "site-packages"
