"""`relink stdlib`: a distribution's standard library as a zip of bytecode, for programs that embed
the relinked interpreter (CMake targets, generated projects, Rust and PyO3 programs) to carry with them.

The same machinery as `relink build`'s payload (`payload`): the modules chosen by `collect_payload`,
compiled by the distribution's own interpreter (same magic number; the stdlib's .pyc cached per
distribution), stored deterministically by `payload_zip`. Start-up needs (encodings, runpy's imports) are
always in. The zip is deflated only if the interpreter that reads it links zlib (zipimport inflates with
it); otherwise its entries are stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from relink.app.payload import collect_payload, compile_payload, payload_zip, stdlib_pyc_cache
from relink.distribution import Distribution, distribution_identity

__all__ = ["StdlibZip", "stdlib_zip", "stdlib_zip_name"]


@dataclass(frozen=True)
class StdlibZip:
    data: bytes
    modules: int
    deflated: bool


def stdlib_zip_name(python_major_minor: str) -> str:
    """CPython's own name for a zipped stdlib, `python3XY.zip`: what embedding programs look for beside
    their executable."""
    return f"python{python_major_minor.replace('.', '')}.zip"


def stdlib_zip(dist: Distribution, modules: str | list[str] = "full", *, excludes: tuple[str, ...] = (),
               optimize: int = 0, deflate: bool = True) -> StdlibZip:
    """The stdlib of `dist` as zip bytes: "full" (every module but tests, GUI and installers), or the
    named modules and what they import at import time, plus start-up needs."""
    root = dist.extract()
    python = root / "python" / dist.metadata.python_exe
    stdlib = root / "python" / dist.metadata.python_paths["stdlib"]
    dist_key = distribution_identity(dist)[:20]
    mode = modules if isinstance(modules, str) and modules == "full" else list(modules)
    payload = collect_payload(python, stdlib, None, mode, list(excludes), pyc_cache=stdlib_pyc_cache(dist_key, optimize))
    pycs = compile_payload(python, payload, dist_key=dist_key, optimize=optimize)
    return StdlibZip(payload_zip(pycs, app=False, deflate=deflate), len(pycs), deflate)
