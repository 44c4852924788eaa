"""What a single-file executable carries besides machine code: the stdlib and the app as bytecode.

`collect_payload` decides which modules go in (the app's reachable modules found by modulefinder, the
stdlib ones they reach plus what start-up needs, or the full stdlib), `compile_payload` byte-compiles
them with the distribution's own interpreter (stdlib .pyc cached per distribution), and `payload_zip`
stores them deterministically in a zip that is appended to the launcher (zipimport skips leading bytes).
"""

from __future__ import annotations

import ast
import io
import json
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from relink.errors import ExitCode, RelinkError
from relink.support import cache_root, entry_lock

__all__ = [
    "AppSpec", "PayloadModule", "Payload", "APP_MARKER", "check_app", "collect_payload", "compile_payload",
    "payload_zip",
    "stdlib_pyc_cache",
]

# The zip comment that tells the launcher to run the embedded `__main__` with all arguments as the app's.
APP_MARKER = b"RELINK-APP"
# Stdlib packages never embedded: tests, GUI, installers, and tools that do not work from a zip.
STDLIB_SKIP = frozenset({"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages",
                         "__pycache__", "lib-dynload", "venv", "turtle", "__phello__", "__hello__"})
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
class PayloadModule:
    name: str          # dotted module name
    source: Path       # its .py file
    package: bool
    origin: str        # "stdlib" or "app"

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


def _run_worker(python: Path, request: dict) -> dict:
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
        if not all(p.isidentifier() for p in parts):
            continue
        modules.append(PayloadModule(".".join(parts), path, package, "stdlib"))
    return modules


def _generated_main(entry: str) -> str:
    """A `__main__` that runs `package.module` as a script, or calls `package.module:function`."""
    module, _, function = entry.partition(":")
    if function:
        return f"import sys\nfrom {module} import {function} as _entry\nsys.exit(_entry())\n"
    return f"import runpy\nrunpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"


def _check_entry(app: AppSpec, found: dict[str, dict]) -> None:
    module, _, function = app.entry.partition(":")
    if module not in found:
        raise RelinkError(f"{app.path}: entry module '{module}' not found (looked in {app.path} and --include folders)")
    if not function:
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


def collect_payload(python: Path, stdlib: Path, app: AppSpec | None, stdlib_mode: str | list[str],
                    excludes: list[str], *, pyc_cache: Path | None = None, foreign: bool = False,
                    builtin_names: list[str] | None = None) -> Payload:
    """The modules to embed. `stdlib_mode` is "auto", "full" or a list of stdlib module names.
    `pyc_cache` (see `stdlib_pyc_cache`) lets the scan reuse earlier builds' stdlib bytecode. `foreign`:
    `python` is not the distribution's own interpreter (same bytecode, another build), so the scan
    searches the distribution's stdlib only, and `builtin_names` (its extensions) say what may be builtin."""
    if app is not None:
        check_app(app)
    app_paths = ([] if app is None else [str(app.path.parent if app.is_script else app.path)]) + \
        [str(p) for p in (app.includes if app else ())]

    scan_modules = list(STARTUP_MODULES)
    if stdlib_mode not in ("auto", "full"):
        scan_modules += list(stdlib_mode)
    request = {"job": "scan", "stdlib": str(stdlib.resolve()) + "/", "path": app_paths, "excludes": excludes,
               "pyc_cache": str(pyc_cache) if pyc_cache else None, "scripts": [], "modules": scan_modules,
               "foreign_interpreter": foreign, "builtin_names": builtin_names}
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

    stdlib = stdlib.resolve()
    app_modules, reached_stdlib, native = [], set(), []
    for module in scan["modules"]:
        if not module["file"] or module["name"] == "__main__":
            continue
        path = Path(module["file"]).resolve()
        if path.is_relative_to(stdlib):
            reached_stdlib.add(module["name"])
        elif path.suffix != ".py":
            native.append(f"{module['name']} ({path})")
        else:
            app_modules.append(PayloadModule(module["name"], path, module["package"], "app"))
    if native:
        raise RelinkError(
            "native extension modules cannot be linked from wheels or folders: " + ", ".join(sorted(native))
            + "; remove them from the app's dependencies or use a pure-Python alternative")
    _check_excluded_imports(excludes, scan["missing"], {m.name for m in app_modules} | {"__main__"})

    everything = _stdlib_modules(stdlib)
    if stdlib_mode == "full" or (stdlib_mode == "auto" and app is None):
        chosen = everything
    else:
        wanted = reached_stdlib | {f"encodings.{codec}" for codec in COMMON_CODECS}
        chosen = [m for m in everything if m.name in wanted]
    chosen = [m for m in chosen if not _is_excluded(m.name, excludes)]
    return Payload(
        modules=tuple(sorted(chosen + app_modules, key=lambda m: m.arcname)),
        main_script=app.path if app is not None and app.is_script else None,
        main_generated=_generated_main(app.entry) if app is not None and not app.is_script else None,
        missing=scan["missing"],
        builtin_imports={**{name: "optional" for module, names in IMPORT_TIME_LAZY_IMPORTS.items()
                            if module in found for name in names}, **scan["builtins"]},
    )


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


def compile_payload(python: Path, payload: Payload, *, dist_key: str, optimize: int = 0) -> dict[str, bytes]:
    """Arcname -> .pyc bytes for every module (stdlib cached per distribution; the app compiled afresh)."""
    stdlib_cache = stdlib_pyc_cache(dist_key, optimize)
    result: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="relink-app-pyc-") as tmp:
        items, stdlib_items = [], []
        for module in payload.modules:
            if module.origin == "stdlib":
                target = stdlib_cache / module.arcname
                if not target.is_file():
                    stdlib_items.append({"source": str(module.source), "target": str(target),
                                         "display_name": module.arcname[:-1]})
            else:
                items.append({"source": str(module.source), "target": f"{tmp}/{module.arcname}",
                              "display_name": str(module.source)})
        main = payload.main_script
        if payload.main_generated is not None:
            main = Path(tmp) / "__main__.py"
            main.write_text(payload.main_generated)
        if main is not None:
            items.append({"source": str(main), "target": f"{tmp}/__main__.pyc", "display_name": str(main.name)})
        if stdlib_items:
            with entry_lock(stdlib_cache):
                _compile(python, stdlib_items, optimize)
        _compile(python, items, optimize)
        for module in payload.modules:
            base = stdlib_cache if module.origin == "stdlib" else Path(tmp)
            result[module.arcname] = (base / module.arcname).read_bytes()
        if main is not None:
            result["__main__.pyc"] = (Path(tmp) / "__main__.pyc").read_bytes()
    return result


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
