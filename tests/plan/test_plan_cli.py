"""`relink plan`, `relink generate` and `relink link-args` from the command line on the PYTHON.json samples:
bad selections are one line with exit code 2, --json prints the plan, generation is atomic and refuses
to overwrite a folder it did not write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relink.cli import build_parser, main
from relink.plan.model import LinkPlan

LINUX = "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("spec", "message"), [
    ("minmal", "unknown preset or extension 'minmal' (did you mean 'minimal'?)"),
    ("minimal,+_jsn", "unknown extension '_jsn' (did you mean '_json'?)"),
    ("minimal,+zlib,-zlib", "contradictory edits in --extensions: both +zlib and -zlib"),
    ("minimal,+zlib:static", "extension 'zlib' has no variant 'static' (it has: default)"),
    ("default,-_io", "cannot remove '_io': it is required by the interpreter"),
])
def test_bad_selection_is_one_line_exit_2(capsys, samples_dir: Path, spec: str, message: str) -> None:
    code, out, err = _run(capsys, "plan", str(samples_dir / LINUX), "--extensions", spec)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("relink: error: ") and message in err


def test_plan_text_and_json(capsys, samples_dir: Path) -> None:
    code, out, _ = _run(capsys, "plan", str(samples_dir / LINUX), "--extensions", "minimal,+zlib")
    assert code == 0
    assert "33 built-in modules:" not in out and "32 built-in modules:" in out
    assert "  zlib " in out and "+zlib" in out and "static    z build/lib/libz.a  (zlib)" in out
    code, out, _ = _run(capsys, "plan", str(samples_dir / LINUX), "--extensions", "minimal,+zlib", "--json")
    plan = LinkPlan.from_json(json.loads(out))
    assert "zlib" in plan.extension_names and plan.extensions_spec == "minimal,+zlib"


def test_help_defines_the_filters() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    text = subparsers.choices["plan"].format_help()
    assert "ANY copyleft license" in text and "(AND)" in text and "OS baseline" in text
    assert "a selection that cannot be satisfied exits 2" in text


def test_generate_json_is_atomic_and_replaces_only_its_own_output(capsys, samples_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = _run(capsys, "generate", str(samples_dir / LINUX), "-o", str(out_dir), "--format", "json",
                        "--format", "cmake")
    assert code == 0 and out.strip() == str(out_dir)
    assert sorted(p.name for p in out_dir.iterdir()) == [
        ".relink-generated.json", "CMakeLists.txt", "config.c", "main.c", "plan.json"]
    first = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    # Regenerating over an earlier output replaces it, byte-identically, leaving no temporary folders.
    assert _run(capsys, "generate", str(samples_dir / LINUX), "-o", str(out_dir), "--format", "cmake")[0] == 0
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # A folder relink did not write is never overwritten.
    foreign = tmp_path / "src"
    foreign.mkdir()
    (foreign / "main.rs").write_text("fn main() {}\n")
    code, _, err = _run(capsys, "generate", str(samples_dir / LINUX), "-o", str(foreign))
    assert code == 3 and "is not an earlier relink output" in err
    assert [p.name for p in foreign.iterdir()] == ["main.rs"]


def test_generate_bad_selection_writes_nothing(capsys, samples_dir: Path, tmp_path: Path) -> None:
    code, _, _ = _run(capsys, "generate", str(samples_dir / LINUX), "-o", str(tmp_path / "out"),
                      "--extensions", "none,+nope")
    assert code == 2 and list(tmp_path.iterdir()) == []
