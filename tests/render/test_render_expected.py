"""Generated files for the two PYTHON.json samples against reviewed copies in tests/render/expected/, and the
same inputs giving byte-identical outputs. Set RELINK_REGENERATE_EXPECTED=1 to rewrite the copies (then
review the diff line by line before committing)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from relink.distribution.opener import open_distribution
from relink.plan.selection import make_plan
from relink.render.files import render_files, render_main_c

EXPECTED = Path(__file__).resolve().parent / "expected"
PYTHON_DIR = "/opt/pbs/python"
TOOLCHAIN = "/opt/relink/toolchain/clang.cmake"
INITTAB_OBJECT = "/opt/out/config.o"

CASES = {
    "linux-3.12-minimal": (
        "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json", "minimal,+_json,+zlib,-readline", {}),
    "linux-3.12-default-export": (
        "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json", "default,-_tkinter",
        {"no_copyleft": True, "export_dynamic": True}),
    "windows-3.11-default": ("PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json", "default,+_sqlite3", {}),
}


def _render(samples_dir: Path, case: str) -> dict[str, str]:
    sample, spec, options = CASES[case]
    plan = make_plan(open_distribution(samples_dir / sample), spec, **options)
    return render_files(
        plan, PYTHON_DIR, ["all"], name="app", toolchain_file=TOOLCHAIN, inittab_object=INITTAB_OBJECT,
        library_dir="/opt/out")


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_files_match_reviewed_copies(samples_dir: Path, case: str) -> None:
    files = _render(samples_dir, case)
    folder = EXPECTED / case
    if os.environ.get("RELINK_REGENERATE_EXPECTED"):
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8", newline="\n")
    assert sorted(files) == sorted(p.name for p in folder.iterdir())
    for name, text in files.items():
        assert (folder / name).read_text(encoding="utf-8") == text, f"{case}/{name} differs"


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_inputs_give_byte_identical_outputs(samples_dir: Path, case: str) -> None:
    assert _render(samples_dir, case) == _render(samples_dir, case)


def test_launcher_variables(samples_dir: Path) -> None:
    plan = make_plan(open_distribution(samples_dir / CASES["linux-3.12-minimal"][0]), "minimal")
    text = render_main_c(plan, use_environment=False, site_import=False, module_search_paths=["/app.zip"])
    assert "config.use_environment = 0;" in text and "config.site_import = 0;" in text
    assert "config.module_search_paths_set = 1;" in text
    assert 'PyWideStringList_Append(&config.module_search_paths, L"/app.zip");' in text
    assert "module_search_paths_set" not in render_main_c(plan)
