"""Laying out a built CPython as PBS does: `python/build/`, `python/licenses/`, `python/PYTHON.json`.

Objects are assigned to extensions exactly as makesetup assigned them (the Setup rules); every other
object of libpython goes to `core.objs` (including the inittab object, as PBS does). Libraries come from
each module's link words and their static dependencies. The metadata is then checked against the
installed interpreter: each extension listed as builtin must really be builtin, and vice versa.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import lief

from relink.distribution.srcbuild.inspect_build import make_variables, parse_link_words, read_inittab
from relink.distribution.srcbuild.libraries import LibraryResolver, ResolvedLibrary
from relink.distribution.srcbuild.setup_files import read_static_modules
from relink.distribution.srcbuild.source import SourceTarball
from relink.errors import ExitCode, RelinkError

__all__ = ["assemble_distribution"]

# PBS marks these extensions required (the interpreter cannot start without them).
REQUIRED_EXTENSIONS = frozenset({"_codecs", "_io", "_signal", "_thread", "_tracemalloc", "_weakref", "faulthandler",
                                 "posix"})
# The sysconfig variables PBS records in python_config_vars.
CONFIG_VAR_NAMES = (
    "ABIFLAGS", "BLDLIBRARY", "CC", "CCSHARED", "CONFIG_ARGS", "DESTSHARED", "EXT_SUFFIX", "INSTSONAME",
    "LDLIBRARY", "LDVERSION", "LIBPL", "LIBRARY", "LIBS", "LINKCC", "LINKFORSHARED", "LTOFLAGS", "MACHDEP",
    "MULTIARCH", "Py_DEBUG", "Py_ENABLE_SHARED", "SIZEOF_VOID_P", "SOABI", "SYSLIBS", "VERSION",
    "WITH_PYMALLOC", "abiflags", "prefix", "py_version_nodot",
)
OBJECT_DIRS = ("Objects", "Parser", "Python", "Programs", "Modules")
BUILD_FILES = ("Modules/config.c", "Modules/config.c.in", "Modules/Setup", "Modules/Setup.bootstrap",
               "Modules/Setup.stdlib", "Modules/Setup.local")
CPYTHON_LICENSES = ["Python-2.0", "CNRI-Python"]

# Asked of the installed interpreter: the facts PYTHON.json records about it.
_INTERPRETER_QUERY = r"""
import importlib.machinery as m, importlib.util, json, sys, sysconfig
scheme = sysconfig._INSTALL_SCHEMES["posix_prefix"]
print(json.dumps({
    "builtins": sorted(sys.builtin_module_names),
    "abiflags": sys.abiflags, "cache_tag": sys.implementation.cache_tag, "hexversion": sys.hexversion,
    "version_info": [str(v) for v in sys.version_info], "platform": sysconfig.get_platform(),
    "paths": sysconfig.get_paths(), "paths_abstract": {k: scheme[k] for k in sorted(scheme)},
    "config_vars": {k: v for k, v in sysconfig.get_config_vars().items()},
    "magic": importlib.util.MAGIC_NUMBER.hex(),
    "suffixes": {"bytecode": m.BYTECODE_SUFFIXES, "debug_bytecode": m.BYTECODE_SUFFIXES,
                 "extension": m.EXTENSION_SUFFIXES, "optimized_bytecode": m.BYTECODE_SUFFIXES,
                 "source": m.SOURCE_SUFFIXES},
}))
"""


def assemble_distribution(*, build_dir: Path, source: SourceTarball, stage: Path, build_options: str,
                          target_triple: str, object_file_format: str, library_dir: Path,
                          glibc_floor: tuple[int, int]) -> dict:
    root = stage / "python"
    (root / "build" / "lib").mkdir(parents=True, exist_ok=True)
    (root / "licenses").mkdir(exist_ok=True)
    _copy_build_files(build_dir, root / "build")

    modules = read_static_modules(build_dir, source.minor)
    inittab = read_inittab(build_dir / "Modules" / "config.c")
    variables = make_variables(build_dir, sorted({
        "LIBRARY_OBJS", "MODOBJS", "LIBS", "SYSLIBS", "MULTIARCH",
        *(w[2:-1] for m in modules.values() for w in m.link_words if w.startswith("$(")),
    }))
    multiarch = variables["MULTIARCH"]
    # Only the floor's libraries: what the build linked (see floor_libraries), never the system's others.
    resolver = LibraryResolver([build_dir, library_dir])
    shipped: dict[str, ResolvedLibrary] = {}

    def link_entries(words: str) -> tuple[list[dict], list[ResolvedLibrary]]:
        named = parse_link_words(words, build_dir)
        explicit = {name: path for name, path in named if path is not None}
        entries, libraries = [], []
        for name in resolver.expand([resolver.canonical_name(n) for n, _ in named]):
            library = shipped.get(name) or resolver.resolve(name, explicit.get(name))
            if library.system:
                entries.append({"name": name, "system": True})
                continue
            shipped[name] = library
            target = f"build/lib/lib{name}.a"
            if not (root / target).exists():
                shutil.copyfile(library.archive, root / target)
            entries.append({"name": name, "path_static": target})
            libraries.append(library)
        return entries, libraries

    extensions: dict[str, list[dict]] = {}
    extension_objs: set[str] = set()
    for row in inittab:
        entry: dict = {"in_core": row.fixed, "init_fn": row.init_fn, "links": [], "objs": [],
                       "required": row.name in REQUIRED_EXTENSIONS, "variant": "default"}
        if not row.fixed:
            module = modules.get(row.name)
            if module is None:
                raise RelinkError(f"{build_dir}/Modules/config.c lists {row.name}, but no Setup rule builds it",
                                  ExitCode.INTERNAL)
            entry["objs"] = [f"build/{obj}" for obj in module.objs]
            extension_objs.update(module.objs)
            words = " ".join(variables.get(w[2:-1], "") if w.startswith("$(") else w for w in module.link_words)
            entry["links"], libraries = link_entries(words)
            if libraries:
                entry.update(_license_fields(libraries))
        extensions[row.name] = [dict(sorted(entry.items()))]

    core_objs = [f"build/{o}" for o in variables["LIBRARY_OBJS"].split() if o not in extension_objs]
    core_links, _ = link_entries(f"{variables['LIBS']} {variables['SYSLIBS']}")
    _write_licenses(root / "licenses", source, build_dir, shipped.values())
    facts = _ask_interpreter(root)
    _check_builtins(extensions, facts["builtins"])

    version = facts["version_info"]
    minor_version = f"{version[0]}.{version[1]}"
    paths = {k: Path(v).relative_to(root).as_posix() for k, v in sorted(facts["paths"].items())}
    config_vars = facts["config_vars"]
    static_lib = f"install/lib/python{minor_version}/config-{minor_version}-{multiarch}/{config_vars['LIBRARY']}"
    (root / "build" / "run_tests.py").write_text(_RUN_TESTS)
    metadata = {
        "version": "8",
        "target_triple": target_triple,
        "build_options": build_options,
        "optimizations": build_options,
        "python_tag": f"cp{version[0]}{version[1]}",
        "python_abi_tag": facts["abiflags"],
        "python_platform_tag": facts["platform"],
        "python_implementation_name": "cpython",
        "python_implementation_cache_tag": facts["cache_tag"],
        "python_implementation_hex_version": facts["hexversion"],
        "python_implementation_version": version,
        "python_version": source.version,
        "python_major_minor_version": minor_version,
        "python_paths": paths,
        "python_paths_abstract": facts["paths_abstract"],
        "python_config_vars": {k: str(config_vars[k]) for k in CONFIG_VAR_NAMES if k in config_vars},
        "python_exe": f"install/bin/python{minor_version}",
        "python_stdlib_platform_config": Path(static_lib).parent.as_posix(),
        "python_stdlib_test_packages": _test_packages(root / paths["stdlib"]),
        "python_suffixes": facts["suffixes"],
        "python_bytecode_magic_number": facts["magic"],
        "python_symbol_visibility": "global-default",
        "python_extension_module_loading": ["builtin", "shared-library"],
        "libpython_link_mode": "static",
        "crt_features": ["glibc-dynamic", f"glibc-max-symbol-version:"
                         f"{_glibc_floor(root / 'install/bin' / f'python{minor_version}', glibc_floor)}"],
        "run_tests": "build/run_tests.py",
        "build_info": {
            "core": {"objs": core_objs, "links": core_links, "static_lib": static_lib},
            "extensions": dict(sorted(extensions.items())),
            "inittab_object": "build/Modules/config.o",
            "inittab_source": "build/Modules/config.c",
            "inittab_cflags": ["-std=c11", "-DNDEBUG", "-DPy_BUILD_CORE"],
            "object_file_format": object_file_format,
        },
        "licenses": CPYTHON_LICENSES,
        "license_path": "licenses/LICENSE.cpython.txt",
    }
    metadata = dict(sorted(metadata.items()))
    _check_paths_exist(root, metadata)
    (root / "PYTHON.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def _copy_build_files(build_dir: Path, target: Path) -> None:
    for top in OBJECT_DIRS:
        for obj in sorted((build_dir / top).rglob("*.o")):
            dest = target / obj.relative_to(build_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(obj, dest)
    for rel in BUILD_FILES:
        if (build_dir / rel).is_file():
            shutil.copyfile(build_dir / rel, target / rel)


def _license_fields(libraries: list[ResolvedLibrary]) -> dict:
    spdx = sorted({s for lib in libraries for s in lib.license.spdx})
    return {
        "licenses": spdx,
        "license_paths": sorted({f"licenses/LICENSE.{lib.license.file_stem}.txt" for lib in libraries}),
        "license_public_domain": any(lib.license.public_domain for lib in libraries),
    }


def _write_licenses(target: Path, source: SourceTarball, build_dir: Path, libraries) -> None:
    shutil.copyfile(build_dir / "LICENSE", target / "LICENSE.cpython.txt")
    for library in libraries:
        dest = target / f"LICENSE.{library.license.file_stem}.txt"
        if dest.exists():
            continue
        in_tree = library.archive is not None and library.archive.is_relative_to(build_dir.resolve())
        if library.name in IN_TREE_LICENSE_TEXTS and (in_tree or library.license_text_source is None):
            # CPython's own copies (libmpdec, expat, HACL*): their text from the tree.
            dest.write_text(IN_TREE_LICENSE_TEXTS[library.name](build_dir))
        elif library.license_text_source is not None:
            shutil.copyfile(library.license_text_source, dest)
        else:
            raise RelinkError(f"no license text found for lib{library.name} ({library.archive}); refusing to ship "
                              "it without one")


def _leading_comment(path: Path) -> str:
    """The license comment a C file starts with (`/* MIT License … */`), without the comment markers."""
    text = path.read_text()
    body = text[text.index("/*") + 2:text.index("*/")]
    return "\n".join(line.strip().removeprefix("*").removeprefix(" ") for line in body.splitlines()).strip() + "\n"


def _rst_section(text: str, title: str) -> str:
    """The body of the reStructuredText section titled `title` (up to the next section heading)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == title and i + 1 < len(lines)
                 and re.fullmatch(r"[-=~^\"']{3,}", lines[i + 1].strip()))
    body = []
    for i in range(start + 2, len(lines)):
        if i + 1 < len(lines) and lines[i].strip() and re.fullmatch(r"[-=~^\"']{3,}", lines[i + 1].strip()):
            break
        body.append(lines[i])
    return f"{title}\n\n" + "\n".join(body).strip() + "\n"


def _ask_interpreter(root: Path) -> dict:
    python = root / "install" / "bin" / "python3"
    result = subprocess.run([str(python), "-I", "-c", _INTERPRETER_QUERY], capture_output=True, text=True)
    if result.returncode != 0:
        raise RelinkError(f"{python} does not run: {result.stderr.strip()[-300:]}", ExitCode.BUILD_FAILED)
    return json.loads(result.stdout)


def _check_builtins(extensions: dict, builtins: list[str]) -> None:
    listed, real = set(extensions), set(builtins)
    if listed != real:
        raise RelinkError(
            f"metadata disagrees with the built interpreter: listed but not builtin {sorted(listed - real)}, "
            f"builtin but not listed {sorted(real - listed)}", ExitCode.INTERNAL)


def _check_paths_exist(root: Path, metadata: dict) -> None:
    info = metadata["build_info"]
    paths = [*info["core"]["objs"], info["core"]["static_lib"], info["inittab_object"], info["inittab_source"],
             metadata["license_path"], metadata["python_exe"]]
    for variants in info["extensions"].values():
        for variant in variants:
            paths += variant["objs"] + variant.get("license_paths", [])
            paths += [link["path_static"] for link in variant["links"] if "path_static" in link]
    missing = sorted({p for p in paths if not (root / p).exists()})
    if missing:
        raise RelinkError(f"PYTHON.json names {len(missing)} missing files, e.g. {missing[:3]}", ExitCode.INTERNAL)


def _test_packages(stdlib: Path) -> list[str]:
    found = []
    for init in stdlib.rglob("__init__.py"):
        package = init.parent.relative_to(stdlib)
        if package.parts[0] == "site-packages":
            continue
        if package.name in ("test", "tests", "idle_test"):
            found.append(".".join(package.parts))
    return sorted(found)


def _glibc_floor(executable: Path, floor: tuple[int, int]) -> str:
    """The floor the build was linked for, after checking the interpreter (which links every core object and
    builtin extension with the shipped libraries) needs nothing newer."""
    needed = _max_glibc(executable)
    if tuple(int(p) for p in needed.split(".")) > floor:
        raise RelinkError(f"{executable} needs GLIBC_{needed}, newer than the build's floor "
                          f"{'.'.join(map(str, floor))}", ExitCode.INTERNAL)
    return ".".join(map(str, floor))


def _max_glibc(executable: Path) -> str:
    binary = lief.parse(str(executable))
    versions = []
    for requirement in binary.symbols_version_requirement:
        for aux in requirement.get_auxiliary_symbols():
            match = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?", aux.name)
            if match:
                versions.append(tuple(int(g or 0) for g in match.groups()))
    if not versions:
        raise RelinkError(f"{executable}: no GLIBC symbol versions found", ExitCode.INTERNAL)
    best = max(versions)
    return ".".join(str(v) for v in (best if best[2] else best[:2]))


# License texts of libraries CPython builds from its own tree (no Debian package to take them from).
IN_TREE_LICENSE_TEXTS = {
    "mpdec": lambda build_dir: _rst_section((build_dir / "Doc" / "license.rst").read_text(), "libmpdec"),
    "expat": lambda build_dir: (build_dir / "Modules" / "expat" / "COPYING").read_text(),
    "Hacl_Hash_SHA2": lambda build_dir: _leading_comment(build_dir / "Modules" / "_hacl" / "Hacl_Hash_SHA2.c"),
}

_RUN_TESTS = '''"""Runs CPython's regression tests with the distribution's interpreter (the tests that were installed)."""
import subprocess
import sys
from pathlib import Path

python = Path(__file__).resolve().parents[1] / "install" / "bin" / "python3"
sys.exit(subprocess.call([str(python), "-m", "test", *sys.argv[1:]]))
'''
