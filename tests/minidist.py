"""A miniature PBS-shaped distribution folder built from real compiler output, for gate and lowering tests.

PYTHON.json is the reconstructed 3.12 Linux sample from /work/shared/samples with `build_info` replaced:
core.objs = build/Objects/add.o (+ build/Python/asm_trampoline.o, native as in PBS), one extension `_mul`
with build/Modules/_mul.o linking the native build/lib/libnative.a, and install/lib/libpy.a, an archive of
the same bitcode objects (like PBS's libpython.a). A test program `main.c` uses all three.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

__all__ = ["SAMPLE_JSON", "MAIN_C", "make_minidist"]

SAMPLE_JSON = Path("/work/shared/samples/PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json")
SOURCES = {
    "add.c": "int relink_add(int a, int b) { return a + b; }\n",
    "_mul.c": "int relink_mul(int a, int b) { return a * b; }\n",
    "asm_trampoline.c": "int relink_trampoline(void) { return 1; }\n",
    "native.c": "int relink_native(int x) { return x - 1; }\n",
}
MAIN_C = """#include <stdio.h>
int relink_add(int, int); int relink_mul(int, int); int relink_native(int); int relink_trampoline(void);
int main(void) { printf("%d\\n", relink_native(relink_mul(relink_add(2, 3), 7)) + relink_trampoline()); return 0; }
"""  # prints 35


def _cc(command: list[str], source: Path, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*command, "-c", str(source), "-o", str(out)], check=True)
    return out


def make_minidist(
    root: Path, bitcode_cc: list[str], object_file_format: str, *, core_cc: list[str] | None = None,
) -> Path:
    """Write the distribution folder at `root` (holding python/) and return `root`.

    `bitcode_cc` compiles add.c and _mul.c (e.g. ["clang-22", "-flto=thin", "-O2"]); `core_cc`, when given,
    compiles add.c instead (to mix formats); the trampoline and libnative.a are always native gcc objects.
    """
    src = root.parent / f"{root.name}-src"
    src.mkdir(parents=True, exist_ok=True)
    for name, text in SOURCES.items():
        (src / name).write_text(text)
    python = root / "python"
    add = _cc(core_cc or bitcode_cc, src / "add.c", python / "build/Objects/add.o")
    mul = _cc(bitcode_cc, src / "_mul.c", python / "build/Modules/_mul.o")
    _cc(["gcc", "-O2", "-fPIC"], src / "asm_trampoline.c", python / "build/Python/asm_trampoline.o")
    native = _cc(["gcc", "-O2", "-fPIC"], src / "native.c", src / "native.o")
    (python / "build/lib").mkdir(parents=True)
    subprocess.run(["ar", "rcs", str(python / "build/lib/libnative.a"), str(native)], check=True)
    (python / "install/lib").mkdir(parents=True)
    subprocess.run(["llvm-ar-22", "rcs", str(python / "install/lib/libpy.a"), str(add), str(mul)], check=True)
    (python / "install/bin").mkdir(parents=True)
    (python / "install/bin/python3.12").write_text("#!/bin/sh\n")
    (python / "install/bin/python3").symlink_to("python3.12")

    document = json.loads(SAMPLE_JSON.read_text())
    build_info = document["build_info"]
    for key in ("inittab_object", "inittab_source", "inittab_cflags"):
        build_info.pop(key, None)
    build_info["object_file_format"] = object_file_format
    build_info["core"] = {
        "objs": ["build/Objects/add.o", "build/Python/asm_trampoline.o"], "links": [{"name": "m", "system": True}],
    }
    build_info["extensions"] = {"_mul": [{
        "in_core": False, "init_fn": "PyInit__mul", "objs": ["build/Modules/_mul.o"],
        "links": [{"name": "native", "path_static": "build/lib/libnative.a"}], "required": False,
        "variant": "default",
    }]}
    (python / "PYTHON.json").write_text(json.dumps(document, indent=2))
    shutil.rmtree(src)
    return root
