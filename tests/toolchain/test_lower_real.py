"""Lowering the real ThinLTO CPython distribution, then embedding it with gcc + GNU ld and with clang-19.

Lowering the whole distribution compiles ~230 bitcode objects (about a minute on 2 cores); like the
archive fixture it goes into the user's normal cache, so it happens once per machine.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from relink.distribution.opener import open_distribution
from relink.toolchain.gate import OK, run_gate
from relink.toolchain.lower import lower_distribution
from relink.toolchain.objects import ELF, sniff_file

pytestmark = pytest.mark.slow

EMBED_C = """#include <Python.h>
int main(void) {
    Py_Initialize();
    int rc = PyRun_SimpleString("import sys, json, math; print(json.dumps([sys.version_info[:2], math.factorial(5)]))");
    Py_Finalize();
    return rc;
}
"""


@pytest.fixture(scope="module")
def lowered_root(lto_archive: Path) -> Path:
    return lower_distribution(lto_archive)


def test_lowered_real_distribution_is_native(lowered_root: Path, lto_archive: Path) -> None:
    derived = open_distribution(lowered_root)
    assert derived.metadata.build_info.object_file_format.raw == "elf"
    core = derived.metadata.build_info.core.objs
    assert core == open_distribution(lto_archive).metadata.build_info.core.objs
    assert all(sniff_file(derived.path(rel)).format == ELF for rel in core)
    report = run_gate(derived, cc="gcc", linker="ld")
    assert report.verdict == OK and report.survey.effective_format == "elf"
    assert report.survey.disagreements == []


@pytest.mark.parametrize("cc", ["gcc", "clang-19"])
def test_embed_lowered_libpython_and_run(lowered_root: Path, tmp_path: Path, cc: str) -> None:
    derived = open_distribution(lowered_root)
    metadata = derived.metadata
    python = lowered_root / "python"
    libpython = python / metadata.python_stdlib_platform_config / metadata.python_config_vars["LIBRARY"]
    static, system = [], []
    for link in [*metadata.build_info.core.links, *(l for v in metadata.build_info.variants() for l in v.links)]:
        if link.kind == "static" and link.path:
            static.append(str(python / link.path))
        elif link.kind == "system":
            system.append(f"-l{link.name}")
    source = tmp_path / "embed.c"
    source.write_text(EMBED_C)
    exe = tmp_path / f"embed-{cc}"
    include = python / metadata.python_paths["include"]
    subprocess.run(
        [cc, str(source), f"-I{include}", "-o", str(exe), str(libpython), "-Wl,--start-group",
         *dict.fromkeys(static), "-Wl,--end-group", *dict.fromkeys(system), "-lm", "-ldl", "-lpthread", "-lutil"],
        check=True,
    )
    env = {**os.environ, "PYTHONHOME": str(python / "install")}
    result = subprocess.run([str(exe)], check=True, capture_output=True, text=True, env=env)
    assert result.stdout == "[[3, 11], 120]\n"
