"""CPython source tarballs: fetching Debian's, checking a local one, reading its version.

The default source is the pristine upstream tarball inside Debian's `python3.11` source package
(`apt-get source --download-only`), kept in the cache. Any local `Python-3.X.Y.tgz` / `.tar.xz` works too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from relink.errors import ExitCode, RelinkError
from relink.support import cache_root, entry_lock, sha256_file

__all__ = ["SourceTarball", "SUPPORTED_MINORS", "debian_source", "inspect_source", "unpack_source"]

# 3.10 builds most modules with setup.py and has no Setup.stdlib to make them builtin from.
SUPPORTED_MINORS = range(11, 15)

_PATCHLEVEL_RE = re.compile(rb'#define\s+PY_VERSION\s+"(\d+)\.(\d+)\.(\d+)([^"]*)"')


@dataclass(frozen=True)
class SourceTarball:
    path: Path
    sha256: str
    version: str        # "3.11.2"
    top_dir: str        # "Python-3.11.2"

    @property
    def minor(self) -> int:
        return int(self.version.split(".")[1])


def debian_source(package: str = "python3.11", on_download: Callable[[], None] | None = None) -> Path:
    """The upstream tarball of a Debian source package, downloaded once into the cache
    (`on_download` is called first when it has to be downloaded)."""
    target_dir = cache_root() / "sources" / package
    with entry_lock(target_dir):
        found = sorted(p for p in target_dir.glob("*.orig.tar.*") if p.suffix != ".asc") if target_dir.is_dir() else []
        if found:
            return found[-1]
        if on_download is not None:
            on_download()
        if shutil.which("apt-get") is None:
            raise RelinkError(
                f"cannot fetch Debian's {package} source: apt-get is not available; "
                "pass a local Python-3.X.Y.tgz or .tar.xz instead",
            )
        target_dir.mkdir(parents=True, exist_ok=True)
        # Download beside the final place so the move into it is an atomic rename.
        with tempfile.TemporaryDirectory(prefix=".apt-source-", dir=target_dir) as tmp:
            result = subprocess.run(
                ["apt-get", "source", "--download-only", package],
                cwd=tmp, capture_output=True, text=True,
            )
            # Not the upstream signature (`.orig.tar.xz.asc`) some source packages carry beside it.
            origs = sorted(p for p in Path(tmp).glob(f"{package}_*.orig.tar.*") if p.suffix != ".asc")
            if result.returncode != 0 or not origs:
                from relink.toolchain import install_hint

                reason = (result.stderr.strip().splitlines() or ["no .orig tarball downloaded"])[-1]
                raise RelinkError(
                    f"could not fetch Debian's {package} source package ({reason}): to add the deb-src entry, "
                    f"{install_hint('deb-src')}; or pass a local Python-3.X.Y.tgz",
                    ExitCode.NETWORK,
                )
            final = target_dir / origs[-1].name
            os.replace(origs[-1], final)
            return final


def inspect_source(path: Path) -> SourceTarball:
    """Check that `path` is a readable CPython source tarball of a supported version."""
    if not path.is_file():
        raise RelinkError(f"{path}: source tarball not found")
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith("/Include/patchlevel.h") and member.name.count("/") == 2:
                    data = tar.extractfile(member).read()  # type: ignore[union-attr]
                    top_dir = member.name.split("/", 1)[0]
                    break
            else:
                raise RelinkError(f"{path}: not a CPython source tarball (no <dir>/Include/patchlevel.h inside)")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise RelinkError(f"{path}: corrupt or unreadable source tarball ({error})") from None
    match = _PATCHLEVEL_RE.search(data)
    if not match:
        raise RelinkError(f"{path}: Include/patchlevel.h has no PY_VERSION; is this a CPython source tarball?")
    major, minor, micro, suffix = int(match[1]), int(match[2]), int(match[3]), match[4].decode()
    if major != 3 or minor not in SUPPORTED_MINORS:
        raise RelinkError(
            f"{path}: CPython {major}.{minor}.{micro}{suffix} is not supported by the source builder "
            f"(supported: 3.{SUPPORTED_MINORS.start}–3.{SUPPORTED_MINORS.stop - 1})"
        )
    return SourceTarball(path=path.resolve(), sha256=sha256_file(path), version=f"{major}.{minor}.{micro}{suffix}",
                         top_dir=top_dir)


def unpack_source(source: SourceTarball, into: Path) -> Path:
    """Unpack the tarball (tarfile's `data` filter refuses hostile members); returns the source dir."""
    try:
        with tarfile.open(source.path, "r:*") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise RelinkError(f"{source.path}: cannot unpack source tarball ({error})") from None
    return into / source.top_dir
