"""relink as people install it: the sdist holds exactly the tracked files, the wheel built from it is
py3-none-any with the license texts, and it installs and runs on Debian's python3, every other
CPython 3.10+ on the machine (pyenv's, when present), and Debian sid's python3.13 and python3.14 (in a
Debian sid root, with their dependencies' wheels from PyPI)."""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
LICENSE_FILES = {"LICENSE", "LICENSES/CC-BY-4.0.txt"}

pytestmark = pytest.mark.slow


def _tracked_files() -> list[str]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in listing.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """(sdist, wheel built from that sdist, the tracked files), from a copy of the checkout's tracked files
    plus ignored clutter a developer's checkout has (a venv with a cmake package, build output, bytecode)."""
    work = tmp_path_factory.mktemp("package")
    tree = work / "relink-src"
    tracked = _tracked_files()
    for name in tracked:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    for clutter in (".venv/lib/python3.11/site-packages/cmake/data/share/cmake-4.0/big.bin", "build/cp311/x.o",
                    "relink/__pycache__/cli.cpython-311.pyc", "dist/old.whl"):
        (tree / clutter).parent.mkdir(parents=True, exist_ok=True)
        (tree / clutter).write_bytes(b"\0" * 1024)
    out = work / "dist"
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(tree)], check=True,
                   capture_output=True)
    sdist = next(out.glob("relink-*.tar.gz"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(sdist)],
                   check=True, capture_output=True)
    return sdist, next(out.glob("relink-*.whl")), tracked


def test_sdist_is_exactly_the_tracked_files(dists) -> None:
    sdist, _, tracked = dists
    with tarfile.open(sdist) as tar:
        names = {m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()}
    assert names == set(tracked) | {"PKG-INFO"}
    assert LICENSE_FILES <= names
    assert sdist.stat().st_size < 2_000_000


def test_wheel_is_pure_python_with_the_license_texts(dists) -> None:
    _, wheel, _ = dists
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"relink-{wheel.name.split('-')[1]}.dist-info"
        wheel_meta = archive.read(f"{info}/WHEEL").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
        apache = archive.read(f"{info}/licenses/LICENSE").decode()
    assert "Root-Is-Purelib: true" in wheel_meta and "Tag: py3-none-any" in wheel_meta
    assert {f"{info}/licenses/{name}" for name in LICENSE_FILES} <= names
    assert "Apache License" in apache and "Version 2.0" in apache
    assert "License-Expression: Apache-2.0 AND CC-BY-4.0" in metadata
    # relink's data: templates, the toolchain pin and the CMake package.
    assert {"relink/data/templates/config.c.j2", "relink/data/toolchain/pin.json",
            "relink/share/cmake/Relink/RelinkConfig.cmake", "relink/share/cmake/Relink/include/relink_embed.h",
            "relink/report/spdx_license_ids.txt"} <= names
    assert not any("__pycache__" in name or name.startswith(".venv") for name in names)


def _pythons() -> list[str]:
    """Debian's own python3, then the oldest and newest other CPython 3.10+ found (pyenv's versions,
    python3.1X on PATH): the ends of the supported range, without paying for an install in between."""
    found = ["/usr/bin/python3"]
    candidates = sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.1[0-9]*/bin/python3")))
    candidates += [p for v in range(10, 15) if (p := shutil.which(f"python3.{v}"))]
    seen = {subprocess.run([found[0], "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                           text=True).stdout}
    for python in candidates:
        version = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                                 text=True).stdout
        if version and version not in seen:
            seen.add(version)
            found.append(python)
    return found[:1] + sorted(set(found[1:2] + found[-1:]))


@pytest.mark.parametrize("python", _pythons())
def test_pip_install_runs_on(python: str, dists, tmp_path: Path, samples_dir: Path) -> None:
    _, wheel, _ = dists
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    relink = str(venv / "bin" / "relink")
    version = subprocess.run([relink, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("relink ")
    cmake_dir = Path(subprocess.run([relink, "cmake-dir"], capture_output=True, text=True, check=True).stdout.strip())
    assert (cmake_dir / "RelinkConfig.cmake").is_file() and str(cmake_dir).startswith(str(venv))
    info = subprocess.run([relink, "info", str(samples_dir / SAMPLE)], capture_output=True, text=True, check=True)
    assert "3.12.7" in info.stdout


# The newer CPythons Debian ships (sid has both; the root is made once and cached, see tests/debian_root.py).
SID_PYTHONS = ("python3.13", "python3.14")


@pytest.fixture(scope="module")
def sid_root() -> Path:
    from debian_root import debian_root, why_no_root

    why = why_no_root()
    if why:
        pytest.skip(why)
    return debian_root("sid", include=(*(f"{python}-venv" for python in SID_PYTHONS), "ca-certificates"))


@pytest.mark.parametrize("python", SID_PYTHONS)
def test_pip_install_runs_on_debian_sid(python: str, sid_root: Path, dists) -> None:
    """pip installs the wheel with its dependencies (zstandard, lief, jinja2, ziglang … from PyPI) into a
    venv of that Python, and relink reads a real archive (zstandard), checks a binary (lief) and plans."""
    _, wheel, _ = dists
    real_archive = ROOT.parent / "shared" / "real" / "cpython-3.10.3+real-i686-unknown-linux-gnu-lto-full.tar.zst"
    inside = Path("/tmp") / f"relink-install-{python}"
    work = sid_root / inside.relative_to("/")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        shutil.copy2(wheel, work / wheel.name)
        shutil.copy2(real_archive, work / real_archive.name)
        # This machine's CA bundle: the root trusts what the machine's own pip trusts (a proxy's CA, too).
        shutil.copy2("/etc/ssl/certs/ca-certificates.crt", work / "ca.crt")
        archive = inside / real_archive.name
        script = " && ".join([
            f"{python} -m venv venv", f"venv/bin/pip install -q {inside / wheel.name}",
            "venv/bin/relink --version", f"venv/bin/relink info {archive}",
            "venv/bin/relink verify /usr/bin/true --max-glibc 2.99",
            f"venv/bin/relink plan {archive} --extensions minimal,+_json --json > plan.json",
        ])
        env = ["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=/tmp", f"PIP_CERT={inside / 'ca.crt'}",
               "PIP_CACHE_DIR=/var/cache/relink-tests-pip", "PIP_DISABLE_PIP_VERSION_CHECK=1"]
        ran = subprocess.run(["chroot", str(sid_root), *env, "/bin/sh", "-c", f"cd {inside} && {script}"],
                             capture_output=True, text=True, timeout=900)
        assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
        assert ran.stdout.startswith("relink ")
        assert "3.10.3" in ran.stdout and "i686-unknown-linux-gnu" in ran.stdout
        assert "newest glibc symbol version" in ran.stdout
        plan = json.loads((work / "plan.json").read_text())
        assert "_json" in {ext["name"] for ext in plan["extensions"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)
