"""Runs inside a distribution's own interpreter (`install/bin/python3 -I worker.py`), never imported.

Two jobs, chosen by the JSON request on stdin, answered as JSON on stdout:
- "scan": which modules an app reaches (modulefinder over the app's folders and the distribution's stdlib);
- "compile": byte-compile sources into unchecked hash-based .pyc files, so the magic number is the
  distribution's own and the output does not depend on file timestamps.
Only the standard library of any CPython 3.11-3.14 may be used here.
"""

import ast
import importlib.util
import inspect
import json
import modulefinder
import os
import sys
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

    def load_module(self, fqname, fp, pathname, file_info):
        cached = _cached_pyc(self.pyc_cache, self.stdlib, pathname)
        try:
            if cached is not None and file_info[2] == modulefinder._PY_SOURCE:
                # The stdlib's bytecode from an earlier build: no need to compile its source again.
                with open(cached, "rb") as pyc:
                    return super().load_module(fqname, pyc, pathname, (".pyc", "rb", modulefinder._PY_COMPILED))
            return super().load_module(fqname, fp, pathname, file_info)
        except SyntaxError as error:
            self.syntax_errors.append({"file": pathname, "line": error.lineno, "message": error.msg})
            raise ImportError(f"syntax error in {pathname}") from None

    def scan_code(self, co, m):
        if not (m.__file__ or "").startswith(self.stdlib):
            return super().scan_code(co, m)
        # Same constants by index (LOAD_CONST must still find them) but function bodies blanked out,
        # so only this body's own imports and those of class bodies (run at import time) are followed.
        consts = tuple(None if isinstance(c, type(co)) and c.co_flags & inspect.CO_NEWLOCALS else c
                       for c in co.co_consts)
        super().scan_code(co.replace(co_consts=consts), m)


def _cached_pyc(pyc_cache, stdlib, pathname):
    """The cached .pyc of a stdlib source file (written by an earlier "compile" job), if there is one."""
    if not pyc_cache or not pathname or not pathname.startswith(stdlib) or not pathname.endswith(".py"):
        return None
    cached = os.path.join(pyc_cache, pathname[len(stdlib):] + "c")
    return cached if os.path.isfile(cached) else None


# The extension modules that can be builtin: this interpreter's, or the distribution's when another
# interpreter scans for it.
BUILTIN_NAMES = set(sys.builtin_module_names)


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
    modules = []
    for name, module in sorted(finder.modules.items()):
        modules.append({"name": name, "file": module.__file__, "package": module.__path__ is not None})
    missing = {}
    for name, importers in finder.badmodules.items():
        missing[name] = sorted(k for k in importers if k != "-")
    return {"modules": modules, "missing": missing, "errors": finder.syntax_errors,
            "builtins": builtin_imports(finder.modules.values(), request["stdlib"], request.get("pyc_cache"))}


def builtin_imports(modules, stdlib, pyc_cache):
    """Extension modules the code imports, each "required", or "optional" when every such import sits in
    a `try` that handles ImportError. As with pure modules, imports inside stdlib functions are lazy
    and not counted; the app's own are. A stdlib module's answer is kept beside its cached .pyc."""
    found = {}
    for module in modules:
        if not (module.__file__ or "").endswith(".py"):
            continue
        in_stdlib = module.__file__.startswith(stdlib)
        for name, optional in _module_builtin_imports(module.__file__, in_stdlib, pyc_cache and in_stdlib and
                                                      os.path.join(pyc_cache, module.__file__[len(stdlib):])):
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
    for node, optional, in_function in _imports(tree, False, False):
        if in_function and in_stdlib:
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if node.module and not node.level else [])
        result += [[name, optional] for name in names if name in BUILTIN_NAMES]
    if memo:
        os.makedirs(os.path.dirname(memo), exist_ok=True)
        partial = f"{memo}.imports.json.{os.getpid()}.partial"  # per process: builds share this cache
        with open(partial, "w") as f:
            json.dump(result, f)
        os.replace(partial, memo + ".imports.json")
    return result


def _imports(node, optional, in_function):
    """(import node, guarded by a try that handles ImportError?, inside a function?) for every import below."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node, optional, in_function
        return
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        in_function = True
    if isinstance(node, ast.Try):
        guarded = optional or any(_handles_import_error(h.type) for h in node.handlers)
        for child in node.body:
            yield from _imports(child, guarded, in_function)
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            yield from _imports(child, optional, in_function)
        return
    for child in ast.iter_child_nodes(node):
        yield from _imports(child, optional, in_function)


def _handles_import_error(kind):
    if kind is None:
        return True
    names = [e for e in kind.elts] if isinstance(kind, ast.Tuple) else [kind]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError", "Exception")
               for n in names)


def compile_all(request):
    errors = []
    for item in request["items"]:
        with open(item["source"], "rb") as f:
            source = f.read()
        try:
            code = compile(source, item["display_name"], "exec", dont_inherit=True, optimize=request["optimize"])
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


def main():
    request = json.load(sys.stdin)
    handler = {"scan": scan, "compile": compile_all}[request["job"]]
    json.dump(handler(request), sys.stdout)


if __name__ == "__main__":
    main()
