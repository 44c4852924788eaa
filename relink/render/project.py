"""Writing a generated project to disk: the files of `relink generate`, the inittab object of
`relink link-args`, and making a distribution's files available for them.

This module owns the side effects around the pure renderers: extracting exactly the files a plan links
(objects, static libraries, headers), compiling config.c with the distribution's `inittab_cflags` for the
distribution's target (never a host object for another target: where the target cannot be compiled here,
Windows and macOS, config.c is left as source for the consumer's build and a note says so), and
publishing an output directory atomically (written under a temporary name beside it, then renamed), so
nothing half-written is ever left where a later run or build would trust it, and never touching a file
in it that relink did not write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from relink.distribution import Distribution
from relink.errors import ExitCode, RelinkError
from relink.plan import LinkPlan, windows_import_library
from relink.render.files import render_config_c, render_files
from relink.render.formats import FORMAT_FILES, LIBRARY, expand_formats
from relink.render.linkargs import python_library_inputs, python_library_name
from relink.resources import toolchain_dir
from relink.support import cache_root, entry_lock, publish_dir, run_tool, staging_dir
from relink.toolchain import LinkTarget, link_target, pinned_toolchain, target_compiler, target_toolchain_file

__all__ = [
    "MANIFEST", "compile_inittab", "inittab_object", "pack_python_library", "python_dir_for", "python_library",
    "render_project", "require_plan_files", "resolve_windows_dlls",
]

# Lists the files relink wrote into an output folder, with their sha256 (see render_project).
MANIFEST = ".relink-generated.json"


def python_dir_for(plan: LinkPlan, dist: Distribution) -> Path:
    """The distribution's `python/` directory with every file `plan` links (and the headers) on disk.

    A bare PYTHON.json stands for the folder it sits in (normally `python/` itself); its files are not
    checked, since metadata-only generation only writes text.
    """
    if dist.is_metadata_only:
        return dist.source.resolve().parent
    members = [obj.path for obj in plan.objects]
    members += [lib.path for lib in plan.libraries if lib.path and lib.kind in ("static", "dynamic")]
    require_plan_files(plan, dist)
    members.append(plan.include_dir)
    return (dist.extract(members) / "python").resolve()


def resolve_windows_dlls(plan: LinkPlan, dist: Distribution) -> LinkPlan:
    """The plan with each Windows DLL PYTHON.json names but the archive lacks replaced by the archive's DLL
    of the same library: 3.11's metadata names OpenSSL 1.1 DLLs (`libcrypto-1_1-x64.dll`) where the archive
    ships `libcrypto-3-x64.dll`. Other plans, and bare PYTHON.json files, are returned unchanged."""
    dlls = [lib for lib in plan.libraries if lib.kind == "dynamic" and lib.path]
    if plan.platform != "windows" or dist.is_metadata_only or not dlls or not dist.missing_files(l.path for l in dlls):
        return plan
    present = {posixpath.basename(path).lower(): path for path in dist.files_under(posixpath.dirname(dlls[0].path))}
    libraries = []
    for lib in plan.libraries:
        if lib.kind == "dynamic" and lib.path and dist.missing_files([lib.path]):
            same = sorted(
                path for base, path in present.items()
                if base.endswith(".dll") and windows_import_library(base[:-4]) == lib.name.lower()
            )
            if len(same) == 1:
                lib = dataclasses.replace(lib, path=same[0], why=(*lib.why, f"PYTHON.json names {lib.path}"))
        libraries.append(lib)
    return dataclasses.replace(plan, libraries=tuple(libraries))


def require_plan_files(plan: LinkPlan, dist: Distribution) -> None:
    """Refuse a plan that needs a file the distribution lacks (PYTHON.json lists it, or it is a Windows
    DLL's import library in build/lib), naming the file and the extensions behind it; a plan that does
    not need it goes on (RelinkError INVALID_INPUT)."""
    needed: dict[str, tuple[str, ...]] = {obj.path: obj.why for obj in plan.objects}
    for lib in plan.libraries:
        if lib.path and lib.kind in ("static", "dynamic"):
            needed.setdefault(lib.path, lib.why)
        if lib.kind == "dynamic" and plan.platform == "windows":
            needed.setdefault(f"build/lib/{lib.name}.lib", lib.why)
    missing = dist.missing_files(needed)
    if not missing:
        return
    users = sorted({why.split(" ")[0] for path in missing for why in needed[path]})
    extensions = [name for name in users if name != "core" and name in plan.extension_names]
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    if "core" in users or not extensions:
        remedy = "libpython itself needs it: use a complete archive"
    else:
        edits = ",".join(f"-{name}" for name in extensions)
        remedy = f"needed by {', '.join(extensions)}: leave them out (--extensions '{plan.extensions_spec},{edits}') or use a complete archive"
    raise RelinkError(
        f"{dist.source}: the link needs python/{missing[0]}{more}, which the distribution lacks; {remedy}",
        ExitCode.INVALID_INPUT,
    )


def compile_inittab(plan: LinkPlan, python_dir: Path, source: Path, output: Path, cc: str | None = None,
                    target: LinkTarget | None = None) -> None:
    """Compile config.c to `output` with the distribution's `inittab_cflags` and its include directory,
    with `cc`, else the compiler for `target` (which must be compilable here)."""
    compiler = cc or str(target_compiler(target))
    command = [
        # -x c: a C++ driver (the linker language of a C++ target) compiles it as C, keeping C linkage.
        compiler, "-c", *plan.inittab_cflags, "-I", str(python_dir / plan.include_dir), "-x", "c", str(source),
        "-o", str(output),
    ]
    from relink.support.runner import announce

    announce(command)
    try:
        result = run_tool(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        from relink.toolchain import install_hint

        raise RelinkError(f"{compiler} not found: {install_hint('llvm')}, or pass --cc", ExitCode.TOOLCHAIN) from None
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if "error" in line), result.stderr.strip())
        raise RelinkError(f"compiling the inittab {source} failed: {first}", ExitCode.BUILD_FAILED)


def inittab_object(plan: LinkPlan, python_dir: Path, cc: str | None = None,
                   target: LinkTarget | None = None) -> Path:
    """The compiled config.c for `plan`, cached by content (config.c, flags, headers' place, compiler).

    Without `cc`, compiled for `target`; where that cannot be compiled here, the path returned is the
    cached config.c itself (after a note on stderr), for the consumer's build to compile."""
    source = render_config_c(plan)
    if cc is None and not target.compilable_here:
        _note_source_only(target)
    compiler = cc or (str(target_compiler(target)) if target.compilable_here else target.triple)
    key = hashlib.sha256("\0".join([source, *plan.inittab_cflags, str(python_dir), compiler]).encode()).hexdigest()
    entry = cache_root() / "inittab" / key[:24]
    with entry_lock(entry):
        if not (entry / "config.c").is_file():
            with staging_dir(entry) as staged:
                (staged / "config.c").write_text(source)
                if cc or target.compilable_here:
                    compile_inittab(plan, python_dir, staged / "config.c", staged / "config.o", cc, target)
                publish_dir(staged, entry)
    return entry / ("config.o" if cc or target.compilable_here else "config.c")


def _note_source_only(target: LinkTarget) -> None:
    print(f"relink: note: {target.triple} cannot be compiled on this machine (no SDK): config.c is written as "
          "source; compile it in your build for that target (with the distribution's include folder)",
          file=sys.stderr)


def _archiver() -> str:
    # llvm-ar: it indexes LLVM bitcode members (the pinned major reads the distribution's bitcode) and
    # adds another archive's members (`L`), which GNU ar cannot.
    for name in (pinned_toolchain().ar, "llvm-ar"):
        if found := shutil.which(name):
            return found
    from relink.toolchain import install_hint

    raise RelinkError(f"{pinned_toolchain().ar} not found (it packs the static library Cargo links): "
                      f"{install_hint('llvm')}", ExitCode.TOOLCHAIN)


def pack_python_library(plan: LinkPlan, python_dir: Path, extra_objects: list[Path], output: Path) -> None:
    """Write `output`, one static library with `extra_objects`, the plan's objects and the members of its
    static libraries (see relink.render.linkargs.python_library_inputs), deterministic and indexed."""
    inputs = python_library_inputs(plan, python_dir.as_posix(), [p.as_posix() for p in extra_objects])
    archive_format = {"darwin": "darwin", "windows": "coff"}.get(plan.platform, "gnu")
    output.unlink(missing_ok=True)
    command = [_archiver(), "qcLsD", f"--format={archive_format}", str(output), *inputs]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        output.unlink(missing_ok=True)
        raise RelinkError(f"packing {output.name} failed: {result.stderr.strip()}", ExitCode.BUILD_FAILED)


def python_library(plan: LinkPlan, python_dir: Path, cc: str | None = None,
                   target: LinkTarget | None = None) -> Path:
    """The folder holding the plan's packed static library (with its compiled config.c), cached by
    content: the library's inputs and the compiler of config.c."""
    config_o = inittab_object(plan, python_dir, cc, target)
    if config_o.suffix != ".o":
        raise RelinkError(f"config.c cannot be compiled for this target here, so libpython cannot be packed: "
                          f"pass --cc with a compiler for it", ExitCode.TOOLCHAIN)
    inputs = python_library_inputs(plan, python_dir.as_posix(), [config_o.as_posix()])
    key = hashlib.sha256("\0".join([*inputs, plan.platform, pinned_toolchain().ar]).encode()).hexdigest()
    entry = cache_root() / "pylib" / key[:24]
    name = python_library_name(plan)
    with entry_lock(entry):
        if not (entry / name).is_file():
            with staging_dir(entry) as staged:
                pack_python_library(plan, python_dir, [config_o], staged / name)
                publish_dir(staged, entry)
    return entry


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
    target: LinkTarget | None = None,
    stdlib_zip: tuple[str, bytes] | None = None,
) -> Path:
    """Write the files of `formats` (see FORMAT_FILES; "all" for every one) plus plan.json to `out_dir`.

    A new `out_dir` is written under a temporary name beside it and renamed into place. An existing one
    must be empty or an earlier output: it holds MANIFEST, which lists the files relink wrote there with
    their sha256. Only those files are replaced (each by a rename) or, when no longer generated, removed,
    and only while unchanged; a file relink did not write is never touched, and one it would have to
    overwrite is refused. The rsp, cargo and pyo3 formats compile config.c to config.o with `cc`
    (default: the compiler for `target`); cargo and pyo3 also pack libpython3.X.a (see
    pack_python_library); their arguments name them at their final place. `python_dir` overrides where
    the distribution's files are (default: extracted from `dist`). `main_c` replaces the generated
    launcher (the cmake format's main.c), e.g. with relink build's single-file launcher. `target`
    (default: the distribution's, at its own glibc floor) is what config.c and the CMake project compile
    and link for. `stdlib_zip` (name, bytes) is written into the project for the cmake format's
    executable to carry. Returns the absolute output directory.
    """
    out = Path(out_dir).resolve()
    chosen = expand_formats(formats)
    earlier = _earlier_output(out)
    pydir = python_dir or python_dir_for(plan, dist)
    target = target or link_target(dist.metadata, where=str(dist.source))
    toolchain_file = target_toolchain_file(target) if target.compilable_here else toolchain_dir() / "clang.cmake"
    files = render_files(
        plan, pydir.as_posix(), chosen, name=name, toolchain_file=toolchain_file.as_posix(),
        inittab_object=str(out / "config.o"), library_dir=str(out),
        stdlib_zip=stdlib_zip[0] if stdlib_zip and "cmake" in chosen else None,
    )
    if main_c is not None and "main.c" in files:
        files["main.c"] = main_c
    needs_object = any("config.o" in FORMAT_FILES[fmt] for fmt in chosen)
    needs_library = any(LIBRARY in FORMAT_FILES[fmt] for fmt in chosen)
    if needs_object and cc is None and not target.compilable_here:
        _note_source_only(target)
        needs_object = needs_library = False
    _check_ours(out, earlier, [*files, *(["config.o"] if needs_object else []),
                               *([python_library_name(plan)] if needs_library else []),
                               *([stdlib_zip[0]] if stdlib_zip and "cmake" in chosen else [])])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as error:
        raise RelinkError(f"{out}: cannot create the output folder ({error.strerror})") from None
    umask = os.umask(0)
    os.umask(umask)
    staged.chmod(0o777 & ~umask)
    try:
        for filename, text in sorted(files.items()):
            (staged / filename).write_text(text, encoding="utf-8", newline="\n")
        if stdlib_zip and "cmake" in chosen:
            (staged / stdlib_zip[0]).write_bytes(stdlib_zip[1])
        if needs_object:
            compile_inittab(plan, pydir, staged / "config.c", staged / "config.o", cc, target)
        if needs_library:
            pack_python_library(plan, pydir, [staged / "config.o"], staged / python_library_name(plan))
        written = {path.name: _sha256(path) for path in sorted(staged.iterdir())}
        (staged / MANIFEST).write_text(json.dumps({"files": written}, indent=1, sort_keys=True) + "\n")
        if earlier is None:
            try:
                os.rename(staged, out)  # replaces only an empty folder made meanwhile
            except OSError as error:
                raise RelinkError(f"{out}: cannot publish the output folder ({error.strerror})") from None
        else:
            _update(staged, out, earlier, written)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _earlier_output(out: Path) -> dict[str, str] | None:
    """The files an earlier output in `out` recorded (name to sha256); {} for an empty folder; None when
    `out` does not exist. RelinkError when `out` is something relink did not write."""
    if not os.path.lexists(out):
        return None
    if out.is_symlink() or not out.is_dir():
        raise RelinkError(f"{out} exists and is not a folder: choose an empty or new folder")
    if not any(out.iterdir()):
        return {}
    try:
        recorded = json.loads((out / MANIFEST).read_text())["files"]
        if isinstance(recorded, dict) and all(isinstance(v, str) for v in recorded.values()):
            return {str(k): v for k, v in recorded.items() if "/" not in str(k) and str(k) not in (".", "..")}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    raise RelinkError(f"{out} exists and is not an earlier relink output (no {MANIFEST}): "
                      "choose an empty or new folder")


def _check_ours(out: Path, earlier: dict[str, str] | None, names: Iterable[str]) -> None:
    """Refuse to overwrite a file in `out` that relink did not write there, or that changed since."""
    if not earlier:
        return
    for name in sorted({*names, *earlier}):
        path = out / name
        if not os.path.lexists(path):
            continue
        if name not in earlier or path.is_symlink() or not path.is_file() or _sha256(path) != earlier[name]:
            raise RelinkError(f"{path} was not written by relink or changed since: move it away or choose "
                              "another folder")


def _update(staged: Path, out: Path, earlier: dict[str, str], written: dict[str, str]) -> None:
    """Move the new files into an earlier output, drop the ones no longer generated, manifest last."""
    for name in written:
        os.replace(staged / name, out / name)
    for name in earlier:
        if name not in written and name != MANIFEST:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(out / name)
    os.replace(staged / MANIFEST, out / MANIFEST)
