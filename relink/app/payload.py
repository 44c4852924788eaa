"""What a single-file executable carries besides machine code: the stdlib and the app as bytecode,
the app's package data and metadata, and its native extension modules.

`collect_payload` decides what goes in: the app's reachable modules found by modulefinder, every module
of each third-party package reached (plugins are imported by name), the stdlib modules they reach plus
what start-up needs (or the full stdlib), every non-code file of those packages and their dist-info
(for importlib.resources, pkgutil.get_data, importlib.metadata), and native extension modules with the
libraries auditwheel bundled for them, checked against the distribution's Python, platform and glibc.
`compile_payload` byte-compiles the code with the distribution's own interpreter (stdlib .pyc cached per
distribution; tracebacks name app files relative to the app), and `payload_zip` stores it all
deterministically in a zip appended to the launcher (zipimport skips leading bytes). Native modules are
loaded from memory at run time by the embedded `_relink_memload` (see memload.py).
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from relink.errors import ExitCode, RelinkError
from relink.support import cache_root, entry_lock

__all__ = [
    "AppSpec", "PayloadModule", "Payload", "NativeModule", "WheelTarget", "APP_MARKER", "check_app",
    "collect_payload", "compile_payload", "payload_zip", "stdlib_pyc_cache",
]

# The zip comment that tells the launcher to run the embedded `__main__` with all arguments as the app's.
APP_MARKER = b"RELINK-APP"
# Stdlib packages never embedded: tests, GUI, and tools that do not work from a zip.
STDLIB_SKIP = frozenset({"test", "idlelib", "tkinter", "turtledemo", "lib2to3", "site-packages",
                         "__pycache__", "lib-dynload", "turtle", "__phello__", "__hello__"})
# Stdlib data files embedded with their package (read through importlib.resources): ensurepip's bundled
# pip and setuptools wheels, so `python -m venv` makes an environment with pip, as the stock interpreter does.
STDLIB_DATA = {"ensurepip": ("_bundled/*.whl",), "venv": ("scripts/common/*", "scripts/posix/*")}
# Source appended to a stdlib module when it is compiled, where the module cannot work from a zip as it is:
# venv installs its activate scripts by walking its folder on disk (see venv_scripts.py).
STDLIB_EPILOGUES = {"venv": Path(__file__).with_name("venv_scripts.py")}
# Stdlib modules imported inside functions that a feature needs at run time: reaching the key embeds them.
# multiprocessing picks its start method's modules when a process starts, and a spawn/forkserver child
# (the interpreter, see the launcher) imports them by name; ProcessPoolExecutor is a lazy attribute.
STDLIB_RUNTIME_IMPORTS = {
    "multiprocessing": tuple(f"multiprocessing.{name}" for name in (
        "connection", "context", "forkserver", "heap", "managers", "pool", "popen_fork", "popen_forkserver",
        "popen_spawn_posix", "process", "queues", "reduction", "resource_sharer", "resource_tracker", "spawn",
        "synchronize", "util")) + ("subprocess", "runpy", "pkgutil"),
    "concurrent.futures": ("concurrent.futures.process", "concurrent.futures.thread"),
    "venv": ("tempfile", "importlib.resources", "importlib.readers"),  # its epilogue's imports
}
# What any embedded interpreter needs at start-up beyond the frozen modules: codecs and runpy's imports.
STARTUP_MODULES = ("encodings", "runpy")
# The codecs `auto` embeds (the rest of encodings/ only with `--stdlib full` or when the app imports them):
# UTF-8 for the file system and stdio, and the codecs Python code names most often. Another codec fails
# at run time with Python's usual "LookupError: unknown encoding".
COMMON_CODECS = ("aliases", "ascii", "latin_1", "utf_8", "utf_8_sig", "utf_16", "utf_16_be", "utf_16_le",
                 "utf_32", "utf_32_be", "utf_32_le", "unicode_escape", "raw_unicode_escape", "cp1252",
                 "iso8859_15", "charmap", "base64_codec", "hex_codec")
# Lazy imports that stdlib modules nevertheless run at import time (so leaving them out is not lazy):
# hashlib tries each guaranteed algorithm's builtin module when imported and logs an error per missing one.
IMPORT_TIME_LAZY_IMPORTS = {"hashlib": ("_md5", "_sha1", "_sha256", "_sha512", "_sha2", "_blake2", "_sha3")}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_WORKER = Path(__file__).with_name("worker.py")
_MEMLOAD = Path(__file__).with_name("memload.py")
MEMLOAD_MODULE = "_relink_memload"
_DATAFILES = Path(__file__).with_name("datafiles.py")
DATAFILES_MODULE = "_relink_datafiles"
_TRACEBACKS = Path(__file__).with_name("tracebacks.py")
TRACEBACKS_MODULE = "_relink_tracebacks"   # the launcher's printer of uncaught exceptions (the name is in it)
# Files of a package that are code (embedded as bytecode) or of no use at run time.
_NOT_DATA_SUFFIXES = (".py", ".pyc", ".pyo", ".pyi")
_NOT_DATA_DIRS = frozenset({"__pycache__", "tests", "test", "testing"})


@dataclass(frozen=True)
class AppSpec:
    """`--app script.py`, or `--app DIR --entry package.module[:function]`, plus `--include` folders."""

    path: Path
    entry: str | None = None
    includes: tuple[Path, ...] = ()

    @property
    def is_script(self) -> bool:
        return self.path.is_file()


@dataclass(frozen=True)
class WheelTarget:
    """What a native module's wheel must fit: the distribution's Python, CPU, C library and glibc."""

    python: tuple[int, int]
    arch: str                                # e.g. "x86_64", "i686", "aarch64"
    libc: str | None                         # "glibc", "musl" or None
    glibc: tuple[int, int] | None = None     # newest glibc the distribution's binaries may use


@dataclass(frozen=True)
class NativeModule:
    name: str                        # dotted module name
    member: str                      # its zip member, e.g. "yaml/_yaml.cpython-311-x86_64-linux-gnu.so"
    libraries: tuple[str, ...] = ()  # members of the libraries it needs, dependencies first
    cyclic: bool = False             # some of them need each other: loaded from the private folder


@dataclass(frozen=True)
class PayloadModule:
    name: str          # dotted module name
    source: Path       # its .py file
    package: bool
    origin: str        # "stdlib" or "app"
    root: Path | None = None   # the folder it was found in; tracebacks name the file relative to it

    @property
    def display_name(self) -> str:
        if self.root is not None and self.source.is_relative_to(self.root):
            return str(self.source.relative_to(self.root))
        return self.arcname[:-1] if self.origin == "stdlib" else self.source.name

    @property
    def source_arcname(self) -> str:
        """Where its source goes with `--embed-source` (zipimport's get_source looks there), and the file
        name its code reports in tracebacks: relative, never the build machine's path."""
        return self.arcname[:-1]

    @property
    def arcname(self) -> str:
        parts = self.name.split(".")
        return "/".join(parts + ["__init__.pyc"]) if self.package else "/".join(parts) + ".pyc"


@dataclass(frozen=True)
class Payload:
    modules: tuple[PayloadModule, ...]
    main_script: Path | None         # an app script, embedded as `__main__`
    main_generated: str | None       # or a generated `__main__` calling the app's entry point
    missing: dict[str, list[str]]    # imported but not found: name -> importers (informational)
    builtin_imports: dict[str, str] = field(default_factory=dict)  # extension -> "required"/"optional"
    data: dict[str, Path] = field(default_factory=dict)       # zip member -> file (package data, dist-info,
                                                              # native modules and their libraries)
    natives: tuple[NativeModule, ...] = ()
    warnings: tuple[str, ...] = ()   # imports nothing provides ("file:line: ..."), skipped modules
    package_data: bool = False       # packages carry data files (read through __file__ paths too)

    @property
    def prelude(self) -> str | None:
        """The statements put before the app's first line: the in-memory loader of native modules,
        and the read-only view of package data at `__file__`-based paths."""
        lines = []
        if self.natives:
            manifest = {n.name: [n.member, list(n.libraries), n.cyclic] for n in self.natives}
            lines += [f"import {MEMLOAD_MODULE}", f"{MEMLOAD_MODULE}.install({manifest!r})", f"del {MEMLOAD_MODULE}"]
        if self.package_data:
            lines += [f"import {DATAFILES_MODULE}", f"{DATAFILES_MODULE}.install()", f"del {DATAFILES_MODULE}"]
        return "\n".join(lines) + "\n" if lines else None


def _run_worker(python: Path, request: dict) -> dict:
    from relink.support.runner import announce

    announce([str(python), "-I", "-S", str(_WORKER)])
    result = subprocess.run([str(python), "-I", "-S", str(_WORKER)], input=json.dumps(request),
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RelinkError(f"{python}: the bytecode compiler (the distribution's interpreter or --python) failed: "
                          f"{tail}", ExitCode.BUILD_FAILED)
    return json.loads(result.stdout)


def _stdlib_modules(stdlib: Path) -> list[PayloadModule]:
    modules = []
    for path in sorted(stdlib.rglob("*.py")):
        rel = path.relative_to(stdlib)
        top = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        if top in STDLIB_SKIP or top.startswith("config-"):
            continue
        if any(part in ("test", "tests", "idle_test", "__pycache__") for part in rel.parts[:-1]):
            continue
        package = rel.name == "__init__.py"
        parts = rel.parts[:-1] if package else (*rel.parts[:-1], rel.stem)
        # Names that are not identifiers are still importable by name: `_sysconfigdata__linux_x86_64-linux-gnu`.
        if not all(p and "." not in p for p in parts):
            continue
        modules.append(PayloadModule(".".join(parts), path, package, "stdlib"))
    return modules


def _generated_main(entry: str) -> str:
    """A `__main__` that runs `package.module` as a script, or calls `package.module:function`."""
    module, _, function = entry.partition(":")
    # Guarded: a multiprocessing spawn child re-runs __main__ as __mp_main__, which must not start the app.
    if function:
        return (f"import sys\nfrom {module} import {function} as _entry\n"
                f"if __name__ == '__main__':\n    sys.exit(_entry())\n")
    return (f"import runpy\nif __name__ == '__main__':\n"
            f"    runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n")


def _check_entry(app: AppSpec, found: dict[str, dict]) -> None:
    module, _, function = app.entry.partition(":")
    if module not in found:
        raise RelinkError(f"{app.path}: entry module '{module}' not found (looked in {app.path} and --include folders)")
    if not function:
        if found[module]["package"] and f"{module}.__main__" not in found:
            raise RelinkError(f"{found[module]['file']}: entry package '{module}' has no __main__ module; "
                              f"add {module}/__main__.py or name a module or function with --entry")
        return
    source = Path(found[module]["file"])
    try:
        tree = ast.parse(source.read_bytes(), str(source))
    except SyntaxError:
        return  # reported with file:line when compiled
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    defined |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    defined |= {(a.asname or a.name).split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom | ast.Import)
                for a in n.names}
    if function not in defined:
        raise RelinkError(f"{source}: entry function '{function}' is not defined in module '{module}'")


def check_app(app: AppSpec) -> None:
    """The app's files exist and name an entry point: checked before any slow step."""
    if not app.path.exists():
        raise RelinkError(f"{app.path}: app not found")
    if not app.is_script and not app.entry:
        raise RelinkError(f"{app.path}: an app folder needs --entry package.module[:function]")
    for include in app.includes:
        if not include.is_dir():
            raise RelinkError(f"{include}: --include folder not found")


def _app_roots(app: AppSpec | None) -> list[Path]:
    if app is None:
        return []
    return [(app.path.parent if app.is_script else app.path).resolve(), *(p.resolve() for p in app.includes)]


def collect_payload(python: Path, stdlib: Path, app: AppSpec | None, stdlib_mode: str | list[str],
                    excludes: list[str], *, pyc_cache: Path | None = None, foreign: bool = False,
                    builtin_names: list[str] | None = None, target: WheelTarget | None = None,
                    strict: bool = False, embed_source: bool = False) -> Payload:
    """The modules to embed. `stdlib_mode` is "auto", "full" or a list of stdlib module names.
    `pyc_cache` (see `stdlib_pyc_cache`) lets the scan reuse earlier builds' stdlib bytecode. `foreign`:
    `python` is not the distribution's own interpreter (same bytecode, another build), so the scan
    searches the distribution's stdlib only, and `builtin_names` (its extensions) say what may be builtin.
    `target` is what native modules' wheels must fit (None: not checked). With `strict`, an import
    nothing provides is an error rather than a warning. `embed_source`: the launcher then prints
    tracebacks with the traceback module, which is embedded."""
    if app is not None:
        check_app(app)
    roots = _app_roots(app)

    scan_modules = list(STARTUP_MODULES) + (["traceback"] if embed_source else [])
    if stdlib_mode not in ("auto", "full"):
        scan_modules += list(stdlib_mode)
    request = {"job": "scan", "stdlib": str(stdlib.resolve()) + "/", "path": [str(r) for r in roots],
               "excludes": excludes, "pyc_cache": str(pyc_cache) if pyc_cache else None, "scripts": [],
               "modules": scan_modules, "foreign_interpreter": foreign, "builtin_names": builtin_names,
               "runtime_imports": {key: list(names) for key, names in STDLIB_RUNTIME_IMPORTS.items()}}
    if app is not None:
        if app.is_script:
            request["scripts"] = [str(app.path)]
        else:
            request["modules"].append(app.entry.partition(":")[0])
    scan = _run_worker(python, request)
    _raise_syntax_errors(scan["errors"])
    found = {m["name"]: m for m in scan["modules"]}
    if app is not None and app.entry:
        _check_entry(app, found)
    _refuse_foreign_extensions(scan["foreign_extensions"], scan["extension_suffixes"])

    stdlib = stdlib.resolve()
    app_modules, reached_stdlib, natives = [], set(), []
    for module in scan["modules"]:
        if not module["file"] or module["name"] == "__main__" or _is_excluded(module["name"], excludes):
            continue
        path = Path(module["file"]).resolve()
        if path.is_relative_to(stdlib):
            reached_stdlib.add(module["name"])
        elif path.suffix != ".py":
            natives.append((module["name"], path))
        else:
            # The folder the module was found in, from its dotted name (an --include folder may lie
            # inside the app's folder: .venv/lib/…/site-packages beside app.py).
            depth = module["name"].count(".") + (1 if module["package"] else 0)
            root = path.parents[depth] if depth < len(path.parents) else None
            root = root if root in roots else next((r for r in roots if path.is_relative_to(r)), None)
            app_modules.append(PayloadModule(module["name"], path, module["package"], "app", root))
    _check_excluded_imports(excludes, scan["missing"], {m.name for m in app_modules} | {"__main__"})

    everything = _stdlib_modules(stdlib)
    if stdlib_mode == "full" or (stdlib_mode == "auto" and app is None):
        chosen = everything
    else:
        wanted = reached_stdlib | {f"encodings.{codec}" for codec in COMMON_CODECS}
        chosen = [m for m in everything if m.name in wanted]
    chosen = [m for m in chosen if not _is_excluded(m.name, excludes)]

    data, native_modules, left_out = _package_files(app_modules, natives, roots, target, strict)
    native_members = {m for n in native_modules for m in (n.member, *n.libraries)}
    package_data = any(m not in native_members and not m.split("/")[0].endswith(".dist-info") for m in data)
    if native_modules:
        chosen.append(PayloadModule(MEMLOAD_MODULE, _MEMLOAD, False, "app", _MEMLOAD.parent))
    if package_data:
        chosen.append(PayloadModule(DATAFILES_MODULE, _DATAFILES, False, "app", _DATAFILES.parent))
    if app is not None:
        chosen.append(PayloadModule(TRACEBACKS_MODULE, _TRACEBACKS, False, "app", _TRACEBACKS.parent))
    warnings = _unresolved_warnings(scan["unresolved"], app, excludes, strict)
    warnings += [f"{e['file']}:{e['line']}: SyntaxError: {e['message']} (module left out)" for e in scan["skipped"]]
    warnings += left_out
    chosen_names = {m.name for m in chosen}
    data.update({f"{package}/{path.relative_to(stdlib / package).as_posix()}": path
                 for package, patterns in STDLIB_DATA.items() if package in chosen_names
                 for pattern in patterns for path in sorted((stdlib / package).glob(pattern))})
    return Payload(
        modules=tuple(sorted(chosen + app_modules, key=lambda m: m.arcname)),
        main_script=app.path if app is not None and app.is_script else None,
        main_generated=_generated_main(app.entry) if app is not None and not app.is_script else None,
        missing=scan["missing"],
        builtin_imports={**{name: "optional" for module, names in IMPORT_TIME_LAZY_IMPORTS.items()
                            if module in found for name in names}, **scan["builtins"]},
        data=data,
        natives=tuple(native_modules),
        warnings=tuple(warnings),
        package_data=package_data,
    )


def _unresolved_warnings(unresolved: list, app: AppSpec | None, excludes: list[str], strict: bool) -> list[str]:
    """One line per import that nothing provides and that will run: at a module's top level, or in a
    function of the app's own code (not of --include folders, whose functions are optional features)."""
    own = (app.path.parent if app.is_script else app.path).resolve() if app is not None else None
    includes = [p.resolve() for p in app.includes] if app is not None else []
    lines = []
    for name, file, line, where in unresolved:
        path = Path(file).resolve()
        in_own_code = own is not None and path.is_relative_to(own) and not any(path.is_relative_to(i) for i in includes)
        if _is_excluded(name, excludes) or where == "guarded" or (where == "function" and not in_own_code):
            continue
        lines.append(f"{file}:{line}: module '{name}' is imported but not found")
    lines = sorted(set(lines))
    if strict and lines:
        more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
        raise RelinkError(f"{lines[0]}{more}; --strict refuses imports nothing provides: add the module's folder "
                          "with --include, or drop --strict")
    return lines


def _refuse_foreign_extensions(foreign: dict[str, str], suffixes: list[str]) -> None:
    if foreign:
        name, file = sorted(foreign.items())[0]
        raise RelinkError(f"{file}: native module '{name}' was built for another Python or platform (this "
                          f"distribution loads {', '.join(s for s in suffixes if s != '.so')}); install the "
                          "wheel that matches it")


def _package_files(app_modules: list[PayloadModule], natives: list[tuple[str, Path]], roots: list[Path],
                   target: WheelTarget | None, strict: bool) -> tuple[dict[str, Path], list[NativeModule], list[str]]:
    """Zip member -> file for the packages' data, their dist-info, and native modules with their libraries;
    and a warning for each native module left out because its wheel needs a newer glibc than the app's floor
    (often only reached through an optional import, e.g. Pillow's from Pygments: the app then runs on the
    floor, and importing the module raises ImportError; `strict` refuses it)."""
    data: dict[str, Path] = {}
    tops = {m.name.split(".")[0] for m in app_modules} | {name.split(".")[0] for name, _ in natives}
    for module in app_modules:
        if module.package and "." not in module.name and module.root is not None:
            package_dir = module.source.parent
            for path in sorted(package_dir.rglob("*")):
                rel = path.relative_to(package_dir)
                if (path.is_file() and not path.name.endswith(_NOT_DATA_SUFFIXES) and ".so" not in path.suffixes
                        and not any(part in _NOT_DATA_DIRS for part in rel.parts[:-1])):
                    data[path.relative_to(module.root).as_posix()] = path
    wheels = _dist_infos(roots)
    for info, owned in wheels.items():
        if owned & tops:
            for path in sorted(info.rglob("*")):
                if path.is_file():
                    data[path.relative_to(info.parent).as_posix()] = path
    native_modules = []
    too_new: dict[str, tuple[Path, tuple[int, int], list[str]]] = {}   # package -> first file, glibc, modules
    for name, path in sorted(natives):
        root = next((r for r in roots if path.is_relative_to(r)), path.parent)
        needs = _check_wheel(name, path, root, wheels, target) if target is not None else None
        if needs is not None:
            too_new.setdefault(name.split(".")[0], (path, needs, []))[2].append(name)
            continue
        member = path.relative_to(root).as_posix()
        data[member] = path
        libraries, cyclic = _bundled_libraries(path, root)
        for library in libraries:
            data[library.relative_to(root).as_posix()] = library
        native_modules.append(NativeModule(name, member, tuple(lib.relative_to(root).as_posix() for lib in libraries),
                                           cyclic))
    left_out = []
    for path, needs, names in too_new.values():
        glibc, floor = (".".join(map(str, v)) for v in (needs, target.glibc))
        listed = ", ".join(f"'{n}'" for n in names)
        line = (f"{path}: native module{'s' if len(names) > 1 else ''} {listed} left out: the wheel needs glibc "
                f"{glibc}, newer than the app's floor {floor} (--glibc {glibc} embeds {'them' if len(names) > 1 else 'it'})")
        if strict:
            raise RelinkError(f"{line}; --strict refuses it")
        left_out.append(line)
    return data, native_modules, left_out


def _dist_infos(roots: list[Path]) -> dict[Path, set[str]]:
    """Each *.dist-info folder in the app's folders -> the top-level names its RECORD installs."""
    result = {}
    for root in roots:
        for info in sorted(root.glob("*.dist-info")):
            owned = set()
            record = info / "RECORD"
            if record.is_file():
                for row in csv.reader(record.read_text(errors="replace").splitlines()):
                    if row and not row[0].startswith(("..", "/")):
                        first = row[0].split("/")[0]
                        owned.add(first.split(".")[0] if "/" not in row[0] else first)
            top_level = info / "top_level.txt"
            if top_level.is_file():
                owned |= set(top_level.read_text().split())
            result[info] = owned
    return result


def _check_wheel(name: str, path: Path, root: Path, wheels: dict[Path, set[str]],
                 target: WheelTarget) -> tuple[int, int] | None:
    """Refuse a native module whose wheel tags fit none of the distribution's Python, CPU and libc. If only
    the app's glibc floor is too old for them, return the oldest glibc one of them needs."""
    from packaging.tags import parse_tag

    top = name.split(".")[0]
    info = next((i for i, owned in wheels.items() if top in owned and (i / "WHEEL").is_file()), None)
    if info is None:
        return None  # not installed from a wheel: nothing states what it was built for
    tags = [t for line in (info / "WHEEL").read_text(errors="replace").splitlines() if line.startswith("Tag:")
            for t in parse_tag(line.partition(":")[2].strip())]
    problems = [p for p in (_tag_problem(tag, target) for tag in tags)]
    if not tags or not all(problems):
        return None
    any_glibc = replace(target, glibc=None)
    needs = [_manylinux_glibc(tag.platform) for tag in tags if _tag_problem(tag, any_glibc) is None]
    if needs:
        return min(needs)
    raise RelinkError(f"{path}: native module '{name}' comes from a wheel for {tags[0]}, which does not fit "
                      f"the distribution ({problems[0]}); install the wheel for CPython "
                      f"{target.python[0]}.{target.python[1]} on {target.libc or 'this'} {target.arch}")


def _tag_problem(tag, target: WheelTarget) -> str | None:
    """Why one wheel tag does not fit the target, or None if it does."""
    want = f"cp{target.python[0]}{target.python[1]}"
    if tag.abi == "abi3":
        version = tag.interpreter[2:]
        if not tag.interpreter.startswith("cp") or (int(version[0]), int(version[1:] or 0)) > target.python:
            return f"needs {tag.interpreter}"
    elif tag.interpreter.startswith("cp") and tag.interpreter != want:
        return f"built for {tag.interpreter}, the distribution is {want}"
    platform = _normal_platform(tag.platform)
    if platform == "any":
        return None
    if platform.startswith("manylinux_"):
        _, major, minor, arch = platform.split("_", 3)
        if target.libc != "glibc":
            return f"{platform} needs glibc, the distribution uses {target.libc}"
        if arch != target.arch:
            return f"built for {arch}, the distribution is {target.arch}"
        if target.glibc is not None and (int(major), int(minor)) > target.glibc:
            return f"needs glibc {major}.{minor}, the app's floor is {target.glibc[0]}.{target.glibc[1]}"
        return None
    if platform.startswith("musllinux_"):
        return None if target.libc == "musl" and platform.endswith("_" + target.arch) else f"{platform} is for musl"
    if platform.startswith("linux_"):
        return None if platform == f"linux_{target.arch}" else f"built for {platform}"
    return f"built for {platform}"


def _normal_platform(platform: str) -> str:
    """PEP 600 spelling of the legacy manylinux tags: manylinux2014_x86_64 -> manylinux_2_17_x86_64."""
    legacy = {"manylinux1": "manylinux_2_5", "manylinux2010": "manylinux_2_12", "manylinux2014": "manylinux_2_17"}
    for old, new in legacy.items():
        if platform.startswith(old + "_"):
            return new + platform[len(old):]
    return platform


def _manylinux_glibc(platform: str) -> tuple[int, int]:
    _, major, minor, _ = _normal_platform(platform).split("_", 3)
    return int(major), int(minor)


def _bundled_libraries(module: Path, root: Path) -> tuple[list[Path], bool]:
    """The libraries in `root/*.libs/` (auditwheel's) that `module` needs, directly or not, in load
    order (each after the ones it needs), and whether some need each other (Pillow's freetype and
    harfbuzz): no load order works for those from memory, they are loaded from files side by side."""
    import lief

    available = {lib.name: lib for folder in sorted(root.glob("*.libs")) for lib in sorted(folder.iterdir())}
    if not available:
        return [], False
    order: list[Path] = []
    state: dict[str, str] = {}
    cyclic = False

    def visit(path: Path) -> None:
        nonlocal cyclic
        binary = lief.ELF.parse(str(path))
        for needed in (binary.libraries if binary is not None else []):
            library = available.get(needed)
            if library is None:
                continue
            if state.get(needed) == "visiting":
                cyclic = True
            elif needed not in state:
                state[needed] = "visiting"
                visit(library)
                state[needed] = "done"
                order.append(library)

    visit(module)
    return order, cyclic


def _is_excluded(name: str, excludes: list[str]) -> bool:
    """`--exclude X` leaves out X and its submodules."""
    return any(name == e or name.startswith(e + ".") for e in excludes)


def _check_excluded_imports(excludes: list[str], missing: dict[str, list[str]], app_names: set[str]) -> None:
    for name, importers in sorted(missing.items()):
        if _is_excluded(name, excludes):
            by_app = sorted(i for i in importers if i in app_names)
            if by_app:
                raise RelinkError(f"module '{name}' is excluded (--exclude) but imported by {', '.join(by_app)}")


def stdlib_pyc_cache(dist_key: str, optimize: int) -> Path:
    """Where a distribution's stdlib bytecode (and what each module imports) is kept between builds."""
    return cache_root() / "pyc" / f"{dist_key}-O{optimize}"


def compile_payload(python: Path, payload: Payload, *, dist_key: str, optimize: int = 0,
                    embed_source: bool = False) -> dict[str, bytes]:
    """Zip member -> bytes: .pyc for every module, then the data files, dist-info and native modules as
    they are, and with `embed_source` every module's source (for tracebacks, inspect). Stdlib bytecode is
    cached per distribution by path; the app's and its dependencies' by the content of the source and the
    name tracebacks show, so unchanged packages are not compiled again."""
    stdlib_cache = stdlib_pyc_cache(dist_key, optimize)
    app_cache = stdlib_cache.with_name(stdlib_cache.name + "-app")
    result: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="relink-app-pyc-") as tmp:
        items, stdlib_items, targets = [], [], {}
        for module in payload.modules:
            if module.origin == "stdlib":
                epilogue = _epilogue(module)
                target = stdlib_cache / module.arcname
                if epilogue:  # kept apart from the module's plain bytecode, per epilogue version
                    target = stdlib_cache / "epilogue" / hashlib.sha256(epilogue.encode()).hexdigest()[:16] / module.arcname
                if not target.is_file():
                    stdlib_items.append({"source": str(module.source), "target": str(target),
                                         "display_name": module.arcname[:-1], "epilogue": epilogue})
            else:
                key = hashlib.sha256(module.source.read_bytes() + b"\0" + module.display_name.encode()).hexdigest()
                target = app_cache / key[:2] / f"{key}.pyc"
                if not target.is_file():
                    items.append({"source": str(module.source), "target": str(target),
                                  "display_name": module.display_name})
            targets[module.arcname] = target
        main = payload.main_script
        if payload.main_generated is not None:
            main = Path(tmp) / "__main__.py"
            main.write_text(payload.main_generated)
        if main is not None:
            items.append({"source": str(main), "target": f"{tmp}/__main__.pyc", "display_name": str(main.name),
                          "prelude": payload.prelude})
            targets["__main__.pyc"] = Path(tmp) / "__main__.pyc"
        if stdlib_items:
            with entry_lock(stdlib_cache):
                _compile(python, stdlib_items, optimize)
        _compile(python, items, optimize)  # each file written to a partial name and renamed: safe to share
        for member, target in targets.items():
            result[member] = target.read_bytes()
        if embed_source and main is not None:
            result["__main__.py"] = main.read_bytes()
    for member, path in payload.data.items():
        result.setdefault(member, path.read_bytes())
    if embed_source:
        for module in payload.modules:
            result.setdefault(module.source_arcname, module.source.read_bytes() + _epilogue(module).encode())
    return result


def _epilogue(module: PayloadModule) -> str:
    """The source appended to a stdlib module (STDLIB_EPILOGUES), or ""."""
    path = STDLIB_EPILOGUES.get(module.name) if module.origin == "stdlib" else None
    return path.read_text() if path is not None else ""


def _compile(python: Path, items: list[dict], optimize: int) -> None:
    if not items:
        return
    _raise_syntax_errors(_run_worker(python, {"job": "compile", "items": items, "optimize": optimize})["errors"])


def _raise_syntax_errors(errors: list[dict]) -> None:
    if errors:
        first = errors[0]
        line = f":{first['line']}" if first["line"] else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise RelinkError(f"{first['file']}{line}: SyntaxError: {first['message']}{more}")


def payload_zip(pycs: dict[str, bytes], *, app: bool, deflate: bool = True) -> bytes:
    """A deterministic zip: sorted names, fixed timestamps, the app marker as its comment.

    zipimport inflates with the `zlib` module: without it linked in, entries must be stored (`deflate=False`).
    """
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method, compresslevel=9 if deflate else None) as archive:
        for name in sorted(pycs):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, pycs[name])
        archive.comment = APP_MARKER if app else b""
    return buffer.getvalue()
