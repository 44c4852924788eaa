"""`relink build`: a single-file executable from a distribution, an extension selection and an app.

The linked interpreter (launcher + libpython + chosen extensions) is cached by everything that goes
into the link: plan, launcher source, toolchain and relink version. The Python code (the stdlib modules
it needs and the app) is compiled by the distribution's own interpreter and appended as a zip, so an
app-only change re-embeds without relinking. The output is written to a temporary file beside OUT and
renamed at the end: a failed or interrupted build never leaves a partial OUT.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from relink import __version__
from relink.app.payload import (
    AppSpec,
    WheelTarget,
    check_app,
    collect_payload,
    compile_payload,
    payload_zip,
    stdlib_pyc_cache,
)
from relink.distribution import Distribution, distribution_identity, open_distribution
from relink.errors import ExitCode, RelinkError
from relink.resources import templates_dir
from relink.support import (
    StepReporter,
    announce,
    cache_root,
    configure_and_build,
    entry_lock,
    publish_dir,
    refuse_overwriting_inputs,
    scratch_dir,
    staging_dir,
    touch_entry,
)
from relink.toolchain import LinkTarget, link_target, pinned_toolchain, target_compiler, target_toolchain_file

__all__ = ["BuildRequest", "BuildResult", "build_onefile", "resolve_extensions_spec", "verify_interpreter",
           "write_executable"]

LAUNCHER = "onefile_main.c"


@dataclass(frozen=True)
class BuildRequest:
    output: Path
    dist: str | None = None                  # None: the default source-built distribution
    extensions: str = "auto"
    app: AppSpec | None = None
    stdlib: str | tuple[str, ...] = "auto"   # "auto", "full" or explicit module names
    excludes: tuple[str, ...] = ()
    optimize: int = 0
    embed_source: bool = False               # .py beside .pyc: tracebacks with source lines, inspect.getsource
    compress: bool = True                    # deflate the payload (smaller) or store it (faster start-up)
    no_copyleft: bool = False
    no_libraries: bool = False
    export_dynamic: bool | None = None       # None: without an app, as stock python (extension modules load)
    strip: bool = True
    fast_link: bool = False                  # ThinLTO without cross-module importing (see commands/build.py)
    glibc: str | None = None                 # glibc floor "X.Y"; None: the distribution's own
    python: Path | None = None               # compiles the bytecode when the distribution's cannot run here
    skip_toolchain_check: bool = False
    strict: bool = False                     # imports nothing provides are errors, not warnings
    cc: str | None = None                    # None: the pinned clang (toolchain/clang.cmake)
    linker: str | None = None                # None: the compiler's default (lld with the pinned clang)


@dataclass
class BuildResult:
    output: Path
    size: int
    interpreter: Path
    relinked: bool
    modules: int
    extensions: tuple[str, ...]
    licenses: Path | None = None
    steps: list[dict] = field(default_factory=list)
    native_modules: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"output": str(self.output), "size": self.size, "interpreter": str(self.interpreter),
                "relinked": self.relinked, "embedded_modules": self.modules, "extensions": list(self.extensions),
                "native_modules": list(self.native_modules), "warnings": list(self.warnings),
                "licenses": str(self.licenses) if self.licenses else None, "steps": self.steps}


def _check_output_writable(output: Path) -> None:
    """Refuse an OUT that cannot be written, before any work. Missing folders are fine: they are created
    (only once the executable is ready), so the nearest existing one must be a writable folder."""
    if output.is_dir():
        raise RelinkError(f"{output}: output path is a directory; name the executable to write")
    directory = output.absolute().parent
    while not directory.exists() and not directory.is_symlink():
        directory = directory.parent
    if not directory.is_dir():
        raise RelinkError(f"{output}: {directory} is not a folder, so the output folder cannot be created")
    if not os.access(directory, os.W_OK):
        raise RelinkError(f"{output}: output folder {directory} is not writable")


def _open(request: BuildRequest, reporter: StepReporter) -> tuple[Distribution, Path]:
    with reporter.step("distribution") as record:
        if request.dist is None:
            from relink.distribution import default_distribution

            source = default_distribution(quiet=reporter.mode != "text")
        else:
            source = request.dist
        dist = open_distribution(source)
        root = dist.extract()
        record["detail"] = str(dist.source)
    return dist, root


def _check_outputs_are_not_inputs(request: BuildRequest) -> None:
    inputs: list[tuple[Path, str]] = []
    if request.dist is not None and os.path.exists(request.dist):
        inputs.append((Path(request.dist), "the distribution"))
    if request.app is not None:
        inputs.append((request.app.path, "the app"))
        inputs += [(folder, "an --include folder") for folder in request.app.includes]
    licenses = request.output.with_name(f"{request.output.name}.LICENSES.txt")
    refuse_overwriting_inputs([request.output, licenses], inputs)


def build_onefile(request: BuildRequest, reporter: StepReporter | None = None) -> BuildResult:
    reporter = reporter or StepReporter()
    _check_output_writable(request.output)
    _check_outputs_are_not_inputs(request)
    if request.app is not None:
        check_app(request.app)
    dist, root = _open(request, reporter)
    stdlib = root / "python" / dist.metadata.python_paths["stdlib"]

    from relink.plan import make_plan
    from relink.toolchain import run_gate

    target = link_target(dist.metadata, request.glibc, where=str(dist.source))
    if not target.compilable_here:
        raise RelinkError(f"{dist.source}: relink build links Linux targets; {target.triple} needs its own SDK: "
                          "use 'relink generate' and build the project there", ExitCode.TOOLCHAIN)
    python, foreign = bytecode_python(dist, root, stdlib, request.python)
    if foreign:
        reporter.note(f"bytecode compiled by {python} (the distribution's interpreter cannot run here; "
                      "same bytecode magic number)")
    with reporter.step("toolchain check") as record:
        # What links is what is checked: the target's driver (the pinned clang + lld with the target's
        # libc), or --cc/--linker.
        report = run_gate(dist, cc=request.cc or str(target_compiler(target)),
                          linker=request.linker or (None if request.cc else pinned_toolchain().lld),
                          allow_mismatch=request.skip_toolchain_check)
        record["detail"] = f"{report.verdict}; {target.describe()}"
    with reporter.step("bytecode") as record:
        dist_key = distribution_identity(dist)[:20]
        payload = collect_payload(python, stdlib, request.app,
                                  request.stdlib if isinstance(request.stdlib, str) else list(request.stdlib),
                                  list(request.excludes), pyc_cache=stdlib_pyc_cache(dist_key, request.optimize),
                                  foreign=foreign,
                                  builtin_names=sorted(dist.metadata.build_info.extensions) if foreign else None,
                                  target=wheel_target(dist, target), strict=request.strict,
                                  embed_source=request.embed_source)
        pycs = compile_payload(python, payload, dist_key=dist_key, optimize=request.optimize,
                               embed_source=request.embed_source)
        record["detail"] = f"{len(pycs)} files"
    for warning in payload.warnings:
        reporter.note(f"warning: {warning}")
    with reporter.step("plan") as record:
        spec = resolve_extensions_spec(request.extensions, payload, dist, app=request.app is not None,
                                       full_stdlib=request.stdlib == "full", compress=request.compress)
        # Native modules from wheels link against the interpreter's C API: export it. So does a plain
        # interpreter by default, as stock python does, for extension modules installed beside it.
        export = request.export_dynamic if request.export_dynamic is not None else request.app is None
        plan = make_plan(dist, spec, no_copyleft=request.no_copyleft, no_libraries=request.no_libraries,
                         export_dynamic=export or bool(payload.natives))
        record["detail"] = f"{spec}: {len(plan.extensions)} extensions"
    archive = payload_zip(pycs, app=request.app is not None, deflate=request.compress and "zlib" in plan.extension_names)
    interpreter, relinked = _interpreter(dist, plan, target, request, reporter, report)
    with reporter.step("embed"):
        request.output.parent.mkdir(parents=True, exist_ok=True)
        write_executable(interpreter, archive, request.output)
    with reporter.step("licenses") as record:
        from relink.report import license_report_from_plan, write_license_report

        licenses = write_license_report(license_report_from_plan(dist, plan), request.output.parent,
                                        f"{request.output.name}.LICENSES.txt")
        record["detail"] = str(licenses)
    return BuildResult(output=request.output, size=request.output.stat().st_size, interpreter=interpreter,
                       relinked=relinked, modules=len(pycs), extensions=plan.extension_names,
                       licenses=licenses, steps=reporter.steps,
                       native_modules=tuple(n.name for n in payload.natives), warnings=payload.warnings)


def wheel_target(dist: Distribution, target: LinkTarget | None = None) -> WheelTarget:
    """What the wheels of native modules must fit: the distribution's Python, CPU and C library, and the
    app's glibc floor (`--glibc`, by default the distribution's own)."""
    meta = dist.metadata
    major, minor = (int(x) for x in meta.python_version.split(".")[:2])
    glibc = target.glibc if target is not None and target.glibc else meta.crt_features.glibc_max_version
    return WheelTarget(python=(major, minor), arch=meta.target_triple.split("-")[0],
                       libc=meta.crt_features.libc, glibc=glibc)


def interpreter_magic(python: Path | str) -> str | None:
    """The bytecode magic number of an interpreter (hex), or None if it cannot run here."""
    import subprocess

    try:
        result = subprocess.run([str(python), "-I", "-S", "-c",
                                 "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):  # missing, not executable, or hung
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _stdlib_magic(stdlib: Path) -> str | None:
    """The magic number the distribution's stdlib says its bytecode has (3.6-3.13 spell it out)."""
    import re

    try:
        text = (stdlib / "importlib" / "_bootstrap_external.py").read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^MAGIC_NUMBER = \((\d+)\)\.to_bytes\(2, 'little'\) \+ b'\\r\\n'", text, re.MULTILINE)
    return (int(match[1]).to_bytes(2, "little") + b"\r\n").hex() if match else None


def bytecode_python(dist: Distribution, root: Path, stdlib: Path, chosen: Path | None) -> tuple[Path, bool]:
    """The interpreter that compiles the payload, and whether it is another than the distribution's own.

    The distribution's own interpreter when it runs here; else (another CPU or C library, or an archive
    whose install/ is incomplete) `chosen` (--python) or `pythonX.Y` on PATH, accepted only if its
    bytecode magic number is the distribution's."""
    own = root / "python" / dist.metadata.python_exe
    if chosen is None and interpreter_magic(own):
        return own, False
    version = dist.metadata.python_major_minor_version
    candidate = chosen or (shutil.which(f"python{version}") and Path(shutil.which(f"python{version}")))
    why = f"{dist.source}: the distribution's interpreter cannot run on this machine ({dist.metadata.target_triple})"
    if not candidate:
        raise RelinkError(f"{why}: pass --python PATH, a CPython {version} that runs here, to compile the bytecode",
                          ExitCode.TOOLCHAIN)
    magic, wanted = interpreter_magic(candidate), _stdlib_magic(stdlib)
    if magic is None or (wanted and magic != wanted) or (not wanted and not _same_version(candidate, version)):
        raise RelinkError(f"{candidate}: not a CPython {version} that runs here (its bytecode would not load in "
                          f"the distribution's interpreter): pass --python PATH to a CPython {version}",
                          ExitCode.USAGE if chosen else ExitCode.TOOLCHAIN)
    return Path(candidate), True


def _same_version(python: Path, version: str) -> bool:
    import subprocess

    result = subprocess.run([str(python), "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            capture_output=True, text=True)
    return result.stdout.strip() == version


# An optional import (inside `try: … except ImportError`) pulls its extension into `auto` only if the
# extension's objects and static libraries weigh less than this: builtin hash modules and CPython's own
# HACL* archive are in, OpenSSL (_hashlib, ~6 MB) and libmpdec (_decimal; _pydecimal takes over) are out.
OPTIONAL_EXTENSION_MAX_BYTES = 256 * 1024


def resolve_extensions_spec(spec: str, payload, dist: Distribution, *, app: bool, full_stdlib: bool = False,
                            compress: bool = True) -> str:
    """Expand the `auto` preset of `relink build`; any other spec is returned unchanged.

    `auto` is `minimal` plus zlib (zipimport needs it to read a compressed payload) plus every
    extension the embedded code imports, except optional imports of extensions heavier than
    OPTIONAL_EXTENSION_MAX_BYTES: hashlib then uses its builtin hashes rather than pulling in OpenSSL.
    Without an app, or with the whole stdlib embedded (`full_stdlib`), it is `default`: a plain
    interpreter may run anything, and the full stdlib needs the extensions its modules import. Later
    edits (`auto,+_hashlib,-zlib`) apply on top.
    """
    preset, *edits = [token.strip() for token in spec.split(",") if token.strip()] or ["auto"]
    if preset != "auto":
        return spec
    if not app or full_stdlib:
        return ",".join(["default", *edits])
    removed = {edit[1:] for edit in edits if edit.startswith("-")}
    known = dist.metadata.build_info.extensions
    sizes = dist.member_sizes() or {}

    def light(name: str) -> bool:
        files = [path for v in known[name] for path in (*v.objs, *(link.path for link in v.links
                                                                    if link.kind == "static" and link.path))]
        return all(path in sizes for path in files) and sum(sizes[p] for p in files) <= OPTIONAL_EXTENSION_MAX_BYTES

    imports = {**payload.builtin_imports, **({"zlib": "required"} if compress else {})}
    reached = sorted(n for n, how in imports.items()
                     if n in known and n not in removed and (how == "required" or light(n)))
    return ",".join(["minimal", *(f"+{name}" for name in reached), *edits])


_GCC_FUSE_LD = {"gnu-ld": "bfd", "gold": "gold", "lld": "lld"}


def _linker_options(request: BuildRequest, report) -> tuple[dict[str, str], list[str], list[str]]:
    """CMake definitions, link options and the identity (for the cache key) of --cc/--linker, as the
    gate found them; nothing without --cc (the target's toolchain file links). --cc links for this machine,
    against its own C library."""
    if request.cc is None:
        return {}, [], []
    tools = {verdict.consumer.role: verdict.consumer for verdict in report.consumers}
    cc, linker = tools["cc"], tools.get("linker")
    definitions = {"CMAKE_C_COMPILER": cc.path}
    options = []
    if linker is not None:
        # clang takes any linker by path; gcc only by kind (-fuse-ld=bfd|gold|lld, found on PATH).
        if cc.kind in ("clang", "apple-clang"):
            options = [f"--ld-path={linker.path}"] + (["-fuse-ld=lld"] if linker.kind == "lld" else [])
        else:
            options = [f"-fuse-ld={_GCC_FUSE_LD[linker.kind]}"]
    identity = [f"{tool.kind} {tool.version} {tool.path}" for tool in (cc, linker) if tool is not None]
    return definitions, options, identity


def _interpreter(dist: Distribution, plan, target: LinkTarget, request: BuildRequest,
                 reporter: StepReporter, report) -> tuple[Path, bool]:
    """The linked launcher for `plan`, from the cache or built now; and whether it was built now.

    The cache key is the content of the generated project (plan, config.c, launcher, CMakeLists.txt)
    plus the toolchain and options, so any change to what would be linked links again.
    """
    from relink.render import MANIFEST, python_dir_for, render_project

    with scratch_dir("relink-project") as tmp:
        project = render_project(plan, dist, Path(tmp) / "project", ["cmake"], name="python",
                                 python_dir=python_dir_for(plan, dist),
                                 main_c=(templates_dir() / LAUNCHER).read_text())
        tool_definitions, tool_options, tool_identity = _linker_options(request, report)
        # Position-dependent, as PBS links its own python: no 0.9 MB of relative relocations for
        # CPython's static type objects, and no need for a recent glibc's packed relocations.
        link_options = ["-no-pie", *tool_options]
        if request.fast_link and plan.lto:
            # No cross-module importing: each object's ThinLTO cache entry stays valid when the set of
            # extensions changes, so a relink recompiles only what changed (the interpreter runs a few
            # percent slower without cross-module inlining).
            link_options.append("-Wl,-mllvm,-import-instr-limit=0")
        definitions = {
            "RELINK_THINLTO_CACHE_DIR": str(cache_root() / "thinlto"), "CMAKE_BUILD_TYPE": "Release",
            "RELINK_LINK_OPTIONS": ";".join(link_options), **tool_definitions,
        }
        digest = hashlib.sha256(json.dumps({
            "relink": __version__, "toolchain": pinned_toolchain().version, "target": target.to_json(),
            "strip": request.strip, "definitions": definitions, "tools": tool_identity,
        }, sort_keys=True).encode())
        for path in sorted(p for p in project.iterdir() if p.name != MANIFEST):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        entry = cache_root() / "interpreters" / digest.hexdigest()[:20]
        binary = entry / "python"
        with entry_lock(entry):
            if binary.is_file():
                touch_entry(entry)
                reporter.note(f"linked interpreter from the cache (no relink): {binary}")
                return binary, False
            with reporter.step("compile and link") as record, staging_dir(entry) as staged:
                build_dir = Path(tmp) / "build"
                # The log lives outside the staging folder, so a failure message names a file that stays.
                log = cache_root() / "logs" / "link" / f"{entry.name}.log"
                configure_and_build(project, build_dir, log,
                                    toolchain_file=None if tool_definitions else target_toolchain_file(target),
                                    definitions=definitions, quiet=reporter.mode != "text")
                shutil.copyfile(log, staged / "build.log")
                shutil.copyfile(build_dir / "python", staged / "python")
                # --cc links against this machine's glibc, not the floor's stubs: that glibc is the floor.
                verify_interpreter(staged / "python", plan, dist, staged / "verify.json", target,
                                   max_glibc=_host_glibc() if request.cc else None)
                if request.strip:
                    _strip(staged / "python")
                os.chmod(staged / "python", 0o755)
                publish_dir(staged, entry)
                record["detail"] = f"{binary.stat().st_size / 1e6:.1f} MB"
    return binary, True


def _host_glibc() -> tuple[int, ...] | None:
    """This machine's glibc version, e.g. (2, 36); None without glibc."""
    import platform

    from relink.report import parse_glibc_version

    libc, version = platform.libc_ver()
    return parse_glibc_version(version) if libc == "glibc" else None


def verify_interpreter(binary: Path, plan, dist: Distribution, report_file: Path,
                       target: LinkTarget | None = None, max_glibc: tuple[int, ...] | None = None) -> None:
    """Check the freshly linked (not yet stripped: its inittab symbol is still there) interpreter against
    the plan: exactly the planned builtin modules, no shared library beyond the C runtime, no glibc newer
    than `max_glibc` (a --cc link: this machine's glibc) or the target's floor (default: the
    distribution's). A contradiction fails the build and nothing is cached."""
    import dataclasses

    from relink.report import expectations_from_plan, verify_binary

    expected = expectations_from_plan(plan, dist.metadata)
    if max_glibc or (target is not None and target.glibc):
        expected = dataclasses.replace(expected, max_glibc=max_glibc or target.glibc)
    report = verify_binary(binary, expected)
    report_file.write_text(json.dumps(report.to_json(), indent=2, sort_keys=True) + "\n")
    if not report.ok:
        raise RelinkError(f"the linked interpreter contradicts the plan: {'; '.join(report.problems)}",
                          ExitCode.VERIFY_FAILED)


def _strip(path: Path) -> None:
    import subprocess

    strip = shutil.which(f"llvm-strip-{pinned_toolchain().major}") or shutil.which("strip")
    if strip:
        announce([strip, "--strip-all", str(path)])
        subprocess.run([strip, "--strip-all", str(path)], check=True)


def write_executable(interpreter: Path, archive: bytes, output: Path) -> None:
    """OUT = interpreter bytes + payload zip, written to a temporary file beside OUT, then renamed."""
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=output.parent or ".")
    try:
        with os.fdopen(fd, "wb") as out, interpreter.open("rb") as source:
            shutil.copyfileobj(source, out)
            out.write(archive)
        os.chmod(tmp, 0o755)
        os.replace(tmp, output)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        if error.errno == errno.ENOSPC:
            raise RelinkError(f"{output}: disk full while writing the executable; free space in {output.parent}",
                              ExitCode.INVALID_INPUT) from None
        raise RelinkError(f"{output}: cannot write the executable ({error.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
