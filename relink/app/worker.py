"""Runs inside a distribution's own interpreter (`install/bin/python3 -I worker.py`), never imported.

Two jobs, chosen by the JSON request on stdin, answered as JSON on stdout:
- "scan": which modules an app reaches (modulefinder over the app's folders and the distribution's stdlib),
  then every module of each third-party package reached (plugins, readers and locales are imported by
  name), the codecs its code names, and the imports nothing provides (with file and line);
- "compile": byte-compile sources into unchecked hash-based .pyc files, so the magic number is the
  distribution's own and the output does not depend on file timestamps; a "prelude" (the in-memory
  loader's set-up) is inserted before the first statement and an "epilogue" (a stdlib module's fix for
  living in a zip) appended after the last, without moving any line.
The scan runs in a thread with a large stack and no practical recursion limit: deep import chains and
deeply nested expressions (tomli, sympy) must not crash it.
Only the standard library of any CPython 3.11-3.14 may be used here.
"""

import ast
import encodings
import encodings.aliases
import hashlib
import importlib.machinery
import importlib.util
import inspect
import json
import modulefinder
import os
import sys
import sysconfig
import threading
from importlib._bootstrap_external import _code_to_hash_pyc


class ReachFinder(modulefinder.ModuleFinder):
    """Follows every import of the app's own code, but only the import-time imports of the stdlib.

    Imports inside stdlib functions are lazy on purpose (optional features); following them would embed
    most of the stdlib for any app. What they need fails at run time with a normal ImportError.
    """

    def __init__(self, stdlib, pyc_cache, **kwargs):
        super().__init__(**kwargs)
        self.stdlib = stdlib
        self.pyc_cache = pyc_cache
        self.syntax_errors = []
        self.skipped = []          # syntax errors in modules added only because their package was reached
        self.optional_phase = False
        self.names_used = set()    # every name any reached code uses, functions included
        self.package_phase = False  # adding the other modules of reached packages (see _follow)
        self.package_only = set()  # modules embedded only because their package was
        self.importable = {}       # package-only module file -> whether its other packages are all there

    def load_module(self, fqname, fp, pathname, file_info):
        if self.package_phase:
            self.package_only.add(fqname)
        cached = _cached_pyc(self.pyc_cache, self.stdlib, pathname)
        if cached is None and self.pyc_cache and file_info[2] == modulefinder._PY_SOURCE:
            cached = _scan_pyc(self.pyc_cache, pathname)
        try:
            if cached is not None and file_info[2] == modulefinder._PY_SOURCE:
                # The stdlib's bytecode from an earlier build: no need to compile its source again.
                with open(cached, "rb") as pyc:
                    return super().load_module(fqname, pyc, pathname, (".pyc", "rb", modulefinder._PY_COMPILED))
            return super().load_module(fqname, fp, pathname, file_info)
        except SyntaxError as error:
            record = {"file": pathname, "line": error.lineno, "message": error.msg}
            (self.skipped if self.optional_phase else self.syntax_errors).append(record)
            raise ImportError(f"syntax error in {pathname}") from None

    def find_module(self, name, path, parent=None):
        found = super().find_module(name, path, parent)
        if name == "__init__" and found[2][2] == modulefinder._PKG_DIRECTORY:
            # A package whose __init__ is itself an extension module (mypyc-compiled tomli): modulefinder
            # would take it for the package folder again and recurse forever.
            origin = importlib.machinery.PathFinder.find_spec(name, path).origin
            return None, origin, ("", "", modulefinder._C_EXTENSION)
        return found

    def _safe_import_hook(self, name, caller, fromlist, level=-1):
        if caller is not None and name in _never_run_imports(caller.__file__, self.stdlib):
            return
        if caller is not None and caller.__name__ in self.package_only and level in (-1, 0) \
                and not self._package_only_import_needed(caller, name):
            return
        super()._safe_import_hook(name, caller, fromlist, level)

    def _package_only_import_needed(self, caller, name):
        """Whether a module embedded only because its package was needs `name` from another third-party
        package: only an import that runs when the module is imported (not one guarded by `except
        ImportError`, under a condition or in a function: an optional feature, such as pygments' image
        formatter and Pillow), and only if the module can be imported at all (pygments' sphinx glue,
        with no sphinx, cannot: its docutils is not needed). Otherwise plugins of a package would pull
        whole other packages in (a typer app embedded Pillow and docutils through pygments)."""
        top = name.split(".")[0]
        if top == caller.__name__.split(".")[0] or top in _STDLIB_NAMES or not (caller.__file__ or "").endswith(".py"):
            return True
        required = _required_foreign_imports(caller.__file__, caller.__name__.split(".")[0])
        if name not in required:
            return False
        if caller.__file__ not in self.importable:  # asked once per module, not once per import
            self.importable[caller.__file__] = all(
                importlib.machinery.PathFinder.find_spec(other.split(".")[0], self.path) is not None
                for other in required)
        return self.importable[caller.__file__]

    def scan_code(self, co, m):
        if co.co_name == "<module>":  # once per module; modulefinder recurses into nested code itself
            self.names_used.update(_all_names(co))
        if not (m.__file__ or "").startswith(self.stdlib):
            return super().scan_code(co, m)
        # Same constants by index (LOAD_CONST must still find them) but function bodies blanked out,
        # so only this body's own imports and those of class bodies (run at import time) are followed.
        consts = tuple(None if isinstance(c, type(co)) and c.co_flags & inspect.CO_NEWLOCALS else c
                       for c in co.co_consts)
        super().scan_code(co.replace(co_consts=consts), m)


def _all_names(co):
    """The attribute and global names a code object and the functions in it use."""
    names = set(co.co_names)
    for const in co.co_consts:
        if isinstance(const, type(co)):
            names |= _all_names(const)
    return names


_STDLIB_NAMES = frozenset(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
_FOREIGN_IMPORTS = {}


def _required_foreign_imports(path, top):
    """Absolute imports of other top-level packages than `top` in a source file that run when it is
    imported (not guarded by `except ImportError`, conditional, or in a function)."""
    if path not in _FOREIGN_IMPORTS:
        required = set()
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read())
        except (OSError, SyntaxError, ValueError):
            tree = None
        for node, guarded, in_function, conditional in (_imports_in_context(tree) if tree else ()):
            if (isinstance(node, ast.ImportFrom) and node.level) or guarded or in_function or conditional:
                continue
            required.update(name for name in _imported_names(node, "")
                            if name.split(".")[0] != top and name.split(".")[0] not in _STDLIB_NAMES)
        _FOREIGN_IMPORTS[path] = frozenset(required)
    return _FOREIGN_IMPORTS[path]


_NEVER_RUN_IMPORTS = {}


def _never_run_imports(path, stdlib):
    """Modules a source file imports only in blocks that never run when it is imported: `if TYPE_CHECKING:`
    (type checkers only; typing.TYPE_CHECKING is False at run time), and in the stdlib the
    `if __name__ == "__main__":` block (heapq's doctest run is not the module)."""
    if not path or not path.endswith(".py"):
        return ()
    if path not in _NEVER_RUN_IMPORTS:
        with open(path, "rb") as f:
            source = f.read()
        in_stdlib = path.startswith(stdlib)
        if not in_stdlib and b"TYPE_CHECKING" not in source:
            _NEVER_RUN_IMPORTS[path] = ()
            return ()
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            _NEVER_RUN_IMPORTS[path] = ()
            return ()
        never, runs = set(), set()

        def visit(node, never_runs):
            if isinstance(node, ast.Import):
                (never if never_runs else runs).update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                (never if never_runs else runs).add(node.module)
            if isinstance(node, ast.If) and _never_true(node.test, in_stdlib and node in tree.body):
                for child in node.body:
                    visit(child, True)
                for child in node.orelse:
                    visit(child, never_runs)
                return
            for child in ast.iter_child_nodes(node):
                visit(child, never_runs)

        visit(tree, False)
        _NEVER_RUN_IMPORTS[path] = never - runs
    return _NEVER_RUN_IMPORTS[path]


def _never_true(test, main_block_counts):
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return True
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return True
    return main_block_counts and "__main__" in ast.unparse(test)


def _scan_pyc(pyc_cache, pathname):
    """Bytecode of a third-party source for the scan, cached by the source's content (compiling a big
    package's sources is most of a scan). None if it does not compile (then the error is reported)."""
    with open(pathname, "rb") as f:
        source = f.read()
    digest = importlib.util.source_hash(source).hex() + hashlib.sha256(source).hexdigest()[:16]
    cached = os.path.join(pyc_cache + "-scan", digest[:2], digest + ".pyc")
    if not os.path.isfile(cached):
        try:
            code = compile(source, pathname, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return None
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        with open(cached + f".{os.getpid()}.partial", "wb") as f:
            f.write(_code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False))
        os.replace(cached + f".{os.getpid()}.partial", cached)
    return cached


def _cached_pyc(pyc_cache, stdlib, pathname):
    """The cached .pyc of a stdlib source file (written by an earlier "compile" job), if there is one."""
    if not pyc_cache or not pathname or not pathname.startswith(stdlib) or not pathname.endswith(".py"):
        return None
    cached = os.path.join(pyc_cache, pathname[len(stdlib):] + "c")
    return cached if os.path.isfile(cached) else None


# The extension modules that can be builtin: this interpreter's, or the distribution's when another
# interpreter scans for it.
BUILTIN_NAMES = set(sys.builtin_module_names)


# Folders of a third-party package that are never embedded: tests and caches.
SKIP_DIRS = frozenset({"tests", "test", "testing", "__pycache__"})
# Stdlib modules that other code reaches at run time in ways an import scan cannot see: C code importing
# Python (datetime.strptime -> _strptime), the zip importer's resource reader, sysconfig's build data.
RUNTIME_IMPORTS = {
    "datetime": ["_strptime"], "_strptime": ["calendar", "locale"],
    "importlib.resources": ["importlib.readers", "importlib.resources.readers"],
    "importlib.metadata": ["importlib.readers", "email.parser"], "pkgutil": ["importlib.readers"],
    "sysconfig": [sysconfig._get_sysconfigdata_name()], "zoneinfo": ["importlib.resources", "tzdata"],
    "gettext": ["locale", "copy", "struct"], "subprocess": ["locale"],
    "shutil": ["locale"], "email.utils": ["email._parseaddr"], "zipfile": ["encodings.cp437"],
}
# The same, but only when some reached code names the function that does it: `time` is reached by almost
# every app, and time.strptime's _strptime brings calendar, locale and datetime (about 0.2 MB).
NAMED_RUNTIME_IMPORTS = {"time": ("strptime", ["_strptime"])}


def scan(request):
    # Another interpreter than the distribution's own (a foreign target's build) must not find its own
    # stdlib or extension modules: only the distribution's stdlib is searched then.
    global BUILTIN_NAMES
    own = [request["stdlib"].rstrip("/")] if request.get("foreign_interpreter") else sys.path
    BUILTIN_NAMES = set(request.get("builtin_names") or sys.builtin_module_names)
    finder = ReachFinder(request["stdlib"], request.get("pyc_cache"), path=request["path"] + own,
                         excludes=request["excludes"])
    for script in request["scripts"]:
        try:
            finder.run_script(script)
        except ImportError:
            pass  # a syntax error, recorded by load_module
    for name in request["modules"]:
        try:
            finder.import_hook(name)
        except ImportError:
            pass  # reported by the caller as a missing entry module
    for key, names in request.get("runtime_imports", {}).items():  # the caller's run-time imports too
        RUNTIME_IMPORTS.setdefault(key, []).extend(names)
    finder.optional_phase = True
    reached = set(finder.modules)
    _follow(finder, request["stdlib"], request.get("whole_packages", True), _distribution_siblings(request["path"]),
            request.get("pyc_cache"))
    modules = []
    for name, module in sorted(finder.modules.items()):
        modules.append({"name": name, "file": module.__file__, "package": module.__path__ is not None})
    missing = {}
    for name, importers in finder.badmodules.items():
        missing[name] = sorted(k for k in importers if k != "-")
    return {"modules": modules, "missing": missing, "errors": finder.syntax_errors, "skipped": finder.skipped,
            "builtins": builtin_imports(finder.modules.values(), request["stdlib"], request.get("pyc_cache")),
            "unresolved": unresolved_imports(finder, request["stdlib"], reached),
            "extension_suffixes": importlib.machinery.EXTENSION_SUFFIXES,
            "foreign_extensions": foreign_extensions(finder, request["path"])}


def _import_quietly(finder, name):
    try:
        finder.import_hook(name)
    except Exception:  # noqa: BLE001 - a module that cannot be scanned is simply not embedded
        pass


def _distribution_siblings(paths):
    """Top-level name -> the other top-level modules its distribution installs (from dist-info RECORD):
    native code imports them where no scan can see it (mypyc's shared `<hash>__mypyc` module)."""
    siblings = {}
    for base in paths:
        if not os.path.isdir(base):
            continue
        for entry in sorted(os.listdir(base)):
            record = os.path.join(base, entry, "RECORD")
            if not entry.endswith(".dist-info") or not os.path.isfile(record):
                continue
            tops = set()
            with open(record, encoding="utf-8", errors="replace") as f:
                for line in f:
                    first = line.split(",")[0].split("/")[0]
                    name = first.split(".")[0]
                    if name.isidentifier() and not first.endswith((".dist-info", ".data", ".pth")):
                        tops.add(name)
            for top in tops:
                siblings.setdefault(top, set()).update(tops - {top})
    return siblings


def _follow(finder, stdlib, whole_packages, siblings, pyc_cache):
    """Until nothing new appears: the stdlib's run-time imports of what is reached, the codecs named by
    third-party code, and (`whole_packages`) every module of each third-party package reached and the
    other top-level modules of its distribution."""
    done_packages, done_runtime, done_codecs, done_native = set(), set(), set(), set()
    while True:
        before = len(finder.modules)
        for name, module in sorted(finder.modules.items()):
            if name not in done_native and (module.__file__ or "").endswith(".so"):
                done_native.add(name)
                _scan_native_source(finder, module)
        for name in sorted(set(finder.modules) - done_runtime):
            done_runtime.add(name)
            for extra in RUNTIME_IMPORTS.get(name, ()):
                _import_quietly(finder, extra)
        for name, (function, extras) in NAMED_RUNTIME_IMPORTS.items():
            if name in finder.modules and function in finder.names_used:
                for extra in extras:
                    _import_quietly(finder, extra)
        not_stdlib = {n: m for n, m in finder.modules.items() if m.__file__ and not m.__file__.startswith(stdlib)}
        third_party = {n: m for n, m in not_stdlib.items() if n != "__main__"}
        for name in sorted(set(not_stdlib) - done_codecs):
            done_codecs.add(name)
            codecs, imported = _names_in_code(not_stdlib[name].__file__, pyc_cache)
            for codec in codecs:
                _import_quietly(finder, "encodings." + codec)
            for module in imported:
                _import_quietly(finder, module)
        if whole_packages:
            for top in sorted({n.split(".")[0] for n in third_party} - done_packages):
                done_packages.add(top)
                for sibling in sorted(siblings.get(top, ())):
                    _import_quietly(finder, sibling)
                package = finder.modules.get(top)
                if package is not None and package.__path__:
                    finder.package_phase = True
                    try:
                        for name in _package_modules(top, package.__path__):
                            if name not in finder.modules:
                                _import_quietly(finder, name)
                    finally:
                        finder.package_phase = False
        if len(finder.modules) == before:
            return


def _scan_native_source(finder, module):
    """A compiled module (mypyc, Cython) imports at run time what its source imports: scan the source
    shipped beside it, if any."""
    folder, file = os.path.split(module.__file__)
    source = os.path.join(folder, file.split(".")[0] + ".py")
    if not os.path.isfile(source):
        return
    try:
        with open(source, "rb") as f:
            code = compile(f.read(), source, "exec", dont_inherit=True)
        finder.scan_code(code, module)
    except Exception:  # noqa: BLE001 - a source that does not compile adds nothing
        pass


def _package_modules(top, paths):
    """Every importable module below a package's folders (not tests), as dotted names."""
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    for base in paths:
        for folder, dirs, files in os.walk(base):
            rel = os.path.relpath(folder, base)
            parts = [] if rel == "." else rel.split(os.sep)
            if parts and not os.path.isfile(os.path.join(folder, "__init__.py")) and not any(
                    f.startswith("__init__.") and f.endswith(".so") for f in files):
                dirs[:] = []
                continue
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and d.isidentifier())
            for file in sorted(files):
                stem = file[:-3] if file.endswith(".py") else next(
                    (file[:-len(s)] for s in suffixes if file.endswith(s)), None)
                if stem and stem.isidentifier() and stem != "__init__":
                    yield ".".join([top, *parts, stem])
                elif stem == "__init__" and parts:
                    yield ".".join([top, *parts])


_CODEC_NAMES = None


_IMPORT_CALLS = ("import_module", "find_spec", "__import__")


def _names_in_code(path, pyc_cache):
    """What a module names as strings: codec modules (encodings.X) whose name or alias appears as a
    string constant, and modules passed by name to importlib.import_module, find_spec or __import__.
    Kept by the source's content in the scan cache."""
    if not path.endswith(".py"):
        return set(), set()
    memo = _content_memo(pyc_cache, path) + ".names.json" if pyc_cache else None
    if memo and os.path.isfile(memo):
        with open(memo) as f:
            codecs, imported = json.load(f)
        return set(codecs), set(imported)
    codecs, imported = _find_names_in_code(path)
    if memo:
        _write_memo(memo, [sorted(codecs), sorted(imported)])
    return codecs, imported


def _find_names_in_code(path):
    global _CODEC_NAMES
    if _CODEC_NAMES is None:
        folder = os.path.dirname(encodings.__file__)
        modules = {f[:-3] for f in os.listdir(folder) if f.endswith(".py") and f != "__init__.py"}
        _CODEC_NAMES = {name: name for name in modules} | {
            alias: module for alias, module in encodings.aliases.aliases.items() if module in modules}
    if not path.endswith(".py"):
        return set(), set()
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())
    except (SyntaxError, ValueError):
        return set(), set()
    codecs, imported = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 40:
            key = encodings.normalize_encoding(node.value).lower()
            if key in _CODEC_NAMES:
                codecs.add(_CODEC_NAMES[key])
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            name = node.args[0].value
            if called in _IMPORT_CALLS and isinstance(name, str) and name and not name.startswith("."):
                imported.add(name)
    return codecs, imported


def foreign_extensions(finder, paths):
    """Missing modules for which an extension file built for another Python or platform exists."""
    found = {}
    for name in finder.badmodules:
        parts = name.split(".")
        for base in paths:
            folder = os.path.join(base, *parts[:-1])
            if not os.path.isdir(folder):
                continue
            for file in sorted(os.listdir(folder)):
                if file.startswith(parts[-1] + ".") and (file.endswith(".so") or file.endswith(".pyd")):
                    found.setdefault(name, os.path.join(folder, file))
    return found


def unresolved_imports(finder, stdlib, reached):
    """Imports in third-party or app code that nothing provides: [module, file, line, where] where `where`
    is "guarded" (under a try that handles ImportError, or an `if` on the platform, the Python version or
    TYPE_CHECKING), "function" (inside a function) or "module" (runs when the module is imported)."""
    missing, _maybe = finder.any_missing_maybe()
    # `os.path`: an attribute of a plain module (not a package), not a module of its own.
    missing = {name for name in missing if not (name.rpartition(".")[0] in finder.modules
                                                and finder.modules[name.rpartition(".")[0]].__path__ is None)}
    result = []
    for importer_name, importer in sorted(finder.modules.items()):
        path = importer.__file__ or ""
        # Modules embedded only because their package was (sphinx glue in pygments) are not reported.
        if not path.endswith(".py") or path.startswith(stdlib) or importer_name not in reached:
            continue
        wanted = {name for name in missing if importer_name in finder.badmodules.get(name, {})}
        if not wanted:
            continue
        try:
            with open(path, "rb") as f:
                tree = ast.parse(f.read())
        except (SyntaxError, ValueError):
            continue
        package = importer_name if importer.__path__ else importer_name.rpartition(".")[0]
        for node, optional, in_function, conditional in _imports_in_context(tree):
            for name in _imported_names(node, package):
                if name in wanted:
                    where = "guarded" if optional or conditional else "function" if in_function else "module"
                    result.append([name, path, node.lineno, where])
    return result


def _imported_names(node, package):
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        anchor = package.split(".")
        anchor = anchor[:len(anchor) - (node.level - 1)] if node.level > 1 else anchor
        base = ".".join(anchor + ([node.module] if node.module else []))
    return [base]  # `from base import name`: name may be an attribute; only base must exist


_CONDITION_WORDS = ("platform", "version_info", "TYPE_CHECKING", "os.name", "sys.implementation", "PY2", "PY3")


def _imports_in_context(tree):
    """(import node, optional, in_function, conditional) where conditional means under an `if` on the
    platform, the Python version or TYPE_CHECKING."""
    def walk(node, optional, in_function, conditional):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, optional, in_function, conditional
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function = True
        if isinstance(node, ast.If):
            test = ast.unparse(node.test)
            cond = conditional or any(word in test for word in _CONDITION_WORDS)
            for child in [*node.body, *node.orelse]:
                yield from walk(child, optional, in_function, cond)
            return
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            guarded = optional or any(_handles_import_error(h.type) for h in node.handlers)
            for child in node.body:
                yield from walk(child, guarded, in_function, conditional)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                yield from walk(child, optional, in_function, conditional)
            return
        for child in ast.iter_child_nodes(node):
            yield from walk(child, optional, in_function, conditional)
    yield from walk(tree, False, False, False)


def builtin_imports(modules, stdlib, pyc_cache):
    """Extension modules the code imports, each "required", or "optional" when every such import sits in
    a `try` that handles ImportError. As with pure modules, imports inside stdlib functions are lazy
    and not counted; the app's own are. A stdlib module's answer is kept beside its cached .pyc."""
    found = {}
    for module in modules:
        if not (module.__file__ or "").endswith(".py"):
            continue
        in_stdlib = module.__file__.startswith(stdlib)
        memo = (os.path.join(pyc_cache, module.__file__[len(stdlib):]) if in_stdlib
                else _content_memo(pyc_cache, module.__file__)) if pyc_cache else None
        for name, optional in _module_builtin_imports(module.__file__, in_stdlib, memo):
            found[name] = "required" if not optional or found.get(name) == "required" else "optional"
    return found


def _module_builtin_imports(path, in_stdlib, memo):
    if memo and os.path.isfile(memo + ".imports.json"):
        with open(memo + ".imports.json") as f:
            return json.load(f)
    with open(path, "rb") as f:
        try:
            tree = ast.parse(f.read())
        except (SyntaxError, ValueError):
            return []
    result = []
    for node, optional, in_function, _conditional in _imports_in_context(tree):
        if in_function and in_stdlib:
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if node.module and not node.level else [])
        result += [[name, optional] for name in names if name in BUILTIN_NAMES]
    if memo:
        _write_memo(memo + ".imports.json", result)  # per process partial file: builds share this cache
    return result


def _content_memo(pyc_cache, path):
    """Where analyses of a third-party source are kept, by the source's content."""
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return os.path.join(pyc_cache + "-scan", digest[:2], digest)


def _write_memo(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.{os.getpid()}.partial"
    with open(partial, "w") as f:
        json.dump(value, f)
    os.replace(partial, path)


def _handles_import_error(kind):
    if kind is None:
        return True
    names = [e for e in kind.elts] if isinstance(kind, ast.Tuple) else [kind]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError", "Exception",
                                                    "BaseException") for n in names)


def compile_all(request):
    errors = []
    for item in request["items"]:
        with open(item["source"], "rb") as f:
            source = f.read() + item.get("epilogue", "").encode()  # appended: no line of the module moves
        try:
            code = compile(_with_prelude(source, item["prelude"]) if item.get("prelude") else source,
                           item["display_name"], "exec", dont_inherit=True, optimize=request["optimize"])
        except SyntaxError as error:
            errors.append({"file": item["source"], "line": error.lineno, "message": error.msg})
            continue
        except ValueError as error:  # e.g. null bytes in the source
            errors.append({"file": item["source"], "line": None, "message": str(error)})
            continue
        data = _code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
        os.makedirs(os.path.dirname(item["target"]), exist_ok=True)
        partial = f"{item['target']}.{os.getpid()}.partial"  # per process: builds share the pyc cache
        with open(partial, "wb") as f:
            f.write(data)
        os.replace(partial, item["target"])
    return {"errors": errors, "magic": importlib.util.MAGIC_NUMBER.hex()}


def _with_prelude(source, prelude):
    """The module's tree with `prelude` after its docstring and `from __future__` imports, on line 1,
    so every line of the program keeps its number in tracebacks."""
    tree = ast.parse(source)
    position = 0
    for position, node in enumerate(tree.body):  # noqa: B007
        is_docstring = position == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str)
        if not is_docstring and not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            break
    else:
        position = len(tree.body)
    extra = ast.parse(prelude).body
    for node in extra:
        for child in ast.walk(node):
            if "lineno" in child._attributes:
                child.lineno = child.end_lineno = 1
                child.col_offset = child.end_col_offset = 0
    tree.body[position:position] = extra
    return tree


def main():
    request = json.load(sys.stdin)
    handler = {"scan": scan, "compile": compile_all}[request["job"]]
    # Deep import chains and nested expressions recurse deeply: a big stack, and no recursion limit in
    # practice, rather than a RecursionError halfway through a real package.
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(512 * 1024 * 1024)
    result = {}
    thread = threading.Thread(target=lambda: result.update(handler(request)))
    thread.start()
    thread.join()
    if not result:
        sys.exit(1)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
