"""Writing a generated project to disk: the files of `relink generate`, the inittab object of
`relink link-args`, and making a distribution's files available for them.

This module owns the side effects around the pure renderers: extracting exactly the files a plan links
(objects, static libraries, headers), compiling config.c with the distribution's `inittab_cflags`, and
publishing an output directory atomically (written under a temporary name beside it, then renamed), so
nothing half-written is ever left where a later run or build would trust it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from relink.distribution import Distribution
from relink.errors import ExitCode, RelinkError
from relink.plan import LinkPlan
from relink.render.files import FORMAT_FILES, expand_formats, render_config_c, render_files
from relink.resources import toolchain_dir
from relink.support import cache_root, entry_lock, publish_dir, staging_dir
from relink.toolchain import pinned_toolchain

__all__ = ["compile_inittab", "inittab_object", "python_dir_for", "render_project"]

_MARKER = "plan.json"


def python_dir_for(plan: LinkPlan, dist: Distribution) -> Path:
    """The distribution's `python/` directory with every file `plan` links (and the headers) on disk.

    A bare PYTHON.json stands for the folder it sits in (normally `python/` itself); its files are not
    checked, since metadata-only generation only writes text.
    """
    if dist.is_metadata_only:
        return dist.source.resolve().parent
    members = [obj.path for obj in plan.objects]
    members += [lib.path for lib in plan.libraries if lib.path and lib.kind in ("static", "dynamic")]
    members.append(plan.include_dir)
    return (dist.extract(members) / "python").resolve()


def compile_inittab(plan: LinkPlan, python_dir: Path, source: Path, output: Path, cc: str | None = None) -> None:
    """Compile config.c to `output` with the distribution's `inittab_cflags` and its include directory."""
    compiler = cc or pinned_toolchain().clang
    command = [
        compiler, "-c", *plan.inittab_cflags, "-I", str(python_dir / plan.include_dir), str(source),
        "-o", str(output),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise RelinkError(f"{compiler} not found: run 'bash toolchain/setup.sh' or pass --cc", ExitCode.TOOLCHAIN) from None
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if "error" in line), result.stderr.strip())
        raise RelinkError(f"compiling the inittab {source} failed: {first}", ExitCode.BUILD_FAILED)


def inittab_object(plan: LinkPlan, python_dir: Path, cc: str | None = None) -> Path:
    """The compiled config.c for `plan`, cached by content (config.c, flags, headers' place, compiler)."""
    source = render_config_c(plan)
    compiler = cc or pinned_toolchain().clang
    key = hashlib.sha256("\0".join([source, *plan.inittab_cflags, str(python_dir), compiler]).encode()).hexdigest()
    entry = cache_root() / "inittab" / key[:24]
    with entry_lock(entry):
        if not (entry / "config.o").is_file():
            with staging_dir(entry) as staged:
                (staged / "config.c").write_text(source)
                compile_inittab(plan, python_dir, staged / "config.c", staged / "config.o", compiler)
                publish_dir(staged, entry)
    return entry / "config.o"


def render_project(
    plan: LinkPlan,
    dist: Distribution,
    out_dir: str | os.PathLike[str],
    formats: Iterable[str] = ("cmake",),
    *,
    name: str = "python",
    cc: str | None = None,
    python_dir: Path | None = None,
    main_c: str | None = None,
) -> Path:
    """Write the files of `formats` (see FORMAT_FILES; "all" for every one) plus plan.json to `out_dir`.

    The directory is written under a temporary name beside `out_dir` and renamed into place; an existing
    `out_dir` is replaced only if it is empty or an earlier output (it holds plan.json). The rsp, cargo
    and pyo3 formats compile config.c to config.o with `cc` (default: the pinned clang); their
    arguments name it at its final place. `python_dir` overrides where the distribution's files are
    (default: extracted from `dist`). `main_c` replaces the generated launcher (the cmake format's
    main.c), e.g. with relink build's single-file launcher. Returns the absolute output directory.
    """
    out = Path(out_dir).resolve()
    chosen = expand_formats(formats)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / _MARKER).is_file())):
        raise RelinkError(f"{out} exists and is not an earlier relink output: choose an empty or new folder")
    pydir = python_dir or python_dir_for(plan, dist)
    files = render_files(
        plan, pydir.as_posix(), chosen, name=name, toolchain_file=(toolchain_dir() / "clang.cmake").as_posix(),
        inittab_object=str(out / "config.o"),
    )
    if main_c is not None and "main.c" in files:
        files["main.c"] = main_c
    needs_object = any("config.o" in FORMAT_FILES[fmt] for fmt in chosen)
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staged.chmod(0o777 & ~umask)
    try:
        for filename, text in sorted(files.items()):
            (staged / filename).write_text(text, encoding="utf-8", newline="\n")
        if needs_object:
            compile_inittab(plan, pydir, staged / "config.c", staged / "config.o", cc)
        _replace(staged, out)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return out


def _replace(staged: Path, out: Path) -> None:
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(staged, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, out)
